// `run IMAGE COMMAND...`: everything after the image belongs to the container, flags included
// (`run busybox ls -la`). yargs cannot stop at the first positional inside a command, so the
// arguments are split here, knowing which of run's options take a value. Pure.

export interface SplitRun {
  /** What yargs parses: everything up to and including the image. */
  head: string[];
  /** The container's command and its arguments, untouched. */
  rest: string[];
}

/**
 * `booleans` are run's flags that take no value (long names and one-letter aliases). Returns null
 * when `args` is not a `run` invocation.
 */
export function splitRunArgs(args: string[], command: string, booleans: ReadonlySet<string>): SplitRun | null {
  let i = 0;
  // Global flags before the command (--debug / -D) take no value.
  while (i < args.length && args[i]!.startsWith("-")) i++;
  if (args[i] !== command) return null;
  i++;
  while (i < args.length) {
    const t = args[i]!;
    if (t === "--") {
      // `run [opts] -- IMAGE CMD...`
      const head = [...args.slice(0, i), ...args.slice(i + 1, i + 2)];
      return { head, rest: args.slice(i + 2) };
    }
    if (t.startsWith("--")) {
      const name = t.slice(2);
      i += name.includes("=") || booleans.has(name) || booleans.has(name.replace(/^no-/, "")) ? 1 : 2;
      continue;
    }
    if (t.startsWith("-") && t.length > 1) {
      let consumed = 1;
      for (let j = 1; j < t.length; j++) {
        if (booleans.has(t[j]!)) continue;
        // A value option: its value is the rest of this token, or the next token.
        if (j === t.length - 1) consumed = 2;
        break;
      }
      i += consumed;
      continue;
    }
    return { head: args.slice(0, i + 1), rest: args.slice(i + 1) };
  }
  return { head: args, rest: [] };
}
