// Hard links to files of lower layers. Layers are separate directories stacked by overlayfs, so
// such a link cannot share the lower inode: the file is copied (reflinked where the filesystem
// can) with its owner, mode, xattrs and times, which is what containerd's apply on an overlay mount
// gets from copy-up and what a merged view of umoci's single tree shows. The name is looked up as
// overlayfs would see it (whiteouts and opaque directories hide what is below), but without
// following any symlink: only the layer stack's own directories are ever read.
import fs from "node:fs";
import type { Sys } from "../sys/sys.ts";
import { isOverlayXattr, isWhiteoutNode, OVERLAY_OPAQUE_XATTR } from "./whiteout.ts";

/**
 * `parts` as the overlay of `layers` (topmost first) shows it, lstat only: a symlink or any other
 * non-directory on the way hides what lower layers have below it and is never followed, a
 * whiteout hides the name, an opaque directory hides the lower layers' contents. Returns the
 * file (not a directory) or the reason there is none.
 */
export function findInLayers(layers: readonly string[], parts: readonly string[], sys: Sys): { file: string; st: fs.Stats } | string {
  const missing = "which is not in the layer or the layers below it";
  for (const top of layers) {
    let dir = top;
    let opaque = false;
    for (let i = 0; i < parts.length; i++) {
      const p = `${dir}/${parts[i]}`;
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (st === undefined) break;
      if (isWhiteoutNode(st)) return missing;
      if (i === parts.length - 1) {
        if (st.isDirectory()) return "which is a directory";
        return { file: p, st };
      }
      if (!st.isDirectory()) return st.isSymbolicLink() ? "through a symlink, which a hard link never follows" : missing;
      if (sys.lgetxattr(p, OVERLAY_OPAQUE_XATTR)?.[0] === 0x79) opaque = true;
      dir = p;
    }
    if (opaque) return missing;
  }
  return missing;
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
