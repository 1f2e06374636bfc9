// A pod's volume subPaths (play kube's volumeMounts[].subPath), mounted as the kubelet mounts them
// since CVE-2017-1002101: the subPath is resolved by the kernel inside its volume (openat2
// RESOLVE_IN_ROOT: a symlink a container planted there, absolute or climbing with "..", stays in
// the volume), made when missing, and that inode bind-mounted, through its fd, on a mount point
// under the pod's data directory, which no container sees. The container binds that mount point,
// so each of its starts mounts what was resolved here, never the host's resolution of a path a
// container can change meanwhile (one that removed its subPath's directory fails to start again,
// ENOENT, until `pod start`). The pod's record lists them: `pod start` mounts them again after a
// reboot took them or a container removed them; `pod rm` unmounts everything under the pod's data
// directory (tmpfs.ts).
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, describeError } from "../errors.ts";
import { O_CLOEXEC, O_PATH } from "../rootfs/beneath.ts";
import { isMountPoint, unmount } from "../rootfs/mount.ts";
import { openMountTarget } from "../rootfs/mount-target.ts";
import { MS } from "../sys/sys.ts";
import { podDataDir, savePod, type PodRecord } from "./store.ts";

/** Where a container's `index`th mount's subPath is bound: under the pod's data directory, out of every container's sight. */
export function subPathMountPoint(root: string, podId: string, container: string, index: number): string {
  return path.join(podDataDir(root, podId), "subpaths", container, String(index));
}

function mountOne(ctx: Ctx, volume: string, sub: string, at: string): void {
  if (isMountPoint(at)) {
    if (fs.statSync(at).nlink > 0) return;
    // The container removed what was bound (a start would fail: ENOENT): bound again as the subPath is now.
    unmount(ctx.sys, at);
  }
  let volFd: number;
  try {
    volFd = fs.openSync(volume, O_PATH | fs.constants.O_DIRECTORY | O_CLOEXEC);
  } catch (err) {
    throw new FailedPreconditionError(`Cannot mount subPath "${sub}": its volume ${volume}: ${describeError(err)}`, { cause: err });
  }
  try {
    const fd = openMountTarget(ctx.sys, volFd, sub, "dir");
    try {
      const dir = fs.fstatSync(fd).isDirectory();
      fs.mkdirSync(path.dirname(at), { recursive: true, mode: 0o700 });
      // The mount point as the subPath is now (a reboot's leftover of the other kind goes: it is ours and empty).
      const st = fs.lstatSync(at, { throwIfNoEntry: false });
      if (st && st.isDirectory() !== dir) st.isDirectory() ? fs.rmdirSync(at) : fs.unlinkSync(at);
      if (!st || st.isDirectory() !== dir) dir ? fs.mkdirSync(at, { mode: 0o755 }) : fs.closeSync(fs.openSync(at, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, 0o600));
      ctx.sys.mount(`/proc/self/fd/${fd}`, at, null, MS.BIND, null);
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    fs.closeSync(volFd);
  }
}

/** Binds `sub` of the volume at `volume` (a host directory) on `at` (subPathMountPoint) and records it; returns `at`. */
export function mountPodSubPath(ctx: Ctx, pod: PodRecord, volume: string, sub: string, at: string): string {
  if (!at.startsWith(`${podDataDir(ctx.root, pod.id)}/`)) throw new Error(`subPath mount ${at} is outside pod ${pod.name}'s directory`);
  mountOne(ctx, volume, sub, at);
  pod.subPaths = [...(pod.subPaths ?? []).filter((s) => s.at !== at), { at, volume, sub }];
  savePod(ctx.root, pod);
  return at;
}

/** What a reboot unmounted, resolved and mounted again (after the pod's tmpfs, which a volume may be). */
export function remountPodSubPaths(ctx: Ctx, pod: PodRecord): void {
  for (const s of pod.subPaths ?? []) mountOne(ctx, s.volume, s.sub, s.at);
}
