// The CLI boundary: yargs turns argv into a command call; errors become one line and an exit code
// here and nowhere else.
import yargs, { type Argv } from "yargs";
import pkg from "../../package.json" with { type: "json" };
import type { CommandSpec, Io } from "./command.ts";
import { imageSubcommands } from "./commands/image.ts";
import { images } from "./commands/images.ts";
import { login, logout } from "./commands/login.ts";
import { pull } from "./commands/pull.ts";
import { rmi } from "./commands/rmi.ts";
import { run, RUN_BOOLEAN_FLAGS } from "./commands/run.ts";
import { splitRunArgs } from "./split.ts";
import { tag } from "./commands/tag.ts";

export const VERSION: string = pkg.version;

/** Docker's exit codes: 125 when the command line itself is wrong, 1 when a command fails. */
export const EXIT_USAGE = 125;
export const EXIT_FAILURE = 1;

function defaultIo(): Io {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    stdoutTty: Boolean(process.stdout.isTTY),
    stderrTty: Boolean(process.stderr.isTTY),
    readStdin: async () => await new Response(Bun.stdin.stream()).text(),
  };
}

export async function runCli(args: string[], io: Io = defaultIo()): Promise<number> {
  let exitCode = 0;
  const debug = args.includes("--debug") || args.includes("-D");
  const { createContext } = await import("../context.ts");

  // The container's command is not ours to parse (`run busybox ls -la`).
  const split = splitRunArgs(args, "run", RUN_BOOLEAN_FLAGS);
  const parsed = split ? split.head : args;
  const register = (y: Argv, spec: CommandSpec): Argv =>
    y.command(
      spec.command,
      spec.describe,
      (b) => (spec.builder ? spec.builder(b) : b),
      async (argv) => {
        const ctx = createContext({ debug });
        const a = argv as Record<string, unknown>;
        if (split && spec === run) a.command = split.rest;
        const code = await spec.run(ctx, a, io);
        exitCode = code ?? 0;
      },
    );

  const cli = yargs(parsed)
    .scriptName("tinydock")
    .usage("Usage: tinydock [OPTIONS] COMMAND\n\nA daemonless container engine: docker run in one binary.")
    .option("debug", { alias: "D", type: "boolean", global: true, describe: "Show stack traces and debug logs" })
    .version("version", "Print version information and quit", `tinydock version ${VERSION}`)
    .help("help")
    // `-e A=1 busybox` must not swallow the image into the -e list.
    .parserConfiguration({ "greedy-arrays": false })
    .strict()
    .demandCommand(1, "")
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      const unknown = /^Unknown arguments?: (.*)$/.exec(msg ?? "");
      const text = unknown ? `unknown command or argument: ${unknown[1]}` : msg || "missing command";
      throw new (require("./usage.ts") as typeof import("./usage.ts")).UsageError(text);
    });

  for (const spec of [run, pull, images, rmi, tag, login, logout]) register(cli, spec);
  cli.command("image", "Manage images", (y) => {
    for (const spec of imageSubcommands) register(y, spec);
    return y.demandCommand(1, "");
  });

  try {
    await cli.parseAsync();
    return exitCode;
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
