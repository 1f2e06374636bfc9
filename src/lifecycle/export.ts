// `export`: a container's filesystem as one plain tar, as Docker writes it: the merged view of its
// image and its changes, so deleted files are simply absent (no whiteouts) and nothing mounted into
// it at run time (/proc, volumes, /etc/hosts) is in it. The view is a read-only overlay of its own
// whose top lower is the container's upper dir: it needs no work dir and no lock, so a running
// container is exported as it stands, as Docker does, and a stopped one is left unmounted.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { NotFoundError } from "../errors.ts";
import { lowerLinks } from "../rootfs/images.ts";
import { applyMount, overlayMount, unmount } from "../rootfs/mount.ts";
import { treeTar } from "../rootfs/writelayer.ts";
import { containerPaths, findContainer } from "../store/containers.ts";
import { loadImage } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import { acquireLock } from "../store/lock.ts";

/** Writes the tar of container `ref`'s filesystem through `write`, which may wait for its reader. */
export async function exportContainer(ctx: Ctx, ref: string, write: (bytes: Uint8Array) => Promise<void>): Promise<void> {
  const layout = openStore(ctx.root);
  const rec = findContainer(ctx.root, ref);
  // Shared gc.lock: an rmi elsewhere cannot collect the image's layers while they are read.
  const gcShared = await acquireLock(ctx, layout.gcLock, { shared: true });
  try {
    const image = loadImage(layout, rec.imageId);
    if (!image) throw new NotFoundError(`Cannot export container ${rec.id}: its image ${rec.imageId} is no longer in the store`);
    const upper = containerPaths(ctx.root, rec.id).upper;
    // Lowers are named relative to <root>/l (see overlayMount).
    const lowers = [...(fs.existsSync(upper) ? [path.relative(path.join(layout.root, "l"), upper)] : []), ...lowerLinks(layout, image)];
    fs.mkdirSync(layout.tmpDir, { recursive: true, mode: 0o700 });
    const target = fs.mkdtempSync(path.join(layout.tmpDir, "export-"));
    try {
      applyMount(ctx.sys, overlayMount({ lowers, target, root: layout.root, emptyLower: path.relative(layout.root, layout.emptyDir) }));
      try {
        for (const piece of treeTar(ctx.sys, target)) await write(piece);
      } finally {
        unmount(ctx.sys, target);
      }
    } finally {
      fs.rmdirSync(target);
    }
  } finally {
    gcShared.release();
  }
}
