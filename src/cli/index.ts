// The CLI boundary: yargs turns argv into a command call; errors become one line and an exit code
// here and nowhere else.
import type { Argv } from "yargs";
import pkg from "../../package.json" with { type: "json" };
import { isTerminal } from "../terminal.ts";
import { fdWriter } from "./output.ts";
import type { CommandSpec, Io } from "./command.ts";
import { run, RUN_BOOLEAN_FLAGS, CREATE_BOOLEAN_FLAGS } from "./commands/run.ts";
// ── create / start / exec (branch monitor) ──
import { create } from "./commands/create.ts";
import { exec, EXEC_BOOLEAN_FLAGS } from "./commands/exec.ts";
import { start } from "./commands/start.ts";
import { parseRunArgs } from "./run-args.ts";
import { splitRunArgs } from "./split.ts";

export const VERSION: string = pkg.version;

/** Docker's exit codes: 125 when the command line itself is wrong, 1 when a command fails. */
export const EXIT_USAGE = 125;
export const EXIT_FAILURE = 1;

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

/** The verb yargs chose and the arguments it parsed for it. */
export interface ParsedCommand {
  spec: CommandSpec;
  argv: Record<string, unknown>;
}

/** Thrown by a command's yargs handler to leave parsing with the command chosen. */
const DISPATCH = Symbol("dispatch");

/**
 * yargs' reading of `args`: the command and its argv, or undefined when yargs answered by itself
 * (--help, --version). Usage errors throw UsageError.
 */
export async function parseWithYargs(args: string[]): Promise<ParsedCommand | undefined> {
  // Loaded here: a plain `run` never evaluates yargs' modules (see run-args.ts).
  const [{ default: yargs }, { imageSubcommands }, { images }, { login, logout }, { pull }, { rmi }, { tag }] = await Promise.all([
    import("yargs"),
    import("./commands/image.ts"),
    import("./commands/images.ts"),
    import("./commands/login.ts"),
    import("./commands/pull.ts"),
    import("./commands/rmi.ts"),
    import("./commands/tag.ts"),
  ]);
  // ports helper: `port` (issue 5).
  const { port } = await import("./commands/port.ts");
  // yargs renders the chosen command's whole help text right after calling its handler
  // (usage.cacheHelpMessage: ~20 ms for run's options). So the handler only records the choice and
  // leaves parse by throwing; yargs has validated the arguments by then.
  let chosen: ParsedCommand | undefined;
  const register = (y: Argv, spec: CommandSpec): Argv =>
    y.command(
      spec.command,
      spec.describe,
      (b) => (spec.builder ? spec.builder(b) : b),
      (argv) => {
        chosen = { spec, argv: argv as Record<string, unknown> };
        throw DISPATCH;
      },
    );

  const cli = yargs(args)
    .scriptName("tinydock")
    .usage("Usage: tinydock [OPTIONS] COMMAND\n\nA daemonless container engine: docker run in one binary.")
    .option("debug", { alias: "D", type: "boolean", global: true, describe: "Show stack traces and debug logs" })
    .version("version", "Print version information and quit", `tinydock version ${VERSION}`)
    .help("help")
    // `-e A=1 busybox` must not swallow the image into the -e list. Docker's --no-trunc and
    // --no-stream are flags of their own, not negations of "trunc"/"stream" (branch cmds).
    .parserConfiguration({ "greedy-arrays": false, "boolean-negation": false })
    .strict()
    .demandCommand(1, "")
    .wrap(Math.min(100, (isTerminal(1) && process.stdout.columns) || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      const unknown = /^Unknown arguments?: (.*)$/.exec(msg ?? "");
      const text = unknown ? `unknown command or argument: ${unknown[1]}` : msg || "missing command";
      throw new (require("./usage.ts") as typeof import("./usage.ts")).UsageError(text);
    });

  for (const spec of [run, pull, images, rmi, tag, login, logout]) register(cli, spec);
  register(cli, port); // ports helper
  cli.command("image", "Manage images", (y) => {
    for (const spec of imageSubcommands) register(y, spec);
    return y.demandCommand(1, "");
  });
  // network (issue 5)
  const { networkSubcommands } = await import("./commands/network.ts");
  cli.command("network", "Manage networks", (y) => {
    for (const spec of networkSubcommands) register(y, spec);
    return y.demandCommand(1, "");
  });
  // end network

  // ── Container verbs (branch cmds) ──
  const [{ containerSubcommands }, { systemSubcommands }, { ps }, { inspect }, { logs }, { stop }, { kill }, { rm }, { wait }, { rename }, { top }, { stats }, { pause }, { unpause }, { cp }, { attach }] =
    await Promise.all([
      import("./commands/container.ts"),
      import("./commands/system.ts"),
      import("./commands/ps.ts"),
      import("./commands/inspect.ts"),
      import("./commands/logs.ts"),
      import("./commands/stop.ts"),
      import("./commands/kill.ts"),
      import("./commands/rm.ts"),
      import("./commands/wait.ts"),
      import("./commands/rename.ts"),
      import("./commands/top.ts"),
      import("./commands/stats.ts"),
      import("./commands/pause.ts"),
      import("./commands/unpause.ts"),
      import("./commands/cp.ts"),
      import("./commands/attach.ts"),
    ]);
  for (const spec of [ps, inspect, logs, stop, kill, rm, wait, rename, top, stats, pause, unpause, cp, attach]) register(cli, spec);
  // ── create / start / exec (branch monitor) ──
  for (const spec of [create, start, exec]) register(cli, spec);
  cli.command("container", "Manage containers", (y) => {
    for (const spec of containerSubcommands) register(y, spec);
    return y.demandCommand(1, "");
  });
  const [{ volumeSubcommands }, { version }, { info }, { history }, { restart }] = await Promise.all([
    import("./commands/volume.ts"),
    import("./commands/version.ts"),
    import("./commands/info.ts"),
    import("./commands/history.ts"),
    import("./commands/restart.ts"),
  ]);
  for (const spec of [version, info, history, restart]) register(cli, spec);
  cli.command("volume", "Manage volumes", (y) => {
    for (const spec of volumeSubcommands) register(y, spec);
    return y.demandCommand(1, "");
  });
  cli.command("system", "Manage tinydock", (y) => {
    for (const spec of systemSubcommands) register(y, spec);
    return y.demandCommand(1, "");
  });

  try {
    await cli.parseAsync();
  } catch (err) {
    if (err !== DISPATCH) throw err;
  }
  return chosen;
}

