// `diff`: a container's changes to its image's filesystem, read from its upper dir (running or
// stopped alike: the dir stays until the container is removed) against the image's layers.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { upperChanges, type Change } from "../rootfs/changes.ts";
import { withContainerLayers } from "./container-layers.ts";

export function containerChanges(ctx: Ctx, ref: string): Promise<Change[]> {
  return withContainerLayers(ctx, ref, "diff", ({ layout, upper, lowers }) =>
    fs.existsSync(upper) ? upperChanges(ctx.sys, upper, lowers.map((l) => layout.link(l))) : [],
  );
}
