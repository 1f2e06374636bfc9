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
    const { showLogs, parseLogSelection } = await import("../../lifecycle/logs.ts");
    const { containerPaths } = await import("../../store/containers.ts");
    const c = findLive(ctx, String(argv.container));
    const { checkLogsReadable } = await import("../../lifecycle/logdriver.ts");
    checkLogsReadable(c.record);
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const sel = parseLogSelection({ tail: String(argv.tail), since: str(argv.since), until: str(argv.until) }, ctx.clock());
    const id = c.record.id;
    const source = { id, dir: containerPaths(ctx.root, id).dir, prefix: "", running: () => rereadLive(ctx, id)?.state.Running ?? false };
    await showLogs([source], { sel, timestamps: Boolean(argv.timestamps), follow: Boolean(argv.follow), sleep: ctx.sleep, out: io.out, err: io.err });
  },
};
