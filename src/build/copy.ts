// COPY and ADD write into a fresh upper directory (no container): the sources from the context or
// another stage's rootfs, through fd-relative opens that never leave their root (openat2
// RESOLVE_BENEATH) and never follow a symlink source. Parent directories the image already has are
// made with the image's mode and owner, so the layer does not change them.
import fs from "node:fs";
import path from "node:path";
import { FailedPreconditionError } from "../errors.ts";
import { atPath, BENEATH, copyFd, createFileAt, ensureDirAt, IN_ROOT, lstatAt, O_CLOEXEC, openDirAt, openFileAt, symlinkAt } from "../rootfs/beneath.ts";
import type { Sys } from "../sys/sys.ts";
import { isIgnored, reincludesBelow, type IgnorePattern } from "./dockerignore.ts";
import { entryInLayers, resolveInLayers } from "../rootfs/layerpath.ts";

export interface CopyInto {
  sys: Sys;
  /** The fresh upper directory the step writes. */
  upper: string;
  /** The image's unpacked layers so far, topmost first: where existing directories are looked up. */
  lowers: readonly string[];
  owner?: [number, number];
  chmod?: number;
}

/** The layers a step sees, topmost first: its own upper dir over the image's. */
const layersOf = (c: CopyInto): string[] => [c.upper, ...c.lowers];

/** What `layers` (topmost first) show at image path `p`; no link followed. */
function statIn(layers: readonly string[], p: string, sys: Sys): fs.Stats | undefined {
  const e = entryInLayers(layers, p.split("/").filter(Boolean), sys);
  return e.kind === "found" ? e.st : undefined;
}

/** Image path `p` with the image's symlinks resolved inside it (never on the host), as Docker resolves a destination. */
export function resolveInImage(c: CopyInto, p: string): string {
  return `/${resolveInLayers(layersOf(c), p, c.sys).join("/")}`;
}

/** Opens (making as needed) directory `dir` (absolute in the image) in the upper dir. */
export function openUpperDir(c: CopyInto, dir: string, newMode = 0o755, newOwner?: [number, number]): number {
  let fd = fs.openSync(c.upper, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
  let at = "";
  for (const name of dir.split("/").filter(Boolean)) {
    at += `/${name}`;
    const existing = lstatAt(fd, name);
    const had = existing?.isDirectory();
    const lower = had ? undefined : statIn(c.lowers, at, c.sys);
    const next = ensureDirAt(c.sys, fd, name, 0o755);
    if (!had) {
      if (lower?.isDirectory()) {
        fs.fchownSync(next, lower.uid, lower.gid);
        fs.fchmodSync(next, lower.mode & 0o7777);
        fs.futimesSync(next, lower.atime, lower.mtime);
      } else {
        const [u, g] = newOwner ?? [0, 0];
        fs.fchownSync(next, u, g);
        fs.fchmodSync(next, newMode);
      }
    }
    fs.closeSync(fd);
    fd = next;
  }
  return fd;
}

/** Whether the image (upper or lowers) has a directory at `p`. */
export function isDirInImage(c: CopyInto, p: string): boolean {
  return statIn(layersOf(c), p, c.sys)?.isDirectory() ?? false;
}

function ownerOf(c: CopyInto, st: fs.Stats, keepOwner: boolean): [number, number] {
  return c.owner ?? (keepOwner ? [st.uid, st.gid] : [0, 0]);
}

/**
 * Entry `name` of srcDir copied as `dstName` of dstDir: directories recursively (filtered by
 * `ignore` against `rel`), files by content, symlinks as links, FIFOs and devices as nodes.
 * keepOwner: a --from source keeps its files' owners, the context's become root's (Docker).
 */
export function copyEntry(c: CopyInto, srcDir: number, name: string, dstDir: number, dstName: string, rel: string, ignore: readonly IgnorePattern[], keepOwner: boolean): number {
  const st = lstatAt(srcDir, name);
  if (!st) return 0;
  const [uid, gid] = ownerOf(c, st, keepOwner);
  const mode = c.chmod ?? st.mode & 0o7777;
  if (st.isSymbolicLink()) {
    symlinkAt(dstDir, dstName, fs.readlinkSync(atPath(srcDir, name)));
    fs.lchownSync(atPath(dstDir, dstName), uid, gid);
    return 0;
  }
  if (st.isDirectory()) {
    const src = openDirAt(c.sys, srcDir, name, BENEATH);
    try {
      const out = ensureDirAt(c.sys, dstDir, dstName, 0o700);
      try {
        return copyDirInto(c, src, out, rel, ignore, keepOwner, st);
      } finally {
        fs.closeSync(out);
      }
    } finally {
      fs.closeSync(src);
    }
  }
  if (st.isFile()) {
    const src = openFileAt(c.sys, srcDir, name, fs.constants.O_RDONLY, BENEATH);
    try {
      const out = createFileAt(c.sys, dstDir, dstName, 0o600);
      try {
        const n = copyFd(src.fd, out);
        fs.fchownSync(out, uid, gid);
        fs.fchmodSync(out, mode);
        fs.futimesSync(out, src.st.atime, src.st.mtime);
        return n;
      } finally {
        fs.closeSync(out);
      }
    } finally {
      fs.closeSync(src.fd);
    }
  }
  if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
    const existing = lstatAt(dstDir, dstName);
    if (existing && !existing.isDirectory()) fs.unlinkSync(atPath(dstDir, dstName));
    c.sys.mknod(atPath(dstDir, dstName), st.mode, st.rdev);
    fs.lchownSync(atPath(dstDir, dstName), uid, gid);
  }
  return 0;
}

