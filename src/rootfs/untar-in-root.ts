// A tar stream extracted into a directory of a tree someone else controls and may change meanwhile
// (a running container's root), with that tree's root as the boundary, as moby's chrooted untar
// keeps `docker cp - C:DIR` inside the container:
//
// - names are cleaned lexically (a leading "/" dropped); one that climbs above DIR is refused, and so
//   are a hard link to a name outside DIR and a relative symlink that leads above DIR (moby's
//   breakout checks, with its messages);
// - every parent is resolved by the kernel below the root fd (openat2 RESOLVE_IN_ROOT): a symlink,
//   the archive's own or the container's, to "/" or "../../.." resolves inside the root, and a magic
//   link (/proc/<pid>/root) is refused; missing parents are made 0755;
// - the last name is never followed: what stands there and is not a directory is unlinked and made
//   anew (O_EXCL|O_NOFOLLOW, mkdir, mknod, symlink, link), and metadata is set through fds or calls
//   that do not follow; a directory over a non-directory, or the reverse, is refused, as Docker's
//   `cp` does (NoOverwriteDirNonDir);
// - nothing is written on a pseudo filesystem (a running container's /proc, /sys): their files are
//   the kernel's, shared with the host.
// Modes, times and xattrs come from the archive, as Docker's untar keeps them; owners too, unless
// the caller names one owner for every entry.
import fs from "node:fs";
import { DataLossError, errnoCode, FailedPreconditionError, oneLine, SyscallError, TinydockError } from "../errors.ts";
import { makedev, S_IFBLK, S_IFCHR, S_IFIFO, type Sys } from "../sys/sys.ts";
import { atPath, BENEATH, createFileAt, ensureDirAt, IN_ROOT, lstatAt, O_CLOEXEC, O_PATH, onPseudoFs, symlinkAt } from "./beneath.ts";
import { MAX_DIRECTORIES } from "./layerwriter.ts";
import { splitEntryPath } from "./safepath.ts";
import { RefusedEntry, setEntryXattrs, tarTime } from "./entrymeta.ts";
import { quote, type TarHeader, TarReader } from "./tar.ts";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;

export interface UntarInRootOptions {
  sys: Sys;
  /** The tree's root, open as a directory. */
  rootFd: number;
  /** The destination directory, relative to the root (its symlinks resolved inside the root). */
  dest: string;
  /** The destination as the user named it, for messages ("c1:/tmp"). */
  what: string;
  /** Every entry's owner instead of the archive's (`docker cp` without -a: the container's root). */
  owner?: readonly [uid: number, gid: number];
}

export interface UntarResult {
  entries: number;
  bytes: number;
}

/** A reason an entry is refused; turned into one DataLossError naming the entry. */
/** Extracts the tar read from `source` into opts.dest below opts.rootFd. */
export async function untarInRoot(source: AsyncIterator<Uint8Array>, opts: UntarInRootOptions): Promise<UntarResult> {
  const x = new Extraction(opts);
  const tar = new TarReader(source, `the archive for ${opts.what}`);
  try {
    for (let h = await tar.next(); h !== null; h = await tar.next()) await x.add(h, tar);
    x.finish();
  } finally {
    x.close();
  }
  return x.result;
}

class Extraction {
  readonly result: UntarResult = { entries: 0, bytes: 0 };
  /** The last parent opened: archives list a directory's entries together. */
  private parent: { key: string; fd: number } | undefined;
  /** Directories made or updated, with their times, set last (writing children changes them). */
  private readonly dirTimes = new Map<string, [number, number]>();
  private readonly destShown: string;

  constructor(private readonly opts: UntarInRootOptions) {
    this.destShown = `/${opts.dest === "." ? "" : opts.dest}`;
  }

  async add(h: TarHeader, tar: TarReader): Promise<void> {
    this.result.entries++;
    try {
      await this.entry(h, tar);
    } catch (e) {
      throw this.wrap(h.name, e);
    }
  }

  private rel(parts: readonly string[]): string {
    return parts.length === 0 ? this.opts.dest : this.opts.dest === "." ? parts.join("/") : `${this.opts.dest}/${parts.join("/")}`;
  }

