import type { CommandSpec } from "../command.ts";

export const attach: CommandSpec = {
  command: "attach <container>",
  describe: "Attach local standard input and output to a running container; exit with its code",
  builder: (y) =>
    y
      .option("no-stdin", { type: "boolean", default: false, describe: "Do not attach STDIN" })
      .option("detach-keys", { type: "string", describe: "Override the key sequence for detaching a container" })
      .option("sig-proxy", { type: "boolean", default: true, describe: "Proxy all received signals to the process (without a TTY)" }),
  async run(ctx, argv, io) {
    const { findLive } = await import("../../lifecycle/live.ts");
    const { attachContainer } = await import("../../lifecycle/attach.ts");
    const { FailedPreconditionError } = await import("../../errors.ts");
    const { DEFAULT_DETACH_KEYS, parseDetachKeys } = await import("../../lifecycle/stdin.ts");
    const { checkAttachTty, isTerminal } = await import("../../terminal.ts");
    const keys = parseDetachKeys(typeof argv["detach-keys"] === "string" ? argv["detach-keys"] : DEFAULT_DETACH_KEYS);
    const live = findLive(ctx, String(argv.container));
    if (!live.state.Running) throw new FailedPreconditionError("You cannot attach to a stopped container, start it first");
    if (live.state.Restarting) throw new FailedPreconditionError("You cannot attach to a restarting container, wait until it is running");
    checkAttachTty(!argv["no-stdin"], live.record.config?.Tty === true, isTerminal(0));
    // From now on, as docker attach: what the container wrote before is for `logs`.
    const sinceNs = BigInt(ctx.clock()) * 1_000_000n;
    const { code, detached } = await attachContainer(ctx, live, {
      stdin: !argv["no-stdin"],
      keys,
      sigProxy: argv["sig-proxy"] !== false,
      sinceNs,
      emit: (e) => (e.stream === "stderr" ? io.err(e.log) : io.out(e.log)),
    });
    if (detached) io.err("read escape sequence\n");
    return code;
  },
};
