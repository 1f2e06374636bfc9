// The CLI boundary: argv becomes one verb's CommandSpec and its arguments, the verb runs, and a
// failure becomes one line and an exit code (exit.ts). Verbs load only when chosen; a plain `run`
// or `ps` never loads yargs (run-args.ts, ps-args.ts), and `--version` loads nothing.
import type { Argv } from "yargs";
import pkg from "../../package.json" with { type: "json" };
import { isTerminal } from "../terminal.ts";
import type { CommandSpec, Io } from "./command.ts";
import { fdWriter } from "./output.ts";

export const VERSION: string = pkg.version;

type Load = () => Promise<CommandSpec>;

/** The verbs, in --help order. */
export const VERBS: Readonly<Record<string, Load>> = {
  run: async () => (await import("./commands/run.ts")).run,
  create: async () => (await import("./commands/create.ts")).create,
  start: async () => (await import("./commands/start.ts")).start,
  exec: async () => (await import("./commands/exec.ts")).exec,
  ps: async () => (await import("./commands/ps.ts")).ps,
  inspect: async () => (await import("./commands/inspect.ts")).inspect,
  logs: async () => (await import("./commands/logs.ts")).logs,
  attach: async () => (await import("./commands/attach.ts")).attach,
  stop: async () => (await import("./commands/stop.ts")).stop,
  kill: async () => (await import("./commands/kill.ts")).kill,
  wait: async () => (await import("./commands/wait.ts")).wait,
  rm: async () => (await import("./commands/rm.ts")).rm,
  rename: async () => (await import("./commands/rename.ts")).rename,
  pause: async () => (await import("./commands/pause.ts")).pause,
  unpause: async () => (await import("./commands/unpause.ts")).unpause,
  top: async () => (await import("./commands/top.ts")).top,
  stats: async () => (await import("./commands/stats.ts")).stats,
  port: async () => (await import("./commands/port.ts")).port,
  cp: async () => (await import("./commands/cp.ts")).cp,
  pull: async () => (await import("./commands/pull.ts")).pull,
  push: async () => (await import("./commands/push.ts")).push,
  save: async () => (await import("./commands/save.ts")).save,
  load: async () => (await import("./commands/load.ts")).load,
  export: async () => (await import("./commands/export.ts")).exportCmd,
  import: async () => (await import("./commands/import.ts")).importCmd,
  images: async () => (await import("./commands/images.ts")).images,
  rmi: async () => (await import("./commands/rmi.ts")).rmi,
  tag: async () => (await import("./commands/tag.ts")).tag,
  untag: async () => (await import("./commands/tag.ts")).untag,
  build: async () => (await import("./commands/build.ts")).build,
  commit: async () => (await import("./commands/commit.ts")).commit,
  diff: async () => (await import("./commands/diff.ts")).diff,
  update: async () => (await import("./commands/update.ts")).update,
  login: async () => (await import("./commands/login.ts")).login,
  logout: async () => (await import("./commands/login.ts")).logout,
  restart: async () => (await import("./commands/restart.ts")).restart,
  history: async () => (await import("./commands/history.ts")).history,
  version: async () => (await import("./commands/version.ts")).version,
  info: async () => (await import("./commands/info.ts")).info,
  events: async () => (await import("./commands/events.ts")).events,
};

/** Management commands: `tinydock GROUP VERB`. */
export const GROUPS: Readonly<Record<string, { describe: string; load: () => Promise<readonly CommandSpec[]> }>> = {
  container: { describe: "Manage containers", load: async () => (await import("./commands/container.ts")).containerSubcommands },
  image: { describe: "Manage images", load: async () => (await import("./commands/image.ts")).imageSubcommands },
  network: { describe: "Manage networks", load: async () => (await import("./commands/network.ts")).networkSubcommands },
  volume: { describe: "Manage volumes", load: async () => (await import("./commands/volume.ts")).volumeSubcommands },
  system: { describe: "Manage tinydock", load: async () => (await import("./commands/system.ts")).systemSubcommands },
  pod: { describe: "Manage pods", load: async () => (await import("./commands/pod.ts")).podSubcommands },
  play: { describe: "Play Kubernetes YAML", load: async () => (await import("./commands/kube.ts")).playSubcommands },
  generate: { describe: "Generate Kubernetes YAML", load: async () => (await import("./commands/kube.ts")).generateSubcommands },
  kube: { describe: "Play or generate Kubernetes YAML", load: async () => (await import("./commands/kube.ts")).kubeSubcommands },
};

