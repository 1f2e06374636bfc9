// The build context: a directory (or a tar from stdin unpacked into one), less what .dockerignore
// excludes. COPY sources are resolved inside it only ("../x" refused; symlinks in a source's path
// refused, a symlink source copied as the link it is), and hashed for the cache: content, mode and
// owner per file, with a digest cache keyed by (inode, size, mtime, ctime) so an unchanged context
// is hashed from stat calls alone.
import fs from "node:fs";
import path from "node:path";
import { errnoCode, InvalidArgumentError, NotFoundError } from "../errors.ts";
import { readJson, writeFileAtomic } from "../atomic.ts";
import { atPath, BENEATH, lstatAt, O_CLOEXEC, O_PATH, openDirAt, openFileAt } from "../rootfs/beneath.ts";
import type { Sys } from "../sys/sys.ts";
import { hasGlob, isIgnored, matchGlob, reincludesBelow, type IgnorePattern } from "./dockerignore.ts";

export interface ContextSource {
  /** The directory sources are read from (context dir, or another stage's mounted rootfs). */
  root: string;
  ignore: readonly IgnorePattern[];
}

/** A source path cleaned relative to the context root; "../x" and the like refused. */
export function cleanSource(src: string): string {
  // An absolute source is relative to the context's root, where ".." stops (as Docker joins it).
  const n = path.posix.normalize(`/${src}`);
  if (!src.startsWith("/")) {
    const raw = path.posix.normalize(src);
    if (raw === ".." || raw.startsWith("../")) throw new InvalidArgumentError(`Cannot copy "${src}": forbidden path outside the build context`);
  }
  const clean = n.replace(/\/+$/, "");
  return clean === "" ? "." : clean.slice(1);
}

/** Errors of a walk meeting a name swapped meanwhile (gone, no longer a directory, now a link). */
const SWAPPED = ["ENOENT", "ENOTDIR", "ELOOP", "EXDEV"];

/**
 * A source whose parent directories include a symlink is refused: a source path never follows one.
 * Each parent is looked at from its own directory's fd, opened BENEATH the context, so a link
 * swapped in meanwhile is refused by the kernel rather than followed to a host directory.
 */
function checkNoSymlinkParents(sys: Sys, rootFd: number, rel: string, src: string): void {
  const parts = rel.split("/").slice(0, -1);
  let at = rootFd;
  try {
    for (let i = 0; i < parts.length; i++) {
      const st = lstatAt(at, parts[i]!);
      const shown = parts.slice(0, i + 1).join("/");
      const linkErr = () => new InvalidArgumentError(`Cannot copy "${src}": "${shown}" is a symbolic link, which a source path never follows`);
      if (st?.isSymbolicLink()) throw linkErr();
      if (!st?.isDirectory()) return;
      let next: number;
      try {
        next = openDirAt(sys, at, parts[i]!, BENEATH);
      } catch (err) {
        if (["ELOOP", "EXDEV"].includes(errnoCode(err) ?? "")) throw linkErr();
        if (SWAPPED.includes(errnoCode(err) ?? "")) return;
        throw err;
      }
      if (at !== rootFd) fs.closeSync(at);
      at = next;
    }
  } finally {
    if (at !== rootFd) fs.closeSync(at);
  }
}

/**
 * The relative paths a COPY source names: itself, or the glob's matches (sorted). Every name is
 * read from directory fds opened BENEATH the context: a directory swapped for a link to a host one
 * during the walk is never listed, so no host name is matched, hashed or told in a message.
 */
