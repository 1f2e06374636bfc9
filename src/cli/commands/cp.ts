import type { CommandSpec } from "../command.ts";

export const cp: CommandSpec = {
  command: "cp <src> <dest>",
  describe: "Copy files/folders between a container and the local filesystem",
  builder: (y) =>
    y
      .option("archive", { alias: "a", type: "boolean", default: false, describe: "Archive mode (copy all uid/gid information)" })
      .option("follow-link", { alias: "L", type: "boolean", default: false, describe: "Always follow symbol link in SRC_PATH" })
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Suppress progress output during copy" }),
  async run(ctx, argv, io) {
    const { parseCopyArg, copyFromContainer, copyToContainer } = await import("../../lifecycle/copy.ts");
    const { findLive } = await import("../../lifecycle/live.ts");
    // Docker returns these from the command itself: exit 1, no pointer to the help.
    const { InvalidArgumentError } = await import("../../errors.ts");
    const { humanSize } = await import("../format.ts");
    const src = parseCopyArg(String(argv.src));
    const dst = parseCopyArg(String(argv.dest));
    if (src.container !== undefined && dst.container !== undefined) throw new InvalidArgumentError("copying between containers is not supported");
    if (src.container === undefined && dst.container === undefined) throw new InvalidArgumentError("must specify at least one container source");
    const opts = { archive: Boolean(argv.archive), followLink: Boolean(argv["follow-link"]) };
    if (src.container === undefined && src.path === "-") {
      const { extractToContainer } = await import("../../lifecycle/copy-tar.ts");
      await extractToContainer(ctx, findLive(ctx, dst.container!), dst.path, Bun.stdin.stream(), opts);
      return;
    }
    if (dst.container === undefined && dst.path === "-") {
      const { archiveFromContainer } = await import("../../lifecycle/copy-tar.ts");
      const { writeArchive } = await import("../output.ts");
      const c = findLive(ctx, src.container!);
      try {
        await writeArchive(undefined, io.stdoutTty, (write) => archiveFromContainer(ctx, c, src.path, opts, write));
      } catch (err) {
        // A reader that went away (`| head`) ends it quietly, as SIGPIPE ends Docker's.
        if ((err as NodeJS.ErrnoException).code === "EPIPE") return 141;
        throw err;
      }
      return;
    }
    const res =
      src.container !== undefined
        ? await copyFromContainer(ctx, findLive(ctx, src.container), src.path, dst.path, opts)
        : await copyToContainer(ctx, findLive(ctx, dst.container!), src.path, dst.path, opts);
    if (!argv.quiet && io.stderrTty) io.err(`Successfully copied ${humanSize(res.bytes)} to ${String(argv.dest)}\n`);
  },
};