/** The entries of open directory src copied into open directory out, whose mode and owner become src's. */
export function copyDirInto(c: CopyInto, src: number, out: number, rel: string, ignore: readonly IgnorePattern[], keepOwner: boolean, st: fs.Stats, top = false): number {
  let bytes = 0;
  for (const name of fs.readdirSync(atPath(src)).sort()) {
    const r = rel === "." ? name : `${rel}/${name}`;
    if (ignore.length && isIgnored(ignore, r)) {
      if (reincludesBelow(ignore, r) && lstatAt(src, name)?.isDirectory()) bytes += copyIgnoredDir(c, src, name, out, r, ignore, keepOwner);
      continue;
    }
    bytes += copyEntry(c, src, name, out, name, r, ignore, keepOwner);
  }
  // The destination of `COPY dir/ /dest` keeps its own metadata: only what is below it is copied.
  if (top) return bytes;
  const [uid, gid] = ownerOf(c, st, keepOwner);
  fs.fchownSync(out, uid, gid);
  fs.fchmodSync(out, c.chmod ?? st.mode & 0o7777);
  fs.futimesSync(out, st.atime, st.mtime);
  return bytes;
}

/** An ignored directory an exception looks into: copied with what is brought back, else not at all. */
function copyIgnoredDir(c: CopyInto, src: number, name: string, out: number, rel: string, ignore: readonly IgnorePattern[], keepOwner: boolean): number {
  const existed = lstatAt(out, name) !== undefined;
  const bytes = copyEntry(c, src, name, out, name, rel, ignore, keepOwner);
  if (!existed && fs.readdirSync(atPath(out, name)).length === 0) fs.rmdirSync(atPath(out, name));
  return bytes;
}

/**
 * One source (relative to srcRoot) copied to the image path `dest`: a directory's contents into
 * dest, a file or link to dest itself or into it when `intoDir`.
 */
export function copySource(c: CopyInto, srcRoot: number, rel: string, dest: string, intoDir: boolean, ignore: readonly IgnorePattern[], keepOwner: boolean, resolve = BENEATH): void {
  const parent = path.posix.dirname(rel);
  const base = path.posix.basename(rel);
  const srcDir = rel === "." ? fs.openSync(atPath(srcRoot), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC) : openDirAt(c.sys, srcRoot, parent, resolve);
  try {
    const st = rel === "." ? fs.fstatSync(srcDir) : lstatAt(srcDir, base);
    if (!st) throw new FailedPreconditionError(`Cannot copy "${rel}": not found`);
    if (st.isDirectory()) {
      const out = openUpperDir(c, dest, c.chmod ?? 0o755, c.owner);
      try {
        const src = rel === "." ? fs.openSync(atPath(srcDir), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC) : openDirAt(c.sys, srcDir, base, BENEATH);
        try {
          copyDirInto(c, src, out, rel, ignore, keepOwner, st, true);
        } finally {
          fs.closeSync(src);
        }
      } finally {
        fs.closeSync(out);
      }
      return;
    }
    const target = intoDir ? path.posix.join(dest, base) : dest;
    const out = openUpperDir(c, path.posix.dirname(target), 0o755, undefined);
    try {
      copyEntry(c, srcDir, base, out, path.posix.basename(target), rel, ignore, keepOwner);
    } finally {
      fs.closeSync(out);
    }
  } finally {
    fs.closeSync(srcDir);
  }
}

export { IN_ROOT, BENEATH };
