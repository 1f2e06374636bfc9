import type { CommandSpec } from "../command.ts";

export const tag: CommandSpec = {
  command: "tag <source> <target>",
  describe: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
  builder: (y) =>
    y.positional("source", { type: "string", describe: "SOURCE_IMAGE[:TAG]" }).positional("target", { type: "string", describe: "TARGET_IMAGE[:TAG]" }),
  async run(ctx, argv) {
    const { addTag, resolveImage } = await import("../../store/images.ts");
    const { openStore } = await import("../../store/init.ts");
    const { withLock } = await import("../../store/lock.ts");
    const layout = openStore(ctx.root);
    await withLock(ctx, layout.metadataLock, () => {
      const { record } = resolveImage(layout, String(argv.source));
      addTag(layout, String(argv.target), record.id);
    });
  },
};
