// OCI whiteouts (`.wh.name`, `.wh..wh..opq`) and their overlayfs form: a 0:0 character device
// hides a lower file, the trusted.overlay.opaque xattr hides a lower directory's contents.
import fs from "node:fs";
import { makedev, S_IFCHR, type Sys } from "../sys/sys.ts";

export const WHITEOUT_PREFIX = ".wh.";
/** Reserved prefix for whiteout metadata; only the opaque marker has a meaning. */
export const WHITEOUT_META_PREFIX = ".wh..wh.";
export const WHITEOUT_OPAQUE = ".wh..wh..opq";
export const OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";

export type Whiteout =
  | { kind: "opaque" }
  | { kind: "remove"; name: string }
  /** `.wh..wh.<other>`: reserved, ignored as Docker and containerd do. */
  | { kind: "meta" }
  /** `.wh.`, `.wh..`, `.wh...`: a whiteout of something that is not a name. */
  | { kind: "invalid"; name: string };

/** What an entry's last path component asks for; undefined for an ordinary name. Pure. */
export function parseWhiteout(base: string): Whiteout | undefined {
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  if (base === WHITEOUT_OPAQUE) return { kind: "opaque" };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: "meta" };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === "" || name === "." || name === ".." || name.includes("/")) return { kind: "invalid", name };
  return { kind: "remove", name };
}

/** The overlayfs whiteout at `path` (which must not exist): char device 0:0, owned 0:0. */
export function writeWhiteout(sys: Sys, path: string): void {
  sys.mknod(path, S_IFCHR, makedev(0, 0));
  fs.lchownSync(path, 0, 0);
}

/** Whether a layer's node is an overlayfs whiteout (what writeWhiteout makes). */
export function isWhiteoutNode(st: fs.Stats | fs.BigIntStats): boolean {
  return st.isCharacterDevice() && Number(st.rdev) === 0;
}

/** Marks the directory at `dir` opaque to overlayfs. */
export function markOpaque(sys: Sys, dir: string): void {
  sys.lsetxattr(dir, OVERLAY_OPAQUE_XATTR, new Uint8Array([0x79])); // "y"
}

/** Xattrs a layer may not set: overlayfs reads its own (redirect, metacopy, origin, opaque) from the layers. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.");
}
