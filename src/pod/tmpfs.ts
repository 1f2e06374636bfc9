// Memory-backed directories a pod keeps for its whole life (play kube's emptyDir with medium:
// Memory): a tmpfs on a directory under the pod's data directory, which its containers bind-mount,
// as the kubelet mounts one. The pod's record lists them, so `pod start` mounts them again after a
// reboot took them, and `pod rm` unmounts whatever is mounted under the pod's data directory.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { isMountPoint, mountsUnder, unmount } from "../rootfs/mount.ts";
import { MS } from "../sys/sys.ts";
import { podDataDir, savePod, type PodRecord } from "./store.ts";

function mountOne(ctx: Ctx, dir: string, size: number): void {
  if (isMountPoint(dir)) return;
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  ctx.sys.mount("tmpfs", dir, "tmpfs", MS.NOSUID | MS.NODEV, `size=${size}`);
}

/** Mounts a tmpfs of `size` bytes on `dir` (under the pod's data directory) and records it. */
export function mountPodTmpfs(ctx: Ctx, pod: PodRecord, dir: string, size: number): void {
  if (!dir.startsWith(`${podDataDir(ctx.root, pod.id)}/`)) throw new Error(`tmpfs ${dir} is outside pod ${pod.name}'s directory`);
  mountOne(ctx, dir, size);
  pod.tmpfs = [...(pod.tmpfs ?? []).filter((t) => t.dir !== dir), { dir, size }];
  savePod(ctx.root, pod);
}

/** What a reboot unmounted, mounted again (empty, as the kubelet's emptyDir of a new pod is). */
export function remountPodTmpfs(ctx: Ctx, pod: PodRecord): void {
  for (const t of pod.tmpfs ?? []) mountOne(ctx, t.dir, t.size);
}

/** Every mount under the pod's data directory, deepest first: before the directory goes. */
export function unmountPodData(ctx: Ctx, pod: PodRecord): void {
  for (const m of mountsUnder(podDataDir(ctx.root, pod.id)).reverse()) unmount(ctx.sys, m);
}
