import type { CommandSpec } from "../command.ts";

export const attach: CommandSpec = {
  command: "attach <container>",
  describe: "Attach local standard input and output to a running container; exit with its code",
  builder: (y) =>
    y
      .option("no-stdin", { type: "boolean", default: false, describe: "Do not attach STDIN" })
      .option("detach-keys", { type: "string", describe: "Override the key sequence for detaching a container" })
      .option("sig-proxy", { type: "boolean", default: true, describe: "Proxy all received signals to the process (accepted)" }),
  async run(ctx, argv, io) {
    const { findLive } = await import("../../lifecycle/live.ts");
    const { attachToLog } = await import("../../lifecycle/start.ts");
    const { FailedPreconditionError } = await import("../../errors.ts");
    const { DEFAULT_DETACH_KEYS, forwardStdin, parseDetachKeys } = await import("../../lifecycle/stdin.ts");
    const { containerPaths } = await import("../../store/containers.ts");
    const keys = parseDetachKeys(typeof argv["detach-keys"] === "string" ? argv["detach-keys"] : DEFAULT_DETACH_KEYS);
    const live = findLive(ctx, String(argv.container));
    if (!live.state.Running) throw new FailedPreconditionError("You cannot attach to a stopped container, start it first");
    // From now on, as docker attach: what the container wrote before is for `logs`.
    const sinceNs = BigInt(ctx.clock()) * 1_000_000n;
    const abort = new AbortController();
    let detached = false;
    if (!argv["no-stdin"] && live.record.config?.OpenStdin === true) {
      const dir = containerPaths(ctx.root, live.record.id).dir;
      void forwardStdin(dir, Bun.stdin.stream(), keys).then((d) => {
        if (!d) return;
        detached = true;
        abort.abort();
      });
    }
    const code = await attachToLog(ctx, live.record.id, (e) => (e.stream === "stderr" ? io.err(e.log) : io.out(e.log)), { sinceNs, signal: abort.signal });
    if (detached) {
      io.err("read escape sequence\n");
      return 0;
    }
    return code;
  },
};
