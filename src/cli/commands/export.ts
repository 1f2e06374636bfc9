import type { CommandSpec } from "../command.ts";

export const exportCmd: CommandSpec = {
  command: "export <container>",
  describe: "Export a container's filesystem as a tar archive (streamed to STDOUT by default)",
  builder: (y) =>
    y
      .positional("container", { type: "string", describe: "CONTAINER" })
      .option("output", { alias: "o", type: "string", describe: "Write to a file, instead of STDOUT" }),
  async run(ctx, argv, io) {
    const { exportContainer } = await import("../../lifecycle/export.ts");
    const { writeArchive } = await import("../output.ts");
    const { constants } = await import("node:os");
    const output = typeof argv.output === "string" ? argv.output : undefined;
    // Ctrl-C (or a kill) stops it between pieces, so the mount and a half -o file are cleaned up,
    // then the exit is the signal's, as a killed `docker export`'s; a reader that went away
    // (`| head`) ends it quietly, as SIGPIPE ends Docker's.
    const abort = new AbortController();
    let stoppedBy: NodeJS.Signals | undefined;
    const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => [s, () => ((stoppedBy = s), abort.abort())] as const);
    for (const [s, fn] of handlers) process.on(s, fn);
    try {
      await writeArchive(output, io.stdoutTty, (write) => exportContainer(ctx, String(argv.container), write, abort.signal));
    } catch (err) {
      if (stoppedBy) return 128 + constants.signals[stoppedBy];
      if ((err as NodeJS.ErrnoException).code === "EPIPE") return 128 + constants.signals.SIGPIPE;
      throw err;
    } finally {
      for (const [s, fn] of handlers) process.off(s, fn);
    }
  },
};