/**
 * Verbs whose arguments after their first positional are the container's command (`run busybox
 * ls -la`), with their flags that take no value: yargs cannot stop at a positional inside a
 * command, so split.ts cuts the line first. Loaded with the verb: `ps` never loads run's tables.
 */
const COMMAND_TAILS: Readonly<Record<string, () => Promise<ReadonlySet<string>>>> = {
  run: async () => (await import("./commands/run.ts")).RUN_BOOLEAN_FLAGS,
  create: async () => (await import("./commands/create.ts")).CREATE_BOOLEAN_FLAGS,
  exec: async () => (await import("./commands/exec.ts")).EXEC_BOOLEAN_FLAGS,
  // `top CONTAINER -o pid,comm`: everything after the container is ps's, as in Docker.
  top: async () => new Set(["help"]),
};

function defaultIo(): Io {
  // isatty on first use, not process.stdout.isTTY: a `run` that prints nothing never builds the
  // stream objects (~9 ms) nor loads node:tty (~3.5 ms).
  return {
    out: fdWriter(1),
    err: fdWriter(2),
    get stdoutTty() {
      return isTerminal(1);
    },
    get stderrTty() {
      return isTerminal(2);
    },
    readStdin: async () => await new Response(Bun.stdin.stream()).text(),
  };
}

/** The verb chosen, the arguments parsed for it, and its path ("stop", "network create"). */
export interface ParsedCommand {
  spec: CommandSpec;
  argv: Record<string, unknown>;
  path: string;
}

/** Thrown by a command's yargs handler to leave parsing with the command chosen. */
const DISPATCH = Symbol("dispatch");

/** yargs' option tables, which its types leave out. */
const optionsOf = (y: Argv): Parameters<typeof import("./flags.ts").flagSetOf>[0] =>
  (y as unknown as { getOptions(): Parameters<typeof import("./flags.ts").flagSetOf>[0] }).getOptions();

/** The name a spec is registered by: the first word of its command string. */
const nameOf = (spec: CommandSpec): string => (Array.isArray(spec.command) ? spec.command[0]! : spec.command).split(" ")[0]!;

/**
 * yargs' reading of `args`: the command and its argv, or undefined when yargs answered by itself
 * (--help, --version). A wrong command line throws UsageError with Docker's words for it.
 */
