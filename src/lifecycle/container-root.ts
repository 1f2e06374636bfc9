// A container's root as a directory fd for `cp` and its tar forms: /proc/<pid>/root while it runs
// (checked to be still its process), its overlay mounted under the container's lock otherwise (a
// start waits for the copy). Paths below it are resolved by the kernel with openat2 RESOLVE_IN_ROOT,
// so a symlink in the container that points to "/" or "../../.." stays inside the container.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.ts";
import { IN_ROOT, O_CLOEXEC, onPseudoFs } from "../rootfs/beneath.ts";
import { imageOverlay } from "../rootfs/images.ts";
import { applyMount, isMountPoint, unmount } from "../rootfs/mount.ts";
import { containerPaths, lockContainer } from "../store/containers.ts";
import { loadImage } from "../store/images.ts";
import { storeLayout } from "../store/layout.ts";
import type { LiveContainer } from "./live.ts";
import { processStartTime } from "./liveness.ts";
import { checkTransition } from "./state.ts";

const { O_RDONLY, O_DIRECTORY } = fs.constants;

/** The container's root as an fd, and how to let it go. */
export interface RootHandle {
  fd: number;
  release(): void;
}

export async function openRoot(ctx: Ctx, c: LiveContainer): Promise<RootHandle> {
  checkTransition(c.state.Status, "copy", c.record.id);
  if (c.state.Running && c.state.Pid) {
    const fd = fs.openSync(`/proc/${c.state.Pid}/root`, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    // The pid must still be the container's: checked after opening, so the fd is the right root.
    if (c.state.pidStartTime !== undefined && processStartTime(c.state.Pid) !== c.state.pidStartTime) {
      fs.closeSync(fd);
      throw new InvalidArgumentError(`Cannot copy files of container ${c.record.id}: it exited meanwhile`);
    }
    return { fd, release: () => fs.closeSync(fd) };
  }
  // Stopped: its overlay, mounted for the copy under the container's lock (a start waits for it).
  const lock = await lockContainer(ctx, c.record.id);
  const paths = containerPaths(ctx.root, c.record.id);
  let mounted = false;
  try {
    // Under the lock of a stopped container a mount found here is a killed cp's leftover: reused, then unmounted.
    if (isMountPoint(paths.rootfs)) mounted = true;
    else {
      const layout = storeLayout(ctx.root);
      const image = loadImage(layout, c.record.imageId);
      if (!image) throw new NotFoundError(`Cannot copy files of container ${c.record.id}: its image ${c.record.imageId} is gone`);
      fs.mkdirSync(paths.rootfs, { recursive: true, mode: 0o755 });
      applyMount(ctx.sys, imageOverlay(layout, image, { upper: paths.upper, work: paths.work, target: paths.rootfs }));
      mounted = true;
    }
    const fd = fs.openSync(paths.rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return {
      fd,
      release: () => {
        fs.closeSync(fd);
        if (mounted) unmount(ctx.sys, paths.rootfs);
        lock.release();
      },
    };
  } catch (err) {
    if (mounted) unmount(ctx.sys, paths.rootfs);
    lock.release();
    throw err;
  }
}

/** `rel` (a path in the container) opened below the root with `flags`, its symlinks kept inside the root. */
export function openIn(ctx: Ctx, rootFd: number, rel: string, flags: number, mode = 0): number {
  return ctx.sys.openat2(rootFd, rel, flags | O_CLOEXEC, mode, IN_ROOT);
}


/**
 * Refuses a directory of a running container's /proc or /sys as a copy's destination: their files
 * are the kernel's (sysctls shared with the host among them), never written by a copy. Docker's
 * copy sees the image's empty directories there.
 */
export function refuseKernelFs(dirFd: number, shown: string): void {
  if (onPseudoFs(dirFd)) throw new FailedPreconditionError(`Cannot copy to ${shown}: it is on a kernel filesystem (/proc, /sys), not the container's files`);
}
