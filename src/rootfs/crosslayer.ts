// Hard links to files of lower layers. Layers are separate directories stacked by overlayfs, so
// such a link cannot share the lower inode: the file is copied (reflinked where the filesystem
// can) with its owner, mode, xattrs and times, which is what containerd's apply on an overlay mount
// gets from copy-up and what a merged view of umoci's single tree shows. The name is looked up as
// overlayfs would see it (whiteouts and opaque directories hide what is below), but without
// following any symlink: only the layer stack's own directories are ever read.
import fs from "node:fs";
import type { Sys } from "../sys/sys.ts";
import { entryInLayers } from "./layerpath.ts";
import { isOverlayXattr } from "./whiteout.ts";

/**
 * The file (not a directory) at `parts` as the overlay of `layers` (topmost first) shows it, or the
 * reason there is none: a symlink on the way is never followed.
 */
export function findInLayers(layers: readonly string[], parts: readonly string[], sys: Sys): { file: string; st: fs.Stats } | string {
  const e = entryInLayers(layers, parts, sys);
  if (e.kind === "blocked") return e.st.isSymbolicLink() ? "through a symlink, which a hard link never follows" : "which is not in the layer or the layers below it";
  if (e.kind === "missing") return "which is not in the layer or the layers below it";
  if (e.st.isDirectory()) return "which is a directory";
  return { file: e.file, st: e.st };
}

/**
 * Makes `path` a copy of the lower layer's `file` (a symlink: the same target), through `create`
 * (which replaces what is at `path`), then gives it the lower file's owner, mode, xattrs (less
 * overlayfs's own) and times. False, and nothing made, when it is neither a regular file nor a
 * symlink.
 */
export function copyFromLower(sys: Sys, from: { file: string; st: fs.Stats }, path: string, create: (make: () => void) => void): boolean {
  const { file, st } = from;
  if (st.isSymbolicLink()) {
    const text = fs.readlinkSync(file, "utf8");
    create(() => fs.symlinkSync(text, path));
  } else if (st.isFile()) {
    create(() => fs.copyFileSync(file, path, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE));
  } else {
    return false;
  }
  fs.lchownSync(path, st.uid, st.gid);
  if (!st.isSymbolicLink()) fs.chmodSync(path, st.mode & 0o7777);
  for (const name of sys.llistxattr(file)) {
    if (isOverlayXattr(name)) continue;
    const value = sys.lgetxattr(file, name);
    if (value !== null) sys.lsetxattr(path, name, value);
  }
  fs.lutimesSync(path, st.atime, st.mtime);
  return true;
}