  private async entry(h: TarHeader, tar: TarReader): Promise<void> {
    if (h.name.includes("\0") || h.linkname.includes("\0")) throw new RefusedEntry("has a NUL byte in its name or link target");
    const parts = splitEntryPath(h.name);
    if (parts === null) throw new RefusedEntry(`is outside of ${quote(this.destShown)}`);
    if (parts.length === 0) {
      // The archive's "./": the destination itself, which exists and stays as it is (moby skips it).
      if (h.type !== "directory") throw new RefusedEntry("would replace the destination directory");
      return;
    }
    const base = parts[parts.length - 1]!;
    const dirFd = this.parentOf(parts);
    const there = lstatAt(dirFd, base);
    if (there?.isDirectory() && h.type !== "directory") throw new RefusedEntry(`cannot overwrite directory ${quote(this.rel(parts))} with non-directory`);
    if (there && !there.isDirectory() && h.type === "directory") throw new RefusedEntry(`cannot overwrite non-directory ${quote(this.rel(parts))} with directory`);
    switch (h.type) {
      case "file":
        return this.file(dirFd, base, h, tar);
      case "directory": {
        const fd = ensureDirAt(this.opts.sys, dirFd, base, 0o700);
        try {
          fs.fchownSync(fd, ...this.owner(h));
          fs.fchmodSync(fd, h.mode);
          setEntryXattrs(this.opts.sys, atPath(fd), h);
        } finally {
          fs.closeSync(fd);
        }
        const key = this.rel(parts);
        if (this.dirTimes.size >= MAX_DIRECTORIES && !this.dirTimes.has(key)) throw new RefusedEntry(`is directory number ${MAX_DIRECTORIES + 1}; an archive may have at most ${MAX_DIRECTORIES}`);
        this.dirTimes.set(key, [h.atime ?? h.mtime, h.mtime]);
        return;
      }
      case "symlink": {
        if (h.linkname === "") throw new RefusedEntry("is a symlink with an empty target");
        // moby: a relative target joined to the link's directory must stay below the destination.
        if (!h.linkname.startsWith("/") && splitEntryPath(`${parts.slice(0, -1).join("/")}/${h.linkname}`) === null) {
          throw new RefusedEntry(`is an invalid symlink to ${quote(h.linkname)}, outside of ${quote(this.destShown)}`);
        }
        symlinkAt(dirFd, base, h.linkname);
        return this.nodeMeta(dirFd, base, h, true);
      }
      case "hardlink": {
        // moby: the target is named relative to the destination and must stay below it.
        const target = splitEntryPath(h.linkname);
        if (target === null || target.length === 0) throw new RefusedEntry(`is a hard link to ${quote(h.linkname)}, outside of ${quote(this.destShown)}`);
        const targetDir = this.open(this.rel(target.slice(0, -1)), O_PATH | O_DIRECTORY);
        try {
          if (there) fs.unlinkSync(atPath(dirFd, base));
          // link(2) does not follow a symlink at the target: the link is to the symlink itself.
          fs.linkSync(atPath(targetDir, target[target.length - 1]!), atPath(dirFd, base));
        } finally {
          fs.closeSync(targetDir);
        }
        return;
      }
      case "char":
      case "block":
      case "fifo": {
        if (there) fs.unlinkSync(atPath(dirFd, base));
        const type = h.type === "char" ? S_IFCHR : h.type === "block" ? S_IFBLK : S_IFIFO;
        this.opts.sys.mknod(atPath(dirFd, base), type | (h.mode & 0o777), h.type === "fifo" ? 0 : makedev(h.devmajor, h.devminor));
        return this.nodeMeta(dirFd, base, h, false);
      }
    }
  }