export async function runCli(args0: string[], io: Io = defaultIo()): Promise<number> {
  // `container run|create|exec …` is the verb itself: its command is split off the same way.
  const verbAt = args0.findIndex((a) => !a.startsWith("-"));
  const args =
    verbAt >= 0 && args0[verbAt] === "container" && ["run", "create", "exec"].includes(args0[verbAt + 1] ?? "") ? [...args0.slice(0, verbAt), ...args0.slice(verbAt + 1)] : args0;
  const debug = args.includes("--debug") || args.includes("-D");
  // The container's command is not ours to parse (`run busybox ls -la`).
  const split = splitRunArgs(args, "run", RUN_BOOLEAN_FLAGS);
  // The same for `create IMAGE COMMAND...` and `exec CONTAINER COMMAND...` (branch monitor).
  const splitOther = split ? null : (splitRunArgs(args, "create", CREATE_BOOLEAN_FLAGS) ?? splitRunArgs(args, "exec", EXEC_BOOLEAN_FLAGS));
  // yargs' answer to a lone --version, without yargs.
  if (args.length === 1 && args[0] === "--version") {
    io.out(`tinydock version ${VERSION}\n`);
    return 0;
  }
  try {
    const fast = split && parseRunArgs(split.head);
    // `ps` without yargs too (branch cmds): see ps-args.ts.
    const psFast = !fast && args[0] === "ps" ? (await import("./ps-args.ts")).parsePsArgs(args) : null;
    // `info`/`version` with at most --format: without yargs too (CI polls `info` for readiness).
    const infoFast = !fast && !psFast && (args[0] === "info" || args[0] === "version") ? (await import("./format-args.ts")).parseFormatOnlyArgs(args, args[0]) : null;
    const volumeLsFast = !fast && !psFast && args[0] === "volume" ? (await import("./format-args.ts")).parseVolumeLsArgs(args) : null;
    const chosen = fast
      ? { spec: run, argv: fast }
      : psFast
        ? { spec: (await import("./commands/ps.ts")).ps, argv: psFast }
        : infoFast
          ? { spec: args[0] === "info" ? (await import("./commands/info.ts")).info : (await import("./commands/version.ts")).version, argv: infoFast }
          : volumeLsFast
            ? { spec: (await import("./commands/volume.ts")).volumeLs, argv: volumeLsFast }
            : await parseWithYargs(split ? split.head : splitOther ? splitOther.head : args);
    if (!chosen) return 0;
    const { createContext } = await import("../context.ts");
    const ctx = createContext({ debug });
    if (split && chosen.spec === run) chosen.argv.command = split.rest;
    if (splitOther && (chosen.spec === create || chosen.spec === exec)) chosen.argv.command = splitOther.rest;
    return (await chosen.spec.run(ctx, chosen.argv, io)) ?? 0;
  } catch (err) {
    const { describeError } = await import("../errors.ts");
    const { UsageError } = await import("./usage.ts");
    if (err instanceof UsageError) {
      if (err.message) io.err(`Error: ${err.message}\n`);
      io.err(`See 'tinydock ${args.find((a) => !a.startsWith("-")) ?? ""} --help'.\n`.replace(/ +--help/, " --help"));
      return EXIT_USAGE;
    }
    io.err(`Error: ${describeError(err)}\n`);
    if (debug && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
    return EXIT_FAILURE;
  }
}
