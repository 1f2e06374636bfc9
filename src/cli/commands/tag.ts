import type { CommandSpec } from "../command.ts";

export const tag: CommandSpec = {
  command: "tag <source> <targets..>",
  describe: "Create tags TARGET_IMAGE... that refer to SOURCE_IMAGE",
  builder: (y) =>
    y
      .positional("source", { type: "string", describe: "SOURCE_IMAGE[:TAG]" })
      .positional("targets", { type: "string", array: true, describe: "TARGET_IMAGE[:TAG] (podman takes several)" }),
  async run(ctx, argv) {
    const { addTag, resolveImage } = await import("../../store/images.ts");
    const { parseReference } = await import("../../image/reference.ts");
    const { openStore } = await import("../../store/init.ts");
    const { withLock } = await import("../../store/lock.ts");
    const targets = (argv.targets as unknown[]).map(String);
    // Every target is checked before any is written: a bad one adds none.
    for (const t of targets) parseReference(t);
    const layout = openStore(ctx.root);
    await withLock(ctx, layout.metadataLock, () => {
      const { record } = resolveImage(layout, String(argv.source));
      for (const t of targets) addTag(layout, t, record.id);
    });
  },
};

/** podman's `untag IMAGE [NAME...]`: the names go, the image stays (every name when none is given). */
export const untag: CommandSpec = {
  command: "untag <image> [names..]",
  describe: "Remove names from a local image (podman)",
  builder: (y) => y.positional("image", { type: "string" }).positional("names", { type: "string", array: true }),
  async run(ctx, argv) {
    const { removeTags, resolveImage } = await import("../../store/images.ts");
    const { openStore } = await import("../../store/init.ts");
    const { withLock } = await import("../../store/lock.ts");
    const layout = openStore(ctx.root);
    await withLock(ctx, layout.metadataLock, () => {
      const { record } = resolveImage(layout, String(argv.image));
      removeTags(layout, record.id, ((argv.names as unknown[] | undefined) ?? []).map(String));
    });
  },
};
