// The build context: a directory (or a tar from stdin unpacked into one), less what .dockerignore
// excludes. COPY sources are resolved inside it only ("../x" refused; symlinks in a source's path
// refused, a symlink source copied as the link it is), and hashed for the cache: content, mode and
// owner per file, with a digest cache keyed by (inode, size, mtime, ctime) so an unchanged context
// is hashed from stat calls alone.
import fs from "node:fs";
import path from "node:path";
import { InvalidArgumentError, NotFoundError } from "../errors.ts";
import { readJson, writeFileAtomic } from "../atomic.ts";
import { atPath, BENEATH, lstatAt, O_CLOEXEC, openDirAt, openFileAt } from "../rootfs/beneath.ts";
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

/** A source whose parent directories include a symlink is refused: a source path never follows one. */
export function checkNoSymlinkParents(root: string, rel: string, src: string): void {
  const parts = rel.split("/");
  let at = root;
  for (const p of parts.slice(0, -1)) {
    at = path.join(at, p);
    const st = fs.lstatSync(at, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) throw new InvalidArgumentError(`Cannot copy "${src}": "${path.relative(root, at)}" is a symbolic link, which a source path never follows`);
    if (!st) return;
  }
}

/** The relative paths a COPY source names: itself, or the glob's matches (sorted). */
export function expandSource(ctx: ContextSource, src: string): string[] {
  const rel = cleanSource(src);
  if (rel !== ".") checkNoSymlinkParents(ctx.root, rel, src);
  if (!hasGlob(rel)) {
    if (rel !== "." && isIgnored(ctx.ignore, rel)) throw new NotFoundError(`Cannot copy "${src}": not found in the build context (excluded by .dockerignore)`);
    if (!fs.lstatSync(path.join(ctx.root, rel), { throwIfNoEntry: false })) throw new NotFoundError(`Cannot copy "${src}": not found in the build context`);
    return [rel];
  }
  const out: string[] = [];
  const depth = rel.split("/").length;
  const walk = (dirRel: string, level: number) => {
    const abs = path.join(ctx.root, dirRel);
    let names: string[];
    try {
      names = fs.readdirSync(abs).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const r = dirRel === "." ? name : `${dirRel}/${name}`;
      if (isIgnored(ctx.ignore, r) && (level === depth || !reincludesBelow(ctx.ignore, r))) continue;
      if (level === depth) {
        if (matchGlob(rel, r)) out.push(r);
      } else if (fs.lstatSync(path.join(ctx.root, r)).isDirectory()) walk(r, level + 1);
    }
  };
  walk(".", 1);
  if (!out.length) throw new NotFoundError(`Cannot copy "${src}": no source files were specified (no match in the build context)`);
  return out;
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
