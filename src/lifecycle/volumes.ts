// Volumes for `run`: bind sources made if missing (as `-v` does); named and anonymous volumes
// (store/volumes.ts) seeded from the image while empty, as Docker does; anonymous ones removed
// with --rm.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { describeError, errnoCode, FailedPreconditionError } from "../errors.ts";
import { copyDirContentsAt, IN_ROOT, O_CLOEXEC, openDirAt } from "../rootfs/beneath.ts";
import { imageOverlay } from "../rootfs/images.ts";
import { applyMount, isMountPoint, unmount } from "../rootfs/mount.ts";
import type { ResolvedBind, TmpfsMount } from "../runtime/spec.ts";
import { localVolumeMount, type VolumeSpec } from "../runtime/volumes.ts";
import type { ImageRecord } from "../store/images.ts";
import type { StoreLayout } from "../store/layout.ts";
import { checkLocalOptions, createVolume, mountsFilesystem, readVolume, type Volume } from "../store/volumes.ts";

export { volumeDir } from "../store/volumes.ts";

const { O_RDONLY, O_DIRECTORY } = fs.constants;

/**
 * A new volume seeded with what the image has at `target`: the path resolved inside the image's
 * root (openat2 RESOLVE_IN_ROOT: an image whose /opt links to a host directory gets its own
 * <root>/host/dir, as Docker's FollowSymlinkInScope), then copied from directory fds, following no
 * symlink of the image, keeping modes, owners, times and links.
 */
function seedFromImage(ctx: Ctx, layout: StoreLayout, record: ImageRecord, target: string, dest: string): void {
  const mnt = fs.mkdtempSync(path.join(layout.tmpDir, "seed-"));
  try {
    applyMount(ctx.sys, imageOverlay(layout, record, { target: mnt }));
    try {
      const rootFd = fs.openSync(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      try {
        const rel = target.split("/").filter((x) => x !== "" && x !== ".").join("/") || ".";
        let src: number;
        try {
          src = openDirAt(ctx.sys, rootFd, rel, IN_ROOT);
        } catch (err) {
          const code = errnoCode(err);
          if (code === "ENOENT" || code === "ENOTDIR") return; // nothing there to seed
          throw err;
        }
        try {
          const out = fs.openSync(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          try {
            copyDirContentsAt(ctx.sys, src, out);
          } finally {
            fs.closeSync(out);
          }
        } finally {
          fs.closeSync(src);
        }
      } finally {
        fs.closeSync(rootFd);
      }
    } finally {
      unmount(ctx.sys, mnt);
    }
  } finally {
    fs.rmdirSync(mnt);
  }
}

/**
 * The filesystem a volume's options name (tmpfs, a bind of a host directory, nfs…), mounted on its
 * directory at its first use, as Docker's local driver mounts it, and kept until the volume is
 * removed (releaseVolumeFs): containers that use it at once share it.
 */
export function mountVolumeFs(ctx: Ctx, v: Volume): void {
  if (!mountsFilesystem(v) || isMountPoint(v.Mountpoint)) return;
  try {
    applyMount(ctx.sys, { ...localVolumeMount(v.Options), target: v.Mountpoint });
  } catch (err) {
    throw new FailedPreconditionError(`error while mounting volume '${v.Mountpoint}': failed to mount local volume: ${describeError(err)}`, { cause: err });
  }
}

/** Unmounts what mountVolumeFs mounted, so removing the volume never deletes through it. */
export function releaseVolumeFs(ctx: Ctx, v: Volume): void {
  if (isMountPoint(v.Mountpoint)) unmount(ctx.sys, v.Mountpoint);
}

export function prepareVolumes(
  ctx: Ctx,
  layout: StoreLayout,
  record: ImageRecord,
  specs: VolumeSpec[],
  undo: (() => void)[],
  removeAnonymous: boolean,
  containerId?: string,
): { binds: ResolvedBind[]; tmpfs: TmpfsMount[] } {
  const binds: ResolvedBind[] = [];
  const tmpfs: TmpfsMount[] = [];
  for (const v of specs) {
    if (v.type === "tmpfs") {
      tmpfs.push({ target: v.target, flags: v.flags, data: v.data });
      continue;
    }
    if (v.type === "bind") {
      let st = fs.statSync(v.source, { throwIfNoEntry: false });
      if (!st) {
        fs.mkdirSync(v.source, { recursive: true, mode: 0o755 });
        st = fs.statSync(v.source);
      }
      binds.push({ source: v.source, target: v.target, readonly: v.readonly, kind: st.isDirectory() ? "dir" : "file" });
      continue;
    }
    // Seeded before it appears under its name (store/volumes.ts): a second run never sees it half full.
    // --mount volume-opt: the options of a volume made here; one that exists keeps its own (Docker's).
    if (v.options && (v.name === undefined || !readVolume(ctx.root, v.name))) checkLocalOptions(v.name, v.options);
    const { volume, created } = createVolume(ctx.root, v.name, {
      anonymous: v.name === undefined,
      ...(v.options ? { options: v.options } : {}),
      ...(containerId ? { createdBy: containerId } : {}),
      fill: v.nocopy ? undefined : (dir) => seedFromImage(ctx, layout, record, v.target, dir),
    });
    mountVolumeFs(ctx, volume);
    const data = volume.Mountpoint;
    // Docker copies the image's files into any empty volume it mounts (copyExistingContents), so a
    // `volume create`d one is seeded by its first container too.
    if (!created && !v.nocopy && fs.readdirSync(data).length === 0) seedFromImage(ctx, layout, record, v.target, data);
    if (created && v.name === undefined && removeAnonymous) undo.push(() => fs.rmSync(path.dirname(data), { recursive: true, force: true }));
    binds.push({ source: data, target: v.target, readonly: v.readonly, kind: "dir" });
  }
  return { binds, tmpfs };
}
