// Paths of an image kept as a stack of layer directories (topmost first), looked up as overlayfs
// shows them and without the host ever resolving a link a layer holds: each name is lstat'ed in a
// directory already known to be a real directory of that layer, so a symlink made by a RUN
// (`ln -s /etc /app`, `ln -s ../../../../tmp /app`) is read as text, never followed by a host
// path. Symlinks are then resolved inside the image, as moby's FollowSymlinkInScope does: an
// absolute target starts again at the image's root and ".." stops there.
import fs from "node:fs";
import { FailedPreconditionError } from "../errors.ts";
import type { Sys } from "../sys/sys.ts";
import { isWhiteoutNode, OVERLAY_OPAQUE_XATTR } from "./whiteout.ts";

/** What the overlay of the layers shows at a path. */
export type LayerEntry =
  /** The entry (any kind) and the host path of it in the layer it comes from. */
  | { kind: "found"; file: string; st: fs.Stats }
  /** Name `depth` of the path is a non-directory (a symlink, a file) that hides what is below it. */
  | { kind: "blocked"; depth: number; file: string; st: fs.Stats }
  | { kind: "missing" };

/** `parts` as the overlay of `layers` (topmost first) shows it, lstat only. */
export function entryInLayers(layers: readonly string[], parts: readonly string[], sys: Sys): LayerEntry {
  for (const top of layers) {
    let dir = top;
    let opaque = false;
    for (let i = 0; i < parts.length; i++) {
      const p = `${dir}/${parts[i]}`;
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (st === undefined) break;
      if (isWhiteoutNode(st)) return { kind: "missing" };
      if (i === parts.length - 1) return { kind: "found", file: p, st };
      if (!st.isDirectory()) return { kind: "blocked", depth: i, file: p, st };
      if (sys.lgetxattr(p, OVERLAY_OPAQUE_XATTR)?.[0] === 0x79) opaque = true;
      dir = p;
    }
    if (opaque) return { kind: "missing" };
  }
  return { kind: "missing" };
}

/** The most links followed in one path, as Linux's and moby's limit. */
const MAX_LINKS = 255;

/**
 * The image path `p` (absolute or relative to "/") with every symlink of the layers resolved inside
 * the image, the last name included: the names of a path the image has, or will have once made,
 * with no symlink on the way. `what` names the path in errors.
 */
export function resolveInLayers(layers: readonly string[], p: string, sys: Sys, what = p): string[] {
  let done: string[] = [];
  let todo = p.split("/");
  let links = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === "" || name === ".") continue;
    if (name === "..") {
      done.pop();
      continue;
    }
    const parts = [...done, name];
    const e = entryInLayers(layers, parts, sys);
    if (e.kind === "found" && e.st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new FailedPreconditionError(`Cannot resolve "${what}" in the image: too many levels of symbolic links`);
      const target = fs.readlinkSync(e.file, "utf8");
      if (target.startsWith("/")) done = [];
      todo = [...target.split("/"), ...todo];
      continue;
    }
    done = parts;
  }
  return done;
}

/** Whether the overlay of `layers` has a directory at the image path `p` (symlinks not followed). */
export function isDirInLayers(layers: readonly string[], p: string, sys: Sys): boolean {
  const e = entryInLayers(layers, p.split("/").filter(Boolean), sys);
  return e.kind === "found" && e.st.isDirectory();
}
