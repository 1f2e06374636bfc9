import type { CommandSpec } from "../command.ts";

export const start: CommandSpec = {
  command: "start [containers..]",
  describe: "Start one or more stopped containers",
  builder: (y) =>
    y
      .option("attach", { alias: "a", type: "boolean", default: false, describe: "Attach STDOUT/STDERR and forward signals" })
      .option("interactive", { alias: "i", type: "boolean", default: false, describe: "Attach container's STDIN (one created with -i)" })
      .option("all", { type: "boolean", default: false, describe: "Start all containers that are not running (podman)" }),
  async run(ctx, argv, io) {
    const { startContainer, attachToLog } = await import("../../lifecycle/start.ts");
    const { describeError } = await import("../../errors.ts");
    const { UsageError } = await import("../usage.ts");
    const { targetContainers } = await import("./each.ts");
    const refs = await targetContainers(ctx, argv, (c) => !c.state.Running);
    if (argv.attach) {
      if (refs.length !== 1) throw new UsageError("you cannot start and attach multiple containers at once");
      // Only this run's output, as Docker: the log may hold earlier runs'.
      const sinceNs = BigInt(ctx.clock()) * 1_000_000n;
      const s = await startContainer(ctx, refs[0]!);
      const abort = new AbortController();
      let detached = false;
      if (argv.interactive) {
        // As attach: into the stdin FIFO the monitor holds for a container created with -i (none without: nothing goes in).
        const { forwardStdin, parseDetachKeys, DEFAULT_DETACH_KEYS } = await import("../../lifecycle/stdin.ts");
        const { containerPaths } = await import("../../store/containers.ts");
        void forwardStdin(containerPaths(ctx.root, s.id).dir, Bun.stdin.stream(), parseDetachKeys(DEFAULT_DETACH_KEYS)).then((d) => {
          if (!d) return;
          detached = true;
          abort.abort();
        });
      }
      const code = await attachToLog(ctx, s.id, (e) => (e.stream === "stderr" ? io.err(e.log) : io.out(e.log)), { sinceNs, signal: abort.signal });
      if (!detached) return code;
      io.err("read escape sequence\n");
      return 0;
    }
    let code = 0;
    for (const ref of refs) {
      try {
        await startContainer(ctx, ref);
        io.out(`${ref}\n`);
      } catch (err) {
        io.err(`Error response from daemon: ${describeError(err)}\n`);
        code = 1;
      }
    }
    if (code) io.err(`Error: failed to start containers: ${refs.join(", ")}\n`);
    return code;
  },
};
