// One instruction, with the stage's state as it is at that point, → one step as data: a metadata
// change (the new config), a RUN (argv and environment), a COPY/ADD (sources, destination, owner,
// mode), a WORKDIR (the directory to make). Variables are expanded here with Docker's precedence:
// ENV over ARG. Pure.
import path from "node:path";
import { ParseError } from "../errors.ts";
import {
  cloneConfig,
  envMap,
  exposedPorts,
  parseDuration,
  resolveWorkdir,
  setEntrypoint,
  setEnv,
  shellForm,
  type BuildConfig,
  type Healthcheck,
} from "./config.ts";
import { parseJsonForm, rawPairs, splitRaw, type Instruction } from "./dockerfile.ts";
import { expandVars, expandWord, expandWords, type Lookup } from "./expand.ts";

export interface StageScope {
  config: BuildConfig;
  /** ARGs declared in the stage so far, with their values (undefined: declared, no value). */
  args: Map<string, string | undefined>;
  /** --build-arg values. */
  buildArgs: Readonly<Record<string, string>>;
  /** Values of the ARGs before the first FROM (a stage sees them only by declaring them). */
  metaArgs: ReadonlyMap<string, string | undefined>;
  escape: string;
  /** A CMD was set in this stage (then ENTRYPOINT keeps it). */
  cmdSet: boolean;
  source: string;
}

export interface CopySpec {
  add: boolean;
  sources: string[];
  dest: string;
  from?: string;
  chown?: string;
  chmod?: number;
  checksum?: string;
  workdir: string;
  /** Sources that are here-documents: the source word → the file's name and content. */
  inline?: Record<string, { name: string; content: string }>;
}

export type Step =
  | { kind: "meta"; createdBy: string; config: BuildConfig; cmdSet?: boolean }
  | { kind: "arg"; createdBy: string; name: string; value: string | undefined }
  | { kind: "run"; createdBy: string; argv: string[]; env: string[]; user?: string; workdir: string; args: [string, string][]; script?: { name: string; content: string } }
  | { kind: "copy"; createdBy: string; copy: CopySpec }
  | { kind: "workdir"; createdBy: string; config: BuildConfig; path: string };

/** What a name expands to in the stage: ENV first, then the ARGs declared. */
export function scopeLookup(s: Pick<StageScope, "config" | "args">): Lookup {
  const env = envMap(s.config);
  return (n) => (env.has(n) ? env.get(n) : s.args.get(n));
}

/** The value of ARG `name` [= default]: --build-arg, else the default, else the meta ARG's value. */
export function argValue(s: Pick<StageScope, "buildArgs" | "metaArgs">, name: string, dflt: string | undefined): string | undefined {
  if (Object.hasOwn(s.buildArgs, name)) return s.buildArgs[name];
  if (dflt !== undefined) return dflt;
  return s.metaArgs.get(name);
}

/** The ARGs with values, as RUN sees them in its environment (ENV wins on a clash). */
export function argsInEffect(s: Pick<StageScope, "args" | "config">): [string, string][] {
  const env = envMap(s.config);
  return [...s.args].filter((e): e is [string, string] => e[1] !== undefined && !env.has(e[0]));
}

/** The step of an instruction; a bad argument (an expansion, a port, a duration…) names the file and line. */
export function planStep(ins: Instruction, s: StageScope): Step {
  try {
    return planStepIn(ins, s);
  } catch (err) {
    if (!(err instanceof ParseError) || err.message.startsWith("Cannot parse Dockerfile ")) throw err;
    throw new ParseError(`Cannot parse Dockerfile "${s.source}" line ${ins.line}: ${err.message.replace(/^Cannot /, "cannot ")}`, { cause: err });
  }
}

/** Where a RUN's here-document script is mounted when it starts with #! (as BuildKit runs it). */
export const HEREDOC_SCRIPT_DIR = "/dev/pipes";

