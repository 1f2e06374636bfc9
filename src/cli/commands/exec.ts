import type { CommandSpec } from "../command.ts";
import type { TtySession } from "../../lifecycle/tty.ts";
import { list, str } from "../values.ts";

/** exec's flags that take no value: the CLI splits `CONTAINER COMMAND...` off with this. */
export const EXEC_BOOLEAN_FLAGS: ReadonlySet<string> = new Set(["detach", "d", "interactive", "i", "tty", "t", "help", "debug", "D"]);

export const exec: CommandSpec = {
  command: "exec <container> [command..]",
  args: { min: 2, max: Infinity },
  describe: "Execute a command in a running container",
  builder: (y) =>
    y
      .positional("container", { type: "string", describe: "CONTAINER" })
      .positional("command", { type: "string", array: true, describe: "COMMAND [ARG...]" })
      .option("detach", { alias: "d", type: "boolean", default: false, describe: "Detached mode: run command in the background" })
      .option("interactive", { alias: "i", type: "boolean", default: false, describe: "Keep STDIN open even if not attached" })
      .option("tty", { alias: "t", type: "boolean", default: false, describe: "Allocate a pseudo-TTY" })
      .option("env", { alias: "e", type: "string", array: true, describe: "Set environment variables" })
      .option("user", { alias: "u", type: "string", describe: "Username or UID (format: <name|uid>[:<group|gid>])" })
      .option("workdir", { alias: "w", type: "string", describe: "Working directory inside the container" }),
  async run(ctx, argv, io) {
    const [{ execCommand }, { ArgumentsError }, { parseEnvArg }, { relayStdio }, { cloexecPipe, isTerminal }, { arityMessage }] = await Promise.all([
      import("../../lifecycle/exec.ts"),
      import("../usage.ts"),
      import("../../runtime/env.ts"),
      import("../../lifecycle/stdio-relay.ts"),
      import("../../sys/ffi.ts"),
      import("../flags.ts"),
    ]);
    const args = list(argv.command);
    if (args.length === 0) throw new ArgumentsError(arityMessage((argv._ as unknown[]).map(String).join(" "), { min: 2, max: Infinity }));
    const env: string[] = [];
    for (const e of list(argv.env)) {
      const v = parseEnvArg(e, process.env);
      if (v !== null) env.push(v);
    }
    const detach = Boolean(argv.detach);
    const interactive = Boolean(argv.interactive);
    if (!detach) (await import("../../terminal.ts")).checkAttachTty(interactive, Boolean(argv.tty), isTerminal(0));
    const terminal = !detach && argv.tty ? { interactive, out: process.stdout, in: process.stdin } : undefined;
    // Without -t never the caller's terminal itself: pipes where fds 0-2 are one (stdio-relay.ts).
    const relay = detach || terminal ? undefined : relayStdio({ interactive, pipe: cloexecPipe, isTerminal });
    const stdio: [number, number, number] = relay ? relay.stdio : [-1, -1, -1];
    let tty: TtySession | undefined;
    // Ctrl-C and Ctrl-\ reach the monitor (same process group) and it forwards them: not twice.
    const ignored = (): void => {};
    const handlers: [NodeJS.Signals, () => void][] = [];
    try {
      const opts = { args, env, tty: Boolean(terminal), detach, stdio, ...(terminal ? { terminal } : {}), ...(str(argv.user) !== undefined ? { user: str(argv.user)! } : {}), ...(str(argv.workdir) !== undefined ? { workdir: str(argv.workdir)! } : {}) };
      // A command that cannot be executed throws ExecError: exit.ts gives it 126 or 127.
      const e = await execCommand(ctx, String(argv.container), opts);
      tty = e.tty;
      if (detach) return 0;
      tty?.started();
      relay?.started();
      for (const sig of ["SIGINT", "SIGQUIT"] as const) handlers.push([sig, ignored]);
      for (const sig of ["SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2"] as const) handlers.push([sig, () => e.kill(sig)]);
      for (const [sig, fn] of handlers) process.on(sig, fn);
      const { exitCode } = await e.exited;
      if (tty) await tty.finished(500);
      if (relay) await relay.finished(500);
      return exitCode;
    } finally {
      tty?.close();
      relay?.close();
      for (const [sig, fn] of handlers) process.off(sig, fn);
    }
  },
};
