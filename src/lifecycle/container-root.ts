// A container's root as a directory fd for `cp` and its tar forms: /proc/<pid>/root while it runs
// (checked to be still its process), its overlay mounted under the container's lock otherwise (a
// start waits for the copy). Paths below it are resolved by the kernel with openat2 RESOLVE_IN_ROOT,
// so a symlink in the container that points to "/" or "../../.." stays inside the container.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.ts";
import { atPath, IN_ROOT, O_CLOEXEC, O_PATH, onPseudoFs } from "../rootfs/beneath.ts";
import { imageOverlay } from "../rootfs/images.ts";
import { applyMount, unmount } from "../rootfs/mount.ts";
import { openMountTarget } from "../rootfs/mount-target.ts";
import { containerPaths, lockContainer, type ContainerRecord } from "../store/containers.ts";
import { loadContainerImage } from "../store/images.ts";
import { storeLayout } from "../store/layout.ts";
import { MS } from "../sys/sys.ts";
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
  // Stopped: its overlay and its volumes and binds, mounted for the copy under the container's lock
  // (a start waits for it), as Docker's daemon mounts them for an archive operation.
  const lock = await lockContainer(ctx, c.record.id);
  const paths = containerPaths(ctx.root, c.record.id);
  let mounted = false;
  let fd = -1;
  try {
    releaseCopyLeftover(ctx, c.record.id);
    const layout = storeLayout(ctx.root);
    const image = loadContainerImage(layout, c.record.imageId);
    if (!image) throw new NotFoundError(`Cannot copy files of container ${c.record.id}: its image ${c.record.imageId} is gone`);
    fs.mkdirSync(paths.rootfs, { recursive: true, mode: 0o755 });
    applyMount(ctx.sys, imageOverlay(layout, image, { upper: paths.upper, work: paths.work, target: paths.rootfs }));
    mounted = true;
    fd = fs.openSync(paths.rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    mountVolumesIn(ctx, c.record, fd);
    const rootFd = fd;
    return {
      fd: rootFd,
      release: () => {
        fs.closeSync(rootFd);
        unmount(ctx.sys, paths.rootfs);
        lock.release();
      },
    };
  } catch (err) {
    if (fd >= 0) fs.closeSync(fd);
    if (mounted) unmount(ctx.sys, paths.rootfs);
    lock.release();
    throw err;
  }
}

/**
 * Under the lock of a stopped container, a mount on its rootfs is a killed cp's leftover (only a
 * copy mounts it on the host; a run mounts it in the container's own namespace), maybe with some of
 * its volumes: let go, by the next copy or a start (a lazy unmount takes the mounts below it too).
 */
export function releaseCopyLeftover(ctx: Ctx, id: string): void {
  const paths = containerPaths(ctx.root, id);
  const st = fs.statSync(paths.rootfs, { throwIfNoEntry: false });
  if (st && st.dev !== fs.statSync(paths.dir).dev) unmount(ctx.sys, paths.rootfs);
}

/**
 * The container's volumes and bind mounts (not its tmpfs: Docker's MountPoints have none) on their
 * destinations below rootFd, shallowest first as the runtime mounts them (runtime/spec.ts), each
 * target resolved inside the root (rootfs/mount-target.ts); read-only ones read-only.
 */
function mountVolumesIn(ctx: Ctx, rec: ContainerRecord, rootFd: number): void {
  const mounts = (rec.mounts ?? [])
    .filter((m) => m.Type !== "tmpfs" && typeof m.Source === "string" && typeof m.Destination === "string")
    .map((m) => ({ source: m.Source as string, target: m.Destination as string, readonly: m.RW === false }))
    .sort((a, b) => a.target.split("/").length - b.target.split("/").length);
  for (const m of mounts) {
    const st = fs.statSync(m.source, { throwIfNoEntry: false });
    if (!st) throw new NotFoundError(`Cannot copy files of container ${rec.id}: the source ${m.source} of its mount ${m.target} is gone`);
    const at = openMountTarget(ctx.sys, rootFd, m.target, st.isDirectory() ? "dir" : "file");
    try {
      applyMount(ctx.sys, { source: m.source, target: atPath(at), fstype: null, flags: MS.BIND | MS.REC, data: null });
    } finally {
      fs.closeSync(at);
    }
    if (!m.readonly) continue;
    // A bind takes its flags at a remount of the new mount, found again (it covers the old target).
    const top = openIn(ctx, rootFd, containerRel(m.target), O_PATH);
    try {
      applyMount(ctx.sys, { source: "", target: atPath(top), fstype: null, flags: MS.BIND | MS.REMOUNT | MS.RDONLY, data: null });
    } finally {
      fs.closeSync(top);
    }
  }
}

/** Container path → the relative path openat2 resolves in the root ("." for the root itself). */
export function containerRel(p: string): string {
  const parts = p.split("/").filter((x) => x !== "" && x !== ".");
  return parts.length ? parts.join("/") : ".";
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