function planStepIn(ins: Instruction, s: StageScope): Step {
  const fail = (reason: string): never => {
    throw new ParseError(`Cannot parse Dockerfile "${s.source}" line ${ins.line}: ${reason}`);
  };
  const lookup = scopeLookup(s);
  const word = (t: string) => expandWord(t, lookup, s.escape);
  const words = (t: string) => expandWords(t, lookup, s.escape);
  const text = `${ins.keyword} ${ins.args}`.trim();
  const meta = (fn: (c: BuildConfig) => void, createdBy = text, cmdSet?: boolean): Step => {
    const config = cloneConfig(s.config);
    fn(config);
    return { kind: "meta", createdBy, config, ...(cmdSet !== undefined ? { cmdSet } : {}) };
  };
  const argvOf = (): string[] => (ins.json ? ins.json : shellForm(s.config, ins.args));
  switch (ins.keyword) {
    case "ENV": {
      const pairs = rawPairs("ENV", ins.args, s.escape, fail).map(([k, v]) => [k, word(v ?? "")] as const);
      return meta((c) => {
        for (const [k, v] of pairs) setEnv(c, k, v);
      }, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`);
    }
    case "LABEL": {
      const pairs = rawPairs("LABEL", ins.args, s.escape, fail).map(([k, v]) => [word(k), word(v ?? "")] as const);
      return meta((c) => {
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of pairs) c.Labels[k] = v;
      }, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`);
    }
    case "MAINTAINER":
      return meta((c) => void c, `MAINTAINER ${word(ins.args)}`);
    case "ARG": {
      const pairs = rawPairs("ARG", ins.args, s.escape, fail);
      if (pairs.length !== 1) {
        // Several ARGs in one line: each is a step of its own for the caller; here the first.
        fail("ARG takes one NAME[=DEFAULT] per line in tinydock");
      }
      const [name, dflt] = pairs[0]!;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(`invalid ARG name "${name}"`);
      const value = argValue(s, name, dflt === undefined ? undefined : word(dflt));
      return { kind: "arg", createdBy: text, name, value };
    }
    case "EXPOSE": {
      const ports = exposedPorts(words(ins.args));
      return meta((c) => {
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of ports) c.ExposedPorts[p] = {};
      }, `EXPOSE map[${ports.map((p) => `${p}:{}`).join(" ")}]`);
    }
    case "VOLUME": {
      const vols = (ins.json ?? words(ins.args)).map((v) => (ins.json ? word(v) : v));
      if (!vols.length || vols.some((v) => v === "")) fail("VOLUME specified can not be an empty string");
      return meta((c) => {
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of vols) c.Volumes[v] = {};
      }, `VOLUME [${vols.join(" ")}]`);
    }
    case "USER": {
      const user = word(ins.args);
      if (!user) fail("USER requires one argument");
      return meta((c) => void (c.User = user), `USER ${user}`);
    }
    case "STOPSIGNAL": {
      const sig = word(ins.args);
      if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/.test(sig)) fail(`invalid signal "${sig}"`);
      return meta((c) => void (c.StopSignal = sig), `STOPSIGNAL ${sig}`);
    }
    case "WORKDIR": {
      const dir = resolveWorkdir(s.config.WorkingDir, word(ins.args));
      const config = cloneConfig(s.config);
      config.WorkingDir = dir;
      return { kind: "workdir", createdBy: `WORKDIR ${dir}`, config, path: dir };
    }
    case "CMD": {
      const argv = argvOf();
      return meta((c) => void (c.Cmd = argv), `CMD ${JSON.stringify(argv)}`, true);
    }
    case "ENTRYPOINT": {
      const argv = argvOf();
      return meta((c) => setEntrypoint(c, argv.length ? argv : null, s.cmdSet), `ENTRYPOINT ${JSON.stringify(argv)}`);
    }
    case "SHELL": {
      if (!ins.json?.length) fail("SHELL requires the arguments to be in JSON form");
      return meta((c) => void (c.Shell = ins.json!), `SHELL ${JSON.stringify(ins.json)}`);
    }
    case "ONBUILD": {
      const trigger = ins.args.trim();
      const kw = trigger.split(/\s+/)[0]!.toUpperCase();
      if (kw === "ONBUILD") fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (kw === "FROM" || kw === "MAINTAINER") fail(`${kw} isn't allowed as an ONBUILD trigger`);
      return meta((c) => void (c.OnBuild = [...(c.OnBuild ?? []), trigger]), `ONBUILD ${trigger}`);
    }
    case "HEALTHCHECK": {
      const rest = ins.args.trim();
      if (/^none$/i.test(rest)) return meta((c) => void (c.Healthcheck = { Test: ["NONE"] }), "HEALTHCHECK NONE");
      const m = /^CMD\s+([\s\S]*)$/i.exec(rest);
      if (!m) fail('HEALTHCHECK requires "NONE" or "CMD" followed by a command');
      const cmdText = m![1]!.trim();
      const json = parseJsonForm(cmdText);
      const hc: Healthcheck = { Test: json ? ["CMD", ...json] : ["CMD-SHELL", cmdText] };
      const f = ins.flags;
      if (f.interval) hc.Interval = parseDuration(f.interval, "interval");
      if (f.timeout) hc.Timeout = parseDuration(f.timeout, "timeout");
      if (f["start-period"]) hc.StartPeriod = parseDuration(f["start-period"], "start-period");
      if (f["start-interval"]) hc.StartInterval = parseDuration(f["start-interval"], "start-interval");
      if (f.retries !== undefined) {
        if (!/^\d+$/.test(f.retries) || Number(f.retries) < 1) fail(`--retries must be at least 1`);
        hc.Retries = Number(f.retries);
      }
      return meta((c) => void (c.Healthcheck = hc), `HEALTHCHECK &{${JSON.stringify(hc.Test)}}`);
    }
    case "RUN": {
      if (ins.flags.mount !== undefined || ins.flags.network !== undefined || ins.flags.security !== undefined) fail("RUN --mount, --network and --security are not supported");
      let argv = argvOf();
      if (!argv.length) fail("RUN requires at least one argument");
      let script: { name: string; content: string } | undefined;
      const docs = ins.heredocs ?? [];
      if (docs.length === 1 && ins.args === docs[0]!.marker) {
        // `RUN <<EOF`: the document is the command, run by the shell, or as a script when it has #!.
        const d = docs[0]!;
        if (d.content.startsWith("#!")) {
          script = { name: d.name, content: d.content };
          argv = [path.posix.join(HEREDOC_SCRIPT_DIR, d.name)];
        } else argv = shellForm(s.config, d.content);
      } else if (docs.length) {
        // `RUN cat <<EOF > f`: the shell reads the documents it is given after the command line.
        argv = shellForm(s.config, ins.args + docs.map((d) => `\n${d.content}${d.name}`).join(""));
      }
      const args = argsInEffect(s);
      const env = [...(s.config.Env ?? []), ...args.map(([k, v]) => `${k}=${v}`)];
      const shown = ins.json ? JSON.stringify(argv) : argv.join(" ");
      const prefix = args.length ? `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(" ")} ` : "";
      return {
        kind: "run",
        createdBy: `RUN ${prefix}${shown} # buildkit`,
        argv,
        env,
        ...(s.config.User ? { user: s.config.User } : {}),
        workdir: s.config.WorkingDir || "/",
        args,
        ...(script ? { script } : {}),
      };
    }
    case "COPY":
    case "ADD": {
      const list = ins.json ? ins.json.map(word) : words(ins.args);
      if (list.length < 2) fail(`${ins.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`);
      const f = ins.flags;
      const copy: CopySpec = { add: ins.keyword === "ADD", sources: list.slice(0, -1), dest: list.at(-1)!, workdir: s.config.WorkingDir || "/" };
      for (const d of ins.heredocs ?? []) {
        // The source word as the list has it: its quotes removed.
        const source = word(d.marker);
        if (!copy.sources.includes(source)) continue;
        copy.inline ??= {};
        copy.inline[source] = { name: d.name, content: d.expand ? expandVars(d.content, lookup, s.escape) : d.content };
      }
      if (f.from !== undefined) copy.from = word(f.from);
      if (f.chown !== undefined) copy.chown = word(f.chown);
      if (f.chmod !== undefined) {
        const mode = word(f.chmod);
        if (!/^[0-7]{1,4}$/.test(mode)) fail(`invalid chmod "${mode}": only octal modes are supported`);
        copy.chmod = parseInt(mode, 8);
      }
      if (f.checksum !== undefined) {
        copy.checksum = word(f.checksum);
        if (!/^sha256:[a-f0-9]{64}$/.test(copy.checksum)) fail(`invalid checksum "${copy.checksum}": want sha256:<64 hex>`);
      }
      const flagText = Object.entries(f).map(([k, v]) => `--${k}=${v} `).join("");
      return { kind: "copy", createdBy: `${ins.keyword} ${flagText}${list.join(" ")} # buildkit`, copy };
    }
    default:
      return fail(`unknown instruction: ${ins.keyword}`);
  }
}

/** ARG lines with several names become one instruction per name (Docker allows `ARG A B=1`). */
export function splitArgInstruction(ins: Instruction, escape: string): Instruction[] {
  if (ins.keyword !== "ARG") return [ins];
  const words = splitRaw(ins.args, escape);
  return words.length <= 1 ? [ins] : words.map((w) => ({ ...ins, args: w }));
}