  private async file(dirFd: number, base: string, h: TarHeader, tar: TarReader): Promise<void> {
    const fd = createFileAt(this.opts.sys, dirFd, base, 0o600);
    try {
      await tar.body((bytes) => {
        for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, bytes.length - off);
        this.result.bytes += bytes.length;
      });
      // chown clears setuid/setgid and file capabilities, so: owner, then mode, then xattrs.
      fs.fchownSync(fd, ...this.owner(h));
      fs.fchmodSync(fd, h.mode);
      setEntryXattrs(this.opts.sys, atPath(fd), h);
      fs.futimesSync(fd, tarTime(h.atime ?? h.mtime), tarTime(h.mtime));
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Owner, mode, xattrs and times of a symlink or node just made: through calls that do not follow
   * the name, or through an O_PATH fd of the very inode (a running container may have swapped the
   * name for a symlink to a host path meanwhile: chmod on the name would follow it).
   */
  private nodeMeta(dirFd: number, base: string, h: TarHeader, symlink: boolean): void {
    const p = atPath(dirFd, base);
    fs.lchownSync(p, ...this.owner(h));
    if (!symlink) {
      const fd = this.opts.sys.openat2(dirFd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, BENEATH);
      try {
        if (!fs.fstatSync(fd).isSymbolicLink()) fs.chmodSync(atPath(fd), h.mode);
      } finally {
        fs.closeSync(fd);
      }
    }
    setEntryXattrs(this.opts.sys, p, h);
    fs.lutimesSync(p, tarTime(h.atime ?? h.mtime), tarTime(h.mtime));
  }


  private owner(h: TarHeader): readonly [number, number] {
    return this.opts.owner ?? [h.uid, h.gid];
  }

  /** `rel` opened below the root, its symlinks resolved inside the root. */
  private open(rel: string, flags: number): number {
    return this.opts.sys.openat2(this.opts.rootFd, rel, flags | O_CLOEXEC, 0, IN_ROOT);
  }

  /** The directory holding entry `parts`, made (0755, root's) where missing; never on a pseudo filesystem. */
  private parentOf(parts: readonly string[]): number {
    const key = this.rel(parts.slice(0, -1));
    if (this.parent?.key === key) return this.parent.fd;
    let fd: number;
    try {
      fd = this.open(key, O_RDONLY | O_DIRECTORY);
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") throw e;
      // Made one name at a time, each in its resolved parent.
      fd = this.open(this.opts.dest, O_RDONLY | O_DIRECTORY);
      for (let i = 0; i < parts.length - 1; i++) {
        let next: number;
        try {
          next = this.open(this.rel(parts.slice(0, i + 1)), O_RDONLY | O_DIRECTORY);
        } catch (err) {
          if (errnoCode(err) !== "ENOENT") {
            fs.closeSync(fd);
            throw err;
          }
          fs.mkdirSync(atPath(fd, parts[i]!), 0o755);
          next = this.opts.sys.openat2(fd, parts[i]!, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, BENEATH);
        }
        fs.closeSync(fd);
        fd = next;
      }
    }
    if (onPseudoFs(fd)) {
      fs.closeSync(fd);
      throw new RefusedEntry(`would be written on a kernel filesystem (${quote(`/${key}`)})`);
    }
    if (this.parent) fs.closeSync(this.parent.fd);
    this.parent = { key, fd };
    return fd;
  }

  /** Directory times, deepest first; a directory gone or replaced meanwhile is left as it is. */
  finish(): void {
    const dirs = [...this.dirTimes].sort((a, b) => b[0].split("/").length - a[0].split("/").length);
    for (const [rel, [atime, mtime]] of dirs) {
      let fd: number;
      try {
        fd = this.open(rel, O_PATH | O_DIRECTORY | O_NOFOLLOW);
      } catch {
        continue;
      }
      try {
        fs.utimesSync(atPath(fd), tarTime(atime), tarTime(mtime));
      } finally {
        fs.closeSync(fd);
      }
    }
  }

  close(): void {
    if (this.parent) fs.closeSync(this.parent.fd);
    this.parent = undefined;
  }

  private wrap(name: string, e: unknown): TinydockError {
    const entry = `Cannot extract the archive into ${this.opts.what}: entry ${quote(name)}`;
    if (e instanceof RefusedEntry) return new DataLossError(`${entry} ${e.message}`);
    if (e instanceof TinydockError && !(e instanceof SyscallError)) return e;
    const code = e instanceof SyscallError ? e.code : errnoCode(e);
    const reason = code ?? oneLine(e instanceof Error ? e.message : String(e));
    return new FailedPreconditionError(`${entry}: ${reason}`, { cause: e });
  }
}
