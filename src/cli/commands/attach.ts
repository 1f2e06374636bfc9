import type { CommandSpec } from "../command.ts";

export const attach: CommandSpec = {
  command: "attach <container>",
  describe: "Attach to a running container's output (stdin is not supported) until it exits; exit with its code",
  builder: (y) => y.option("no-stdin", { type: "boolean", default: true, describe: "Do not attach STDIN (the only mode)" }),
  async run(ctx, argv, io) {
    const { findLive } = await import("../../lifecycle/live.ts");
    const { attachToLog } = await import("../../lifecycle/start.ts");
    const { FailedPreconditionError } = await import("../../errors.ts");
    const live = findLive(ctx, String(argv.container));
    if (!live.state.Running) throw new FailedPreconditionError("You cannot attach to a stopped container, start it first");
    // From now on, as docker attach: what the container wrote before is for `logs`.
    const sinceNs = BigInt(ctx.clock()) * 1_000_000n;
    return await attachToLog(ctx, live.record.id, (e) => (e.stream === "stderr" ? io.err(e.log) : io.out(e.log)), { sinceNs });
  },
};
