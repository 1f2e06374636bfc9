// `diff`: a container's changes to its image's filesystem, read from its upper dir (running or
// stopped alike: the dir stays until the container is removed) against the image's layers.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { NotFoundError } from "../errors.ts";
import { upperChanges, type Change } from "../rootfs/changes.ts";
import { lowerLinks } from "../rootfs/images.ts";
import { containerPaths, findContainer } from "../store/containers.ts";
import { loadImage } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import { acquireLock } from "../store/lock.ts";

export async function containerChanges(ctx: Ctx, ref: string): Promise<Change[]> {
  const layout = openStore(ctx.root);
  const rec = findContainer(ctx.root, ref);
  // Shared gc.lock: an rmi elsewhere cannot collect the image's layers while they are read.
  const gcShared = await acquireLock(ctx, layout.gcLock, { shared: true });
  try {
    const image = loadImage(layout, rec.imageId);
    if (!image) throw new NotFoundError(`Cannot diff container ${rec.id}: its image ${rec.imageId} is no longer in the store`);
    const upper = containerPaths(ctx.root, rec.id).upper;
    if (!fs.existsSync(upper)) return [];
    return upperChanges(ctx.sys, upper, lowerLinks(layout, image).map((l) => layout.link(l)));
  } finally {
    gcShared.release();
  }
}