export function expandSource(sys: Sys, ctx: ContextSource, src: string): string[] {
  const rel = cleanSource(src);
  const rootFd = fs.openSync(ctx.root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
  try {
    if (rel !== ".") checkNoSymlinkParents(sys, rootFd, rel, src);
    if (!hasGlob(rel)) {
      if (rel !== "." && isIgnored(ctx.ignore, rel)) throw new NotFoundError(`Cannot copy "${src}": not found in the build context (excluded by .dockerignore)`);
      // A link swapped in on the way is the kernel's ELOOP or EXDEV, told by the caller.
      try {
        fs.closeSync(sys.openat2(rootFd, rel, O_PATH | fs.constants.O_NOFOLLOW | O_CLOEXEC, 0, BENEATH));
      } catch (err) {
        if (["ENOENT", "ENOTDIR"].includes(errnoCode(err) ?? "")) throw new NotFoundError(`Cannot copy "${src}": not found in the build context`);
        throw err;
      }
      return [rel];
    }
    const out: string[] = [];
    const depth = rel.split("/").length;
    const walk = (dirFd: number, dirRel: string, level: number) => {
      for (const name of fs.readdirSync(atPath(dirFd)).sort()) {
        const r = dirRel === "." ? name : `${dirRel}/${name}`;
        if (isIgnored(ctx.ignore, r) && (level === depth || !reincludesBelow(ctx.ignore, r))) continue;
        if (level === depth) {
          if (matchGlob(rel, r)) out.push(r);
          continue;
        }
        if (!lstatAt(dirFd, name)?.isDirectory()) continue;
        let sub: number;
        try {
          sub = openDirAt(sys, dirFd, name, BENEATH);
        } catch (err) {
          if (SWAPPED.includes(errnoCode(err) ?? "")) continue;
          throw err;
        }
        try {
          walk(sub, r, level + 1);
        } finally {
          fs.closeSync(sub);
        }
      }
    };
    walk(rootFd, ".", 1);
    if (!out.length) throw new NotFoundError(`Cannot copy "${src}": no source files were specified (no match in the build context)`);
    return out;
  } finally {
    fs.closeSync(rootFd);
  }
}

interface DigestEntry {
  k: string;
  d: string;
}

/** File digests keyed by a stat fingerprint, kept between builds under the store root. */
export class DigestCache {
  private map: Record<string, DigestEntry>;
  private dirty = false;
  /** Without a file: a cache of this build only. */
  constructor(private readonly file?: string) {
    this.map = file ? (readJson<Record<string, DigestEntry>>(file) ?? {}) : {};
  }
  /**
   * The digest of file `abs`, from the cache while its stat `st` is unchanged; else read from the
   * fd `open` gives (closed here), keyed by that fd's own stat.
   */
  digest(abs: string, st: fs.Stats, open: () => { fd: number; st: fs.Stats }): string {
    const hit = this.map[abs];
    if (hit && hit.k === DigestCache.key(st)) return hit.d;
    const h = new Bun.CryptoHasher("sha256");
    const opened = open();
    try {
      const buf = Buffer.alloc(1 << 20);
      for (;;) {
        const n = fs.readSync(opened.fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        h.update(buf.subarray(0, n));
      }
    } finally {
      fs.closeSync(opened.fd);
    }
    const d = h.digest("hex");
    this.map[abs] = { k: DigestCache.key(opened.st), d };
    this.dirty = true;
    return d;
  }
  private static key(st: fs.Stats): string {
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  }
  save(): void {
    if (!this.dirty || !this.file) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.file, JSON.stringify(this.map), 0o600);
    this.dirty = false;
  }
}

/**
 * The content hash of the named sources (recursively): path, type, mode, owner, content or target.
 * The tree is read from directory fds, the sources' paths resolved as `resolve` says (BENEATH for
 * the context: no link followed; IN_ROOT for a stage's rootfs) and nothing below them followed, so
 * a context changed meanwhile (a directory swapped for a link to a host one) is never read through.
 */
export function hashSources(sys: Sys, ctx: ContextSource, rels: readonly string[], cache: DigestCache, resolve: number): string {
  const h = new Bun.CryptoHasher("sha256");
  const add = (dirFd: number, name: string, rel: string) => {
    const st = lstatAt(dirFd, name);
    if (!st) throw new NotFoundError(`Cannot copy "${rel}": not found in the build context`);
    h.update(`${rel}\0${st.mode}\0${st.uid}:${st.gid}\0`);
    if (st.isSymbolicLink()) h.update(`L${fs.readlinkSync(atPath(dirFd, name))}\0`);
    else if (st.isFile()) h.update(`F${cache.digest(path.join(ctx.root, rel), st, () => openFileAt(sys, dirFd, name, fs.constants.O_RDONLY, BENEATH))}\0`);
    else if (st.isDirectory()) {
      h.update("D\0");
      const sub = openDirAt(sys, dirFd, name, BENEATH);
      try {
        for (const n of fs.readdirSync(atPath(sub)).sort()) {
          const r = rel === "." ? n : `${rel}/${n}`;
          if (!isIgnored(ctx.ignore, r) || (reincludesBelow(ctx.ignore, r) && lstatAt(sub, n)?.isDirectory())) add(sub, n, r);
        }
      } finally {
        fs.closeSync(sub);
      }
    } else h.update(`N${st.rdev}\0`);
  };
  const root = fs.openSync(ctx.root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
  try {
    for (const r of rels) {
      const parent = openDirAt(sys, root, path.posix.dirname(r), resolve);
      try {
        add(parent, path.posix.basename(r), r);
      } finally {
        fs.closeSync(parent);
      }
    }
  } finally {
    fs.closeSync(root);
  }
  return h.digest("hex");
}
