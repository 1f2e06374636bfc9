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
    const { startContainer } = await import("../../lifecycle/start.ts");
    const { describeError } = await import("../../errors.ts");
    // Docker returns these from the command itself: exit 1, no pointer to the help.
    const { InvalidArgumentError } = await import("../../errors.ts");
    const { targetContainers } = await import("./each.ts");
    const refs = await targetContainers(ctx, argv, (c) => !c.state.Running);
    if (argv.attach) {
      if (refs.length !== 1) throw new InvalidArgumentError("you cannot start and attach multiple containers at once");
      // Only this run's output, as Docker: the log may hold earlier runs'.
      const sinceNs = BigInt(ctx.clock()) * 1_000_000n;
      const s = await startContainer(ctx, refs[0]!);
      const { attachContainer } = await import("../../lifecycle/attach.ts");
      const { findLive } = await import("../../lifecycle/live.ts");
      const { DEFAULT_DETACH_KEYS, parseDetachKeys } = await import("../../lifecycle/stdin.ts");
      const { code, detached } = await attachContainer(ctx, findLive(ctx, s.id), {
        stdin: Boolean(argv.interactive),
        keys: parseDetachKeys(DEFAULT_DETACH_KEYS),
        sigProxy: true,
        sinceNs,
        emit: (e) => (e.stream === "stderr" ? io.err(e.log) : io.out(e.log)),
      });
      if (detached) io.err("read escape sequence\n");
      return code;
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
