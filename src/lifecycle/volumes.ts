// Volumes for `run`: bind sources made if missing (as `-v` does), named volumes under
// volumes/<name>/_data seeded from the image on first use, anonymous volumes removed with --rm.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { lowerLinks } from "../rootfs/images.ts";
import { applyMount, overlayMount, unmount } from "../rootfs/mount.ts";
import type { ResolvedBind, TmpfsMount } from "../runtime/spec.ts";
import type { VolumeSpec } from "../runtime/volumes.ts";
import type { ImageRecord } from "../store/images.ts";
import type { StoreLayout } from "../store/layout.ts";
import { randomHex } from "../random.ts";

export function volumeDir(root: string, name: string): string {
  return path.join(root, "volumes", name, "_data");
}

/** Copy a tree keeping modes, owners, symlinks and times (the seed of a new volume). */
function copyTree(src: string, dst: string): void {
  const st = fs.lstatSync(src);
  if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(src), dst);
  } else if (st.isDirectory()) {
    fs.mkdirSync(dst, { recursive: true });
    for (const n of fs.readdirSync(src)) copyTree(path.join(src, n), path.join(dst, n));
    fs.chmodSync(dst, st.mode & 0o7777);
  } else if (st.isFile()) {
    fs.copyFileSync(src, dst);
    fs.chmodSync(dst, st.mode & 0o7777);
  } else {
    return; // devices, fifos and sockets are not seeded
  }
  fs.lchownSync(dst, st.uid, st.gid);
  if (!st.isSymbolicLink()) fs.chmodSync(dst, st.mode & 0o7777);
}

function seedFromImage(ctx: Ctx, layout: StoreLayout, record: ImageRecord, target: string, dest: string): void {
  const mnt = fs.mkdtempSync(path.join(layout.tmpDir, "seed-"));
  try {
    applyMount(ctx.sys, overlayMount({ lowers: lowerLinks(layout, record), target: mnt, root: layout.root, emptyLower: path.relative(layout.root, layout.emptyDir) }));
    try {
      const src = path.join(mnt, target);
      const st = fs.lstatSync(src, { throwIfNoEntry: false });
      if (st?.isDirectory()) {
        for (const n of fs.readdirSync(src)) copyTree(path.join(src, n), path.join(dest, n));
        fs.chmodSync(dest, st.mode & 0o7777);
        fs.chownSync(dest, st.uid, st.gid);
      }
    } finally {
      unmount(ctx.sys, mnt);
    }
  } finally {
    fs.rmdirSync(mnt);
  }
}

export function prepareVolumes(
  ctx: Ctx,
  layout: StoreLayout,
  record: ImageRecord,
  specs: VolumeSpec[],
  undo: (() => void)[],
  removeAnonymous: boolean,
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
    const anonymous = v.name === undefined;
    const name = v.name ?? randomHex(32);
    const data = volumeDir(ctx.root, name);
    if (!fs.existsSync(data)) {
      fs.mkdirSync(data, { recursive: true, mode: 0o755 });
      fs.chmodSync(path.dirname(path.dirname(data)), 0o700);
      try {
        if (!v.nocopy) seedFromImage(ctx, layout, record, v.target, data);
      } catch (err) {
        fs.rmSync(path.dirname(data), { recursive: true, force: true });
        throw err;
      }
      if (anonymous && removeAnonymous) undo.push(() => fs.rmSync(path.dirname(data), { recursive: true, force: true }));
    }
    binds.push({ source: data, target: v.target, readonly: v.readonly, kind: "dir" });
  }
  return { binds, tmpfs };
}
