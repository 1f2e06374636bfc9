// One layer's entries written into its directory: one synchronous fs call sequence per tar entry,
// never outside the layer (safepath.ts), with the archive's owners, modes, xattrs and times, and
// each failure turned into one error naming the layer and the entry.
import fs from "node:fs";
import {
  DataLossError,
  errnoCode,
  FailedPreconditionError,
  InternalError,
  oneLine,
  PermissionError,
  SyscallError,
  TinydockError,
  UnavailableError,
} from "../errors.ts";
import { writeOnPool } from "../atomic.ts";
import { makedev, S_IFBLK, S_IFCHR, S_IFIFO, type Sys } from "../sys/sys.ts";
import { copyFromLower, findInLayers } from "./crosslayer.ts";
import { LayerRoot, splitEntryPath, UnsafePathError } from "./safepath.ts";
import { RefusedEntry, setEntryXattrs, tarTime } from "./entrymeta.ts";
import { quote, type TarHeader, type TarReader } from "./tar.ts";
import { isWhiteoutNode, markOpaque, parseWhiteout, writeWhiteout } from "./whiteout.ts";

export interface LayerWriterOptions {
  sys: Sys;
  /** for messages, e.g. "layer sha256:0123abcd…" */
  what: string;
  /** The unpacked directories of the layers below, topmost first (see UnpackOptions.lowers). */
  lowers?: () => Promise<string[]>;
  /**
   * The tar's chunks are the writer's to keep (a decompressor's fresh output, never reused): big
   * bodies may then be written behind, on the thread pool (see fileBehind).
   */
  ownsChunks?: boolean;
}

/** Bodies of this size and more are written behind when they may be; smaller ones cost less in place. */
const BEHIND_MIN_BYTES = 64 * 1024;
/** Bounds on what is written behind: bytes held, files open. */
const BEHIND_MAX_BYTES = 8 << 20;
const BEHIND_MAX_FILES = 32;

/** Far above any real layer (a full Debian has ~10k directories); bounds the deferred-times map. */
export const MAX_DIRECTORIES = 1 << 20;

const O_CREATE_FILE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** A reason an entry is refused; add() turns it into a DataLossError naming the entry. */
export class LayerWriter {
  private readonly root: LayerRoot;
  private readonly sys: Sys;
  private readonly what: string;
  /** Directory path → [atime, mtime], applied by finish(): writing children changes them. */
  private readonly dirTimes = new Map<string, [number, number]>();
  private readonly lowers: (() => Promise<string[]>) | undefined;
  private lowerDirs: Promise<string[]> | undefined;
  private readonly ownsChunks: boolean;
  /** Writes and file ends still on the thread pool (they never reject), their bytes, open files. */
  private readonly behind = new Set<Promise<void>>();
  private behindBytes = 0;
  private behindFiles = 0;
  /** The first failure of a write behind, already naming its entry. */
  private failure: TinydockError | undefined;
  crossLayerLinks = 0;

  constructor(dest: string, opts: LayerWriterOptions) {
    this.sys = opts.sys;
    this.what = opts.what;
    this.lowers = opts.lowers;
    this.ownsChunks = opts.ownsChunks ?? false;
    try {
      this.root = new LayerRoot(dest);
    } catch (e) {
      // The caller's directory, not the archive, is at fault.
      const reason = e instanceof UnsafePathError ? e.message : (errnoCode(e) ?? String(e));
      throw new FailedPreconditionError(`Cannot unpack ${opts.what} into ${quote(dest)}: ${reason}`, { cause: e });
    }
  }

  async add(h: TarHeader, tar: TarReader): Promise<void> {
    if (this.failure) throw this.failure;
    try {
      await this.entry(h, tar);
    } catch (e) {
      throw this.wrap(h.name, e);
    }
  }

