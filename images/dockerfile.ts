// Dockerfile text → build steps as plain data, for images/build.ts. Pure: reads no file.
// Supports the subset our image definitions use: FROM scratch, COPY, RUN, ENV, CMD, ENTRYPOINT,
// WORKDIR, EXPOSE, LABEL, USER. Anything else is refused by name rather than half-done.
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { ParseError } from "../src/errors.ts";

export type BuildStep =
  | { kind: "copy"; line: number; text: string; sources: string[]; dest: string; chown?: string; chmod?: number }
  | { kind: "run"; line: number; text: string; argv: string[]; shell: boolean }
  | { kind: "env"; line: number; text: string; pairs: [string, string][] }
  | { kind: "label"; line: number; text: string; pairs: [string, string][] }
  | { kind: "cmd" | "entrypoint"; line: number; text: string; argv: string[] }
  | { kind: "workdir"; line: number; text: string; path: string }
  | { kind: "expose"; line: number; text: string; ports: string[] }
  | { kind: "user"; line: number; text: string; user: string };

interface JsonForm {
  getOpeningBracket(): unknown;
  getJSONStrings(): { getJSONValue(): string }[];
  getFlags(): { getName(): string; getValue(): string | null }[];
}

interface PropertyForm {
  getProperties(): { getName(): string; getValue(): string | null }[];
}

/** `$NAME` and `${NAME}` from ENV seen so far; unknown names become "" as in Docker. */
export function expandVariables(text: string, env: Map<string, string>): string {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, braced?: string, bare?: string) => {
    if (m === "\\$") return "$";
    return env.get((braced ?? bare)!) ?? "";
  });
}

const PORT_RE = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i;

export function parseDockerfile(text: string, source: string): BuildStep[] {
  const df = DockerfileParser.parse(text);
  const env = new Map<string, string>();
  const steps: BuildStep[] = [];
  let sawFrom = false;
  for (const ins of df.getInstructions()) {
    const line = (ins.getRange()?.start.line ?? 0) + 1;
    const keyword = ins.getKeyword().toUpperCase();
    const fail = (reason: string): never => {
      throw new ParseError(`Cannot parse Dockerfile "${source}" line ${line}: ${reason}`);
    };
    const raw = (ins.getArgumentsContent() ?? "").trim();
    const stepText = `${keyword} ${raw}`.trim();
    if (!sawFrom && keyword !== "FROM") fail(`${keyword} before FROM`);
    switch (keyword) {
      case "FROM": {
        if (sawFrom) fail("multi-stage builds are not supported");
        if (raw.toLowerCase() !== "scratch") fail(`FROM "${raw}": only FROM scratch is supported`);
        sawFrom = true;
        break;
      }
      case "COPY": {
        const j = ins as unknown as JsonForm;
        const flags = Object.fromEntries(j.getFlags().map((f) => [f.getName(), f.getValue() ?? ""]));
        for (const name of Object.keys(flags)) {
          if (name !== "chown" && name !== "chmod") fail(`COPY --${name} is not supported`);
        }
        const args = jsonOrWords(ins).map((a) => expandVariables(a, env));
        if (args.length < 2) fail("COPY needs a source and a destination");
        let chmod: number | undefined;
        if (flags.chmod !== undefined) {
          if (!/^[0-7]{3,4}$/.test(flags.chmod)) fail(`COPY --chmod="${flags.chmod}" is not an octal mode`);
          chmod = parseInt(flags.chmod, 8);
        }
        for (const src of args.slice(0, -1)) {
          if (src.startsWith("/") || src.split("/").includes("..")) fail(`COPY source "${src}" is outside the build context`);
        }
        steps.push({
          kind: "copy",
          line,
          text: stepText,
          sources: args.slice(0, -1),
          dest: args.at(-1)!,
          ...(flags.chown !== undefined ? { chown: flags.chown } : {}),
          ...(chmod !== undefined ? { chmod } : {}),
        });
        break;
      }
      case "RUN": {
        if (isJson(ins)) {
          const argv = jsonStrings(ins);
          if (!argv.length) fail("RUN [] has no command");
          steps.push({ kind: "run", line, text: stepText, argv, shell: false });
        } else {
          if (!raw) fail("RUN has no command");
          steps.push({ kind: "run", line, text: stepText, argv: ["/bin/sh", "-c", raw], shell: true });
        }
        break;
      }
      case "CMD":
      case "ENTRYPOINT": {
        const argv = isJson(ins) ? jsonStrings(ins) : ["/bin/sh", "-c", raw];
        steps.push({ kind: keyword === "CMD" ? "cmd" : "entrypoint", line, text: stepText, argv });
        break;
      }
      case "ENV":
      case "LABEL": {
        const props = (ins as unknown as PropertyForm).getProperties();
        if (!props.length) fail(`${keyword} needs KEY=VALUE`);
        const pairs: [string, string][] = props.map((p) => [p.getName(), expandVariables(p.getValue() ?? "", env)]);
        if (keyword === "ENV") for (const [k, v] of pairs) env.set(k, v);
        steps.push({ kind: keyword === "ENV" ? "env" : "label", line, text: stepText, pairs });
        break;
      }
      case "WORKDIR": {
        const p = expandVariables(raw, env);
        if (!p) fail("WORKDIR needs a path");
        steps.push({ kind: "workdir", line, text: stepText, path: p });
        break;
      }
      case "EXPOSE": {
        const ports = raw.split(/\s+/).filter(Boolean).map((p) => expandVariables(p, env));
        if (!ports.length) fail("EXPOSE needs a port");
        const normal = ports.map((p) => {
          const m = PORT_RE.exec(p);
          if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) fail(`EXPOSE "${p}" is not PORT[/tcp|udp|sctp]`);
          return `${Number(m![1])}/${(m![2] ?? "tcp").toLowerCase()}`;
        });
        steps.push({ kind: "expose", line, text: stepText, ports: normal });
        break;
      }
      case "USER": {
        const user = expandVariables(raw, env);
        if (!user || /\s/.test(user)) fail(`USER "${raw}" is not NAME[:GROUP]`);
        steps.push({ kind: "user", line, text: stepText, user });
        break;
      }
      default:
        fail(`${keyword} is not supported`);
    }
  }
  if (!sawFrom) throw new ParseError(`Cannot parse Dockerfile "${source}": no FROM instruction`);
  return steps;
}

function isJson(ins: Instruction): boolean {
  const j = ins as unknown as Partial<JsonForm>;
  return typeof j.getOpeningBracket === "function" && j.getOpeningBracket() !== null && (ins.getArgumentsContent() ?? "").trim().startsWith("[");
}

function jsonStrings(ins: Instruction): string[] {
  return (ins as unknown as JsonForm).getJSONStrings().map((s) => s.getJSONValue());
}

/** COPY's arguments: the JSON form, or whitespace-separated words. */
function jsonOrWords(ins: Instruction): string[] {
  if (isJson(ins)) return jsonStrings(ins);
  return (ins.getArgumentsContent() ?? "").trim().split(/\s+/).filter(Boolean);
}