export async function parseWithYargs(args: string[]): Promise<ParsedCommand | undefined> {
  const [{ default: yargs }, flags, { UsageError, ArgumentsError }] = await Promise.all([import("yargs"), import("./flags.ts"), import("./usage.ts")]);
  const verbAt = args.findIndex((a) => !a.startsWith("-"));
  const verb = verbAt < 0 ? undefined : args[verbAt]!;
  const globalError = flags.flagError(verbAt < 0 ? args : args.slice(0, verbAt), flags.GLOBAL_FLAGS);
  if (globalError) throw new UsageError(globalError, "");
  if (verb !== undefined && !Object.hasOwn(VERBS, verb) && !Object.hasOwn(GROUPS, verb)) {
    throw new ArgumentsError(`'${verb}' is not a tinydock command.`, "");
  }
  // Only the chosen verb's module loads; all of them only for the top-level help.
  const verbs = await Promise.all(
    Object.entries(VERBS)
      .filter(([name]) => verb === undefined || name === verb)
      .map(async ([, load]) => await load()),
  );
  const groups = await Promise.all(
    Object.entries(GROUPS)
      .filter(([name]) => verb === undefined || name === verb)
      .map(async ([name, g]) => ({ name, describe: g.describe, subcommands: verb === undefined ? [] : await g.load() })),
  );

  // What yargs entered last: the command whose flags and arity a failure is judged by.
  let at: { path: string; spec?: CommandSpec; flags: import("./flags.ts").FlagSet } = { path: "", flags: flags.GLOBAL_FLAGS };
  let chosen: ParsedCommand | undefined;
  // yargs renders the chosen command's whole help text right after calling its handler
  // (usage.cacheHelpMessage: ~20 ms for run's options). So the handler only records the choice and
  // leaves parse by throwing; yargs has validated the arguments by then.
  const register = (y: Argv, spec: CommandSpec, parent: string): Argv =>
    y.command(
      spec.command,
      spec.describe,
      (b) => {
        const built = spec.builder ? spec.builder(b) : b;
        at = { path: `${parent}${nameOf(spec)}`, spec, flags: flags.flagSetOf(optionsOf(built), flags.positionalsOf(spec.command)) };
        return built;
      },
      (argv) => {
        // yargs reads any `--bool=value` but "true" as false: pflag's reading instead.
        const given = flags.booleanFlagValues(verbAt < 0 ? [] : args.slice(verbAt + 1), at.flags, at.path);
        for (const [name, b] of given) (argv as Record<string, unknown>)[name] = b;
        flags.keepDashes(argv as Record<string, unknown>, flags.positionalsOf(spec.command), verbAt < 0 ? [] : args.slice(verbAt + 1));
        chosen = { spec, argv: flags.keepLast(argv as Record<string, unknown>, at.flags), path: at.path };
        throw DISPATCH;
      },
    );

  const cli = yargs(args)
    .scriptName("tinydock")
    .usage("Usage: tinydock [OPTIONS] COMMAND\n\nA daemonless container engine: docker run in one binary.")
    .option("debug", { alias: "D", type: "boolean", global: true, describe: "Show stack traces and debug logs" })
    .version("version", "Print version information and quit", `tinydock version ${VERSION}`)
    .help("help")
    .parserConfiguration({
      // `-e A=1 busybox` must not swallow the image into the -e list.
      "greedy-arrays": false,
      // Docker's --no-trunc and --no-stream are flags of their own, not negations.
      "boolean-negation": false,
      // Ids, names, tags and values are strings: `kill 2421588714e3` is not 2421588714000, `0123`
      // keeps its zero. Integer flags say so themselves (flags.ts intFlag).
      "parse-numbers": false,
      "parse-positional-numbers": false,
      // No `healthCmd` copy of `--health-cmd` in argv nor in error messages.
      "camel-case-expansion": false,
    })
    .strict()
    .demandCommand(1, "")
    .wrap(Math.min(100, (isTerminal(1) && process.stdout.columns) || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs rethrows what a coerce (intFlag) threw as its own YError, with the message kept.
      if (err?.name === "YError") err = new UsageError(err.message);
      if (err && !(err instanceof UsageError)) throw err;
      // pflag reads flags first: an unknown flag is the error even when yargs saw another.
      const tokens = verbAt < 0 ? [] : args.slice(verbAt + 1);
      const flagError = flags.flagError(tokens, at.flags);
      if (flagError) throw new UsageError(flagError, at.path);
      if (err) {
        (err as InstanceType<typeof UsageError>).command ??= at.path;
        throw err;
      }
      const text = msg ?? "";
      if (at.spec && /^(Not enough|Too many) non-option arguments|^Unknown arguments?:/.test(text)) {
        throw new ArgumentsError(flags.arityMessage(at.path, at.spec.args ?? flags.arityOf(at.spec.command)), at.path);
      }
      const unknown = /^Unknown arguments?: ([^,]*)/.exec(text);
      if (unknown) throw new ArgumentsError(`'${unknown[1]}' is not a tinydock${at.path ? ` ${at.path}` : ""} command.`, at.path);
      throw new UsageError(text || "missing command", at.path);
    });

  for (const spec of verbs) register(cli, spec, "");
  for (const g of groups) {
    cli.command(g.name, g.describe, (y) => {
      at = { path: g.name, flags: flags.flagSetOf(optionsOf(y)) };
      for (const spec of g.subcommands) register(y, spec, `${g.name} `);
      return y.demandCommand(1, "");
    });
  }

  try {
    await cli.parseAsync();
  } catch (err) {
    if (err !== DISPATCH) throw err;
  }
  return chosen;
}

