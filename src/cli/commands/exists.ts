// podman's `container exists` / `image exists`: exit 0 when it is there, 1 when not; no output.
import type { CommandSpec } from "../command.ts";

export const containerExists: CommandSpec = {
  command: "exists <container>",
  describe: "Check if a container exists (exit 0) or not (exit 1)",
  builder: (y) => y.positional("container", { type: "string" }),
  async run(ctx, argv) {
    const { findContainer } = await import("../../store/containers.ts");
    const { isKind } = await import("../../errors.ts");
    try {
      findContainer(ctx.root, String(argv.container));
      return 0;
    } catch (err) {
      if (isKind(err, "NotFound")) return 1;
      throw err;
    }
  },
};

export const imageExists: CommandSpec = {
  command: "exists <image>",
  describe: "Check if an image exists (exit 0) or not (exit 1)",
  builder: (y) => y.positional("image", { type: "string" }),
  async run(ctx, argv) {
    const { resolveImage } = await import("../../store/images.ts");
    const { storeLayout } = await import("../../store/layout.ts");
    const { isKind } = await import("../../errors.ts");
    try {
      resolveImage(storeLayout(ctx.root), String(argv.image));
      return 0;
    } catch (err) {
      if (isKind(err, "NotFound") || isKind(err, "InvalidArgument")) return 1;
      throw err;
    }
  },
};
