import type { CommandSpec } from "../command.ts";

export const rmi: CommandSpec = {
  command: "rmi <images..>",
  describe: "Remove one or more images",
  builder: (y) =>
    y
      .positional("images", { type: "string", array: true, describe: "IMAGE [IMAGE...]" })
      .option("force", { alias: "f", type: "boolean", default: false, describe: "Force removal of the image" }),
  async run(ctx, argv, io) {
    const { removeImage } = await import("../../rootfs/images.ts");
    const { describeError } = await import("../../errors.ts");
    const { familiarString, parseReference } = await import("../../image/reference.ts");
    const { listContainers } = await import("../../store/containers.ts");
    const { readLive } = await import("../../lifecycle/live.ts");
    // A running one first: Docker's conflict with it cannot be forced.
    const inUse = (record: { id: string }) => {
      const users = listContainers(ctx.root).filter((x) => x.imageId === record.id);
      const running = users.find((c) => readLive(ctx, c).state.Running);
      return running ? { id: running.id, running: true } : users[0] ? { id: users[0].id, running: false } : undefined;
    };
    let code = 0;
    for (const name of argv.images as string[]) {
      try {
        const ev = await removeImage(ctx, String(name), { force: Boolean(argv.force), inUse });
        for (const t of ev.untagged) io.out(`Untagged: ${familiarString(parseReference(t))}\n`);
        for (const d of ev.deleted) io.out(`Deleted: ${d}\n`);
      } catch (err) {
        io.err(`Error: ${describeError(err)}\n`);
        code = 1;
      }
    }
    return code;
  },
};