  /** Every write behind done, then directory times, deepest first, never through a symlink. */
  async finish(): Promise<void> {
    await this.settled();
    if (this.failure) throw this.failure;
    const dirs = [...this.dirTimes].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [path, [atime, mtime]] of dirs) {
      try {
        fs.lutimesSync(path, tarTime(atime), tarTime(mtime));
      } catch (e) {
        throw this.wrap(path === this.root.path ? "." : path.slice(this.root.path.length + 1), e);
      }
    }
  }

  private async entry(h: TarHeader, tar: TarReader): Promise<void> {
    if (h.name.includes("\0") || h.linkname.includes("\0")) throw new RefusedEntry("has a NUL byte in its name or link target");
    const parts = splitEntryPath(h.name);
    if (parts === null) throw new RefusedEntry("escapes the layer");
    if (parts.length === 0) {
      if (h.type !== "directory") throw new RefusedEntry("would replace the layer root");
      this.metadata(this.root.path, h, false);
      this.dirTimes.set(this.root.path, [h.atime ?? h.mtime, h.mtime]);
      return;
    }
    const base = parts[parts.length - 1]!;
    const whiteout = parseWhiteout(base);
    if (whiteout) {
      switch (whiteout.kind) {
        case "opaque":
          markOpaque(this.sys, this.root.dir(parts, parts.length - 1, true));
          return;
        case "meta":
          return;
        case "invalid":
          throw new RefusedEntry(`is a whiteout of ${quote(whiteout.name)}, which is not a file name`);
        case "remove": {
          const path = `${this.root.dir(parts, parts.length - 1, true)}/${whiteout.name}`;
          // OCI: a whiteout hides lower layers only; what this layer itself put there stays.
          if (fs.lstatSync(path, { throwIfNoEntry: false }) === undefined) writeWhiteout(this.sys, path);
          return;
        }
      }
    }
    const path = `${this.root.dir(parts, parts.length - 1, true)}/${base}`;
    switch (h.type) {
      case "file":
        return this.file(path, h, tar);
      case "directory":
        return this.directory(path, parts.join("/"), h);
      case "symlink":
        if (h.linkname === "") throw new RefusedEntry("is a symlink with an empty target");
        this.create(path, () => fs.symlinkSync(h.linkname, path));
        this.metadata(path, h, true);
        return;
      case "hardlink":
        return this.hardlink(path, h);
      case "char":
      case "block":
      case "fifo": {
        const type = h.type === "char" ? S_IFCHR : h.type === "block" ? S_IFBLK : S_IFIFO;
        const dev = h.type === "fifo" ? 0 : makedev(h.devmajor, h.devminor);
        this.create(path, () => this.sys.mknod(path, type | (h.mode & 0o777), dev));
        this.metadata(path, h, false);
        return;
      }
    }
  }

  /** Waits for every write behind (a failure is kept for add and finish); for error paths too. */
  async settled(): Promise<void> {
    while (this.behind.size > 0) await Promise.all(this.behind);
  }

  private async file(path: string, h: TarHeader, tar: TarReader): Promise<void> {
    const behind = this.ownsChunks && h.size >= BEHIND_MIN_BYTES && !h.xattrs;
    while (behind && this.behindFiles >= BEHIND_MAX_FILES) await Promise.race(this.behind);
    let fd = -1;
    this.create(path, () => {
      fd = fs.openSync(path, O_CREATE_FILE, 0o600);
    });
    if (behind) return this.fileBehind(fd, h, tar);
    try {
      if (h.size > 0) {
        await tar.body((bytes) => {
          for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, bytes.length - off);
        });
      }
      // chown clears setuid/setgid and file capabilities, so: owner, then mode, then xattrs.
      fs.fchownSync(fd, h.uid, h.gid);
      fs.fchmodSync(fd, h.mode);
      setEntryXattrs(this.sys, path, h);
      fs.futimesSync(fd, tarTime(h.atime ?? h.mtime), tarTime(h.mtime));
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * A big body, then owner, mode and times, written by the thread pool in order while the next
   * entries are read: this thread does not pay the copy into the page cache. Calls on the fd only (no
   * xattrs: those go by path), so an entry that later replaces or links the name finds what a write
   * in place would have left. finish() waits for all of it.
   */
  private async fileBehind(fd: number, h: TarHeader, tar: TarReader): Promise<void> {
    this.behindFiles++;
    let chain: Promise<void> = Promise.resolve();
    let at = 0;
    const queue = (bytes: number, op: () => Promise<void> | void) => {
      this.behindBytes += bytes;
      const done = chain
        .then(async () => {
          if (this.failure === undefined) await op();
        })
        .catch((e) => {
          this.failure ??= this.wrap(h.name, e);
        })
        .finally(() => {
          this.behindBytes -= bytes;
          this.behind.delete(done);
        });
      this.behind.add(done);
      chain = done;
    };
    try {
      await tar.body(async (bytes) => {
        const pos = at;
        at += bytes.length;
        queue(bytes.length, async () => {
          for (let off = 0; off < bytes.length; ) off += await writeOnPool(fd, bytes, off, pos + off);
        });
        while (this.behindBytes > BEHIND_MAX_BYTES) await Promise.race(this.behind);
      });
    } finally {
      queue(0, () => {
        try {
          if (this.failure !== undefined) return;
          fs.fchownSync(fd, h.uid, h.gid);
          fs.fchmodSync(fd, h.mode);
          fs.futimesSync(fd, tarTime(h.atime ?? h.mtime), tarTime(h.mtime));
        } finally {
          fs.closeSync(fd);
          this.behindFiles--;
        }
      });
    }
  }

  private directory(path: string, key: string, h: TarHeader): void {
    try {
      fs.mkdirSync(path, 0o700);
    } catch (e) {
      if (errnoCode(e) !== "EEXIST") throw e;
      // Directory over directory keeps the contents and takes the new metadata.
      if (!this.clear(path, true)) fs.mkdirSync(path, 0o700);
    }
    this.root.remember(key, path);
    this.metadata(path, h, false);
    // Bounded: a layer of nothing but directory headers must not grow this without end.
    if (this.dirTimes.size >= MAX_DIRECTORIES && !this.dirTimes.has(path)) {
      throw new RefusedEntry(`is directory number ${MAX_DIRECTORIES + 1}; a layer may have at most ${MAX_DIRECTORIES}`);
    }
    this.dirTimes.set(path, [h.atime ?? h.mtime, h.mtime]);
  }

  private async hardlink(path: string, h: TarHeader): Promise<void> {
    const parts = splitEntryPath(h.linkname);
    if (parts === null) throw new RefusedEntry(`links to ${quote(h.linkname)}, outside the layer`);
    if (parts.length === 0) throw new RefusedEntry("links to the layer root");
    let target: string | undefined;
    try {
      target = `${this.root.dir(parts, parts.length - 1, false)}/${parts[parts.length - 1]}`;
    } catch (e) {
      if (!(e instanceof UnsafePathError)) throw e;
    }
    const st = target === undefined ? undefined : fs.lstatSync(target, { throwIfNoEntry: false });
    // A whiteout this layer made removed the name: there is nothing to link to any more.
    if (st === undefined || isWhiteoutNode(st)) {
      if (!this.lowers) throw new RefusedEntry(`links to ${quote(h.linkname)}, which is not in the layer`);
      return this.lowerLink(path, parts, h.linkname);
    }
    if (st.isDirectory()) throw new RefusedEntry(`links to ${quote(h.linkname)}, which is a directory`);
    if (target === path) return;
    // link(2) does not follow a symlink at `target`: the link is to the symlink itself. Hard links
    // take no metadata of their own (containerd, umoci): they share the target's inode.
    this.create(path, () => fs.linkSync(target!, path));
  }

  /** A hard link to a file of a lower layer: a copy of it (crosslayer.ts). */
  private async lowerLink(path: string, parts: string[], linkname: string): Promise<void> {
    // This layer is searched too: none of its files may be half written.
    await this.settled();
    this.lowerDirs ??= this.lowers!();
    const found = findInLayers([this.root.path, ...(await this.lowerDirs)], parts, this.sys);
    if (typeof found === "string") throw new RefusedEntry(`links to ${quote(linkname)}, ${found}`);
    if (!copyFromLower(this.sys, found, path, (make) => this.create(path, make))) {
      throw new RefusedEntry(`links to ${quote(linkname)}, which is not a regular file or symlink in a lower layer`);
    }
    this.crossLayerLinks++;
  }

  /** Runs `make`, which fails with EEXIST if `path` exists; then replaces what is there. */
  private create(path: string, make: () => void): void {
    try {
      make();
    } catch (e) {
      if (errnoCode(e) !== "EEXIST" && !(e instanceof SyscallError && e.code === "EEXIST")) throw e;
      this.clear(path, false);
      make();
    }
  }

  /**
   * Removes what is at `path` so a later entry can replace it; a directory stays when `keepDir`.
   * Returns whether a directory remains.
   */
  private clear(path: string, keepDir: boolean): boolean {
    const st = fs.lstatSync(path, { throwIfNoEntry: false });
    if (st === undefined) return false;
    if (st.isDirectory()) {
      if (keepDir) return true;
      fs.rmSync(path, { recursive: true, force: true });
      this.root.forget();
      for (const dir of this.dirTimes.keys()) {
        if (dir === path || dir.startsWith(`${path}/`)) this.dirTimes.delete(dir);
      }
      return false;
    }
    fs.unlinkSync(path);
    if (st.isSymbolicLink()) this.root.forget();
    return false;
  }

  /** Owner, then mode (chown clears setuid), then xattrs, then times (dirs: later). */
  private metadata(path: string, h: TarHeader, symlink: boolean): void {
    fs.lchownSync(path, h.uid, h.gid);
    // `path` was just made or lstat'ed as a non-symlink by this process, the only writer.
    if (!symlink) fs.chmodSync(path, h.mode);
    setEntryXattrs(this.sys, path, h);
    if (h.type !== "directory") fs.lutimesSync(path, tarTime(h.atime ?? h.mtime), tarTime(h.mtime));
  }


  /** One line naming the layer and the entry; the kind says whose fault it is. */
  private wrap(name: string, e: unknown): TinydockError {
    const entry = `Cannot unpack ${this.what}: entry ${quote(name)}`;
    if (e instanceof RefusedEntry || e instanceof UnsafePathError) return new DataLossError(`${entry} ${e.message}`);
    if (e instanceof SyscallError) return byErrno(`${entry}: ${oneLine(e.message)}`, e.code, e);
    if (e instanceof TinydockError) return e; // the tar reader, the meter, the source
    const code = errnoCode(e);
    if (code) {
      const syscall = (e as { syscall?: unknown }).syscall;
      return byErrno(`${entry}: ${typeof syscall === "string" ? `${syscall}: ` : ""}${code}`, code, e);
    }
    return new InternalError(`${entry}: ${oneLine(e instanceof Error ? e.message : String(e))}`, { cause: e });
  }
}

function byErrno(message: string, code: string, cause: unknown): TinydockError {
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
    case "EIO":
    case "EROFS":
    case "EMFILE":
    case "ENFILE":
    case "ENOMEM":
      return new UnavailableError(message, { cause });
    case "EPERM":
    case "EACCES":
      return new PermissionError(message, { cause });
    default:
      // ENAMETOOLONG, ENOTDIR, EINVAL, E2BIG, ELOOP…: what the archive asked for cannot be made.
      return new DataLossError(message, { cause });
  }
}


function depth(path: string): number {
  let n = 0;
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) n++;
  return n;
}
