import type { CommandSpec } from "../command.ts";

export const logs: CommandSpec = {
  command: "logs <container>",
  describe: "Fetch the logs of a container",
  builder: (y) =>
    y
      .option("follow", { alias: "f", type: "boolean", default: false, describe: "Follow log output" })
      .option("tail", { alias: "n", type: "string", default: "all", describe: 'Number of lines to show from the end of the logs (default "all")' })
      .option("timestamps", { alias: "t", type: "boolean", default: false, describe: "Show timestamps" })
      .option("since", { type: "string", describe: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m")' })
      .option("until", { type: "string", describe: 'Show logs before a timestamp or relative (e.g. "42m")' })
      .option("details", { type: "boolean", default: false, describe: "Show extra details (accepted)" }),
  async run(ctx, argv, io) {
    const { findLive, rereadLive } = await import("../../lifecycle/live.ts");
    const { readLogs, followLogs, formatEntry, parseLogTime } = await import("../../lifecycle/logs.ts");
    const { containerPaths } = await import("../../store/containers.ts");
    const { ParseError } = await import("../../errors.ts");
    const c = findLive(ctx, String(argv.container));
    const { checkLogsReadable } = await import("../../lifecycle/logdriver.ts");
    checkLogsReadable(c.record);
    const tailText = String(argv.tail);
    let tail: number | undefined;
    if (tailText !== "all") {
      if (!/^-?\d+$/.test(tailText)) throw new ParseError(`Cannot parse --tail "${tailText}": not a number or "all"`);
      tail = Number(tailText);
    }
    const now = ctx.clock();
    const sel = {
      ...(tail !== undefined ? { tail } : {}),
      ...(typeof argv.since === "string" && argv.since !== "" ? { sinceNs: parseLogTime(argv.since, now) } : {}),
      ...(typeof argv.until === "string" && argv.until !== "" ? { untilNs: parseLogTime(argv.until, now) } : {}),
    };
    const ts = Boolean(argv.timestamps);
    const dir = containerPaths(ctx.root, c.record.id).dir;
    const emit = (e: { log: string; stream: "stdout" | "stderr"; time: string }) => (e.stream === "stderr" ? io.err : io.out)(formatEntry(e, ts));
    if (!argv.follow) {
      for (const e of readLogs(dir, c.record.id, sel)) emit(e);
      return;
    }
    const abort = new AbortController();
    const onSig = () => abort.abort();
    process.once("SIGINT", onSig);
    process.once("SIGTERM", onSig);
    try {
      await followLogs(dir, c.record.id, {
        sel,
        emit,
        running: () => rereadLive(ctx, c.record.id)?.state.Running ?? false,
        sleep: ctx.sleep,
        signal: abort.signal,
      });
    } finally {
      process.off("SIGINT", onSig);
      process.off("SIGTERM", onSig);
    }
  },
};
