// What `diff` and `export` read: a container's upper dir over its image's layers, held against
// garbage collection while they are read.
import type { Ctx } from "../context.ts";
import { NotFoundError } from "../errors.ts";
import { lowerLinks } from "../rootfs/images.ts";
import { containerPaths, findContainer, type ContainerRecord } from "../store/containers.ts";
import { loadContainerImage } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import type { StoreLayout } from "../store/layout.ts";
import { acquireLock } from "../store/lock.ts";

export interface ContainerLayers {
  layout: StoreLayout;
  rec: ContainerRecord;
  /** The container's upper dir (it may not exist: a container that never started). */
  upper: string;
  /** The image's layers, topmost first, as names under <root>/l (see overlayMount). */
  lowers: string[];
}

/** Runs `fn` on container `ref`'s layers; `verb` names the command in the error when its image is gone. */
export async function withContainerLayers<T>(ctx: Ctx, ref: string, verb: string, fn: (c: ContainerLayers) => Promise<T> | T): Promise<T> {
  const layout = openStore(ctx.root);
  const rec = findContainer(ctx.root, ref);
  // Shared gc.lock: an rmi elsewhere cannot collect the image's layers while they are read.
  const gcShared = await acquireLock(ctx, layout.gcLock, { shared: true });
  try {
    const image = loadContainerImage(layout, rec.imageId);
    if (!image) throw new NotFoundError(`Cannot ${verb} container ${rec.id}: its image ${rec.imageId} is no longer in the store`);
    return await fn({ layout, rec, upper: containerPaths(ctx.root, rec.id).upper, lowers: lowerLinks(layout, image) });
  } finally {
    gcShared.release();
  }
}
