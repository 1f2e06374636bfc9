// podman's `container exists` / `image exists`: exit 0 when it is there, 1 when not; no output.
import type { Ctx } from "../../context.ts";
import type { ErrorKind } from "../../errors.ts";
import type { CommandSpec } from "../command.ts";

/** `find` throws an error of one of the `absent` kinds when there is no such object. */
function existsVerb(what: "container" | "image", absent: ErrorKind[], find: (ctx: Ctx, ref: string) => Promise<unknown>): CommandSpec {
  return {
    command: `exists <${what}>`,
    describe: `Check if a${what === "image" ? "n" : ""} ${what} exists (exit 0) or not (exit 1)`,
    builder: (y) => y.positional(what, { type: "string" }),
    async run(ctx, argv) {
      const { isKind } = await import("../../errors.ts");
      try {
        await find(ctx, String(argv[what]));
        return 0;
      } catch (err) {
        if (absent.some((k) => isKind(err, k))) return 1;
        throw err;
      }
    },
  };
}

export const containerExists = existsVerb("container", ["NotFound"], async (ctx, ref) => {
  const { findContainer } = await import("../../store/containers.ts");
  findContainer(ctx.root, ref);
});

export const imageExists = existsVerb("image", ["NotFound", "InvalidArgument"], async (ctx, ref) => {
  const { resolveImage } = await import("../../store/images.ts");
  const { storeLayout } = await import("../../store/layout.ts");
  resolveImage(storeLayout(ctx.root), ref);
});
