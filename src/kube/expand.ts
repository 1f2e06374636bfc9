// Kubernetes' $(VAR) references (third_party/forked/golang/expansion): in a container's command,
// args and env values, $(NAME) is the value of the container's variable NAME, $$ is a literal $, and
// a reference to no variable (or never closed) stays as written. The image's ENV is not among the
// variables: the kubelet never sees it. Pure.

/** `input` with its references to `vars` replaced. */
export function expandRefs(input: string, vars: ReadonlyMap<string, string>): string {
  let out = "";
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c !== "$" || i + 1 >= input.length) {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1]!;
    if (next === "$") {
      out += "$";
      i += 2;
    } else if (next === "(") {
      const close = input.indexOf(")", i + 2);
      if (close < 0) {
        out += "$(";
        i += 2;
        continue;
      }
      const name = input.slice(i + 2, close);
      out += vars.get(name) ?? `$(${name})`;
      i = close + 1;
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}

/** What expandRefs turns back into `s`: a $ before a $ or a ( doubled. */
export function escapeRefs(s: string): string {
  return s.replace(/\$(?=[$(])/g, "$$$$");
}

/** K=V entries as the variables they define (a later one wins). */
export function varsOf(env: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of env) {
    const eq = kv.indexOf("=");
    if (eq > 0) m.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return m;
}