/** The fast readers of the most common lines (no yargs); null where they are unsure. */
async function fastParse(verb: string | undefined, args: string[], tail: import("./split.ts").SplitRun | null): Promise<ParsedCommand | null> {
  if (verb === "run" && tail) {
    const argv = (await import("./run-args.ts")).parseRunArgs(tail.head);
    return argv ? { spec: await VERBS.run!(), argv, path: verb } : null;
  }
  if (verb === "ps") {
    const argv = (await import("./ps-args.ts")).parsePsArgs(args);
    return argv ? { spec: await VERBS.ps!(), argv, path: verb } : null;
  }
  // `info`/`version` with at most --format: CI scripts poll `info` for readiness.
  if (verb === "info" || verb === "version") {
    const argv = (await import("./verb-args.ts")).parseFormatOnlyArgs(args, verb);
    return argv ? { spec: await VERBS[verb]!(), argv, path: verb } : null;
  }
  if (verb === "inspect") {
    const argv = (await import("./verb-args.ts")).parseInspectArgs(args);
    return argv ? { spec: await VERBS.inspect!(), argv, path: verb } : null;
  }
  if (verb === "pod" || verb === "play" || verb === "kube") {
    const { parsePodCreateArgs, parsePlayKubeArgs, parseSyncServicesArgs } = await import("./verb-args.ts");
    const argv = verb === "pod" ? parsePodCreateArgs(args) : (parsePlayKubeArgs(args) ?? parseSyncServicesArgs(args));
    const spec = argv && (await GROUPS[verb]!.load()).find((s) => nameOf(s) === args[1]);
    return spec ? { spec, argv: argv!, path: `${verb} ${args[1]}` } : null;
  }
  if (verb === "push") {
    const argv = (await import("./verb-args.ts")).parsePushArgs(args);
    return argv ? { spec: await VERBS.push!(), argv, path: verb } : null;
  }
  if (verb === "volume") {
    const argv = (await import("./verb-args.ts")).parseVolumeLsArgs(args);
    return argv ? { spec: (await import("./commands/volume.ts")).volumeLs, argv, path: "volume ls" } : null;
  }
  return null;
}

export async function runCli(args0: string[], io: Io = defaultIo()): Promise<number> {
  // `container run|create|exec …` is the verb itself: its command is split off the same way.
  const groupAt = args0.findIndex((a) => !a.startsWith("-"));
  const grouped = groupAt >= 0 && args0[groupAt] === "container" && Object.hasOwn(COMMAND_TAILS, args0[groupAt + 1] ?? "");
  let args = grouped ? [...args0.slice(0, groupAt), ...args0.slice(groupAt + 1)] : args0;
  // `docker` and `docker network` alone print their help, exit 0.
  if (args.length === 0 || (args.length === 1 && Object.hasOwn(GROUPS, args[0]!))) args = [...args, "--help"];
  // yargs' answer to a lone --version, without yargs.
  if (args.length === 1 && args[0] === "--version") {
    io.out(`tinydock version ${VERSION}\n`);
    return 0;
  }
  const debug = args.includes("--debug") || args.includes("-D");
  let chosen: ParsedCommand | undefined;
  try {
    const verb = args.find((a) => !a.startsWith("-"));
    const tail =
      verb !== undefined && Object.hasOwn(COMMAND_TAILS, verb) ? (await import("./split.ts")).splitRunArgs(args, verb, await COMMAND_TAILS[verb]!()) : null;
    // yargs reads `container exec …` as itself, so that its errors name `container exec`.
    const head = tail ? tail.head : args;
    chosen = (await fastParse(verb, args, tail)) ?? (await parseWithYargs(grouped ? [...head.slice(0, groupAt), "container", ...head.slice(groupAt)] : head));
    if (!chosen) return 0;
    if (tail) chosen.argv.command = tail.rest;
    const { createContext } = await import("../context.ts");
    return (await chosen.spec.run(createContext({ debug }), chosen.argv, io)) ?? 0;
  } catch (err) {
    const { reportFailure } = await import("./exit.ts");
    return reportFailure(err, { command: chosen?.path ?? "", engine: chosen?.spec.engine === true, debug }, io);
  }
}
