// File operations on trees that someone else controls (a container's root, an image's rootfs, a
// host directory a container's files were copied into), done from directory fds so that nothing the
// tree holds can send the host anywhere else, as runc's securejoin, containerd's continuity/fs and
// moby's pkg/archive take care to:
//
// - paths are resolved by the kernel (openat2): IN_ROOT clamps a container's symlinks to its root;
//   BENEATH|NO_SYMLINKS refuses any link in a path below a directory fd;
// - a file is first opened O_PATH|O_NOFOLLOW (no driver open, no FIFO wait), checked with fstat, and
//   only a regular file is reopened for reading or writing, through /proc/self/fd (the same inode,
//   which cannot be swapped meanwhile): a FIFO, a device node or a socket is never opened;
// - whatever stands where a file or directory is to be written and is not one (a FIFO, a device, a
//   symlink) is unlinked and replaced, as moby's createTarFile does, never written through;
// - reads are capped, so a huge sparse file cannot fill memory.
//
// The single-name *at calls Node has no form of (lstat, mkdir, unlink, symlink, readlink, lchown)
// go through /proc/self/fd/<dirfd>/<name>: the kernel resolves the directory by its fd and does not
// follow the last name, which is what fstatat(AT_SYMLINK_NOFOLLOW), mkdirat and unlinkat do.
import fs from "node:fs";
import { errnoCode, FailedPreconditionError } from "../errors.ts";
import { O_CLOEXEC, RESOLVE, type Sys } from "../sys/sys.ts";

export const O_PATH = 0o10000000;
export { O_CLOEXEC };
const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = fs.constants;

/** Symlinks resolved inside the directory fd as if it were "/" (a container's or image's root). */
export const IN_ROOT = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS;
/** No symlink at all, no ".." above the directory fd: a path below a directory we walk ourselves. */
export const BENEATH = RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS;

/** The most read of a container's or image's /etc file (passwd, group): far above any real one. */
export const MAX_ETC_FILE = 1 << 20;

/** What a file of the tree turned out to be when a regular file was needed. */
export class NotRegularFileError extends FailedPreconditionError {
  readonly what: string;
  constructor(name: string, what: string) {
    super(`Cannot open "${name}": it is ${what}, not a regular file`);
    this.what = what;
  }
}

/** A file of the tree over the size a reader accepts. */
export class FileTooLargeError extends FailedPreconditionError {}

/** The path naming entry `name` of an open directory (or the directory itself) without following `name`. */
export function atPath(dirFd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${dirFd}` : `/proc/self/fd/${dirFd}/${name}`;
}

/** lstat of one entry of an open directory; undefined when absent. */
export function lstatAt(dirFd: number, name: string): fs.Stats | undefined {
  return fs.lstatSync(atPath(dirFd, name), { throwIfNoEntry: false });
}

/**
 * lstat of `rel` (several names) below dirFd, no symlink followed on the way nor at the end, so a
 * tree changed meanwhile cannot point it elsewhere; undefined when absent, or when a name on the way
 * is not a directory or (swapped in) a symlink.
 */
export function lstatBeneath(sys: Sys, dirFd: number, rel: string): fs.BigIntStats | undefined {
  let fd: number;
  try {
    fd = sys.openat2(dirFd, rel, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, BENEATH);
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP" || code === "EXDEV") return undefined;
    throw err;
  }
  try {
    return fs.fstatSync(fd, { bigint: true });
  } finally {
    fs.closeSync(fd);
  }
}

/** "a FIFO", "a block device"… for messages. */
export function kindOf(st: fs.Stats): string {
  if (st.isFile()) return "a regular file";
  if (st.isDirectory()) return "a directory";
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isFIFO()) return "a FIFO";
  if (st.isBlockDevice()) return "a block device";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isSocket()) return "a socket";
  return "a special file";
}

/** A directory below dirFd (rel may be "." or several names), resolved as `resolve` says. */
export function openDirAt(sys: Sys, dirFd: number, rel: string, resolve: number): number {
  return sys.openat2(dirFd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, resolve);
}

/**
 * The regular file `rel` below dirFd opened with `flags` (O_RDONLY, O_WRONLY|O_TRUNC…), and its
 * stat. Its last name is not followed unless `follow` (then resolve must keep symlinks inside, as
 * IN_ROOT does). Anything but a regular file is refused (NotRegularFileError) without being opened.
 */
export function openFileAt(sys: Sys, dirFd: number, rel: string, flags: number, resolve: number, follow = false): { fd: number; st: fs.Stats } {
  const pathFd = sys.openat2(dirFd, rel, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW), 0, resolve);
  try {
    return reopenRegular(pathFd, flags, rel);
  } finally {
    fs.closeSync(pathFd);
  }
}

/** The regular file an O_PATH fd holds, opened with `flags`; anything else refused unopened. */
export function reopenRegular(pathFd: number, flags: number, name: string): { fd: number; st: fs.Stats } {
  const st = fs.fstatSync(pathFd);
  if (!st.isFile()) throw new NotRegularFileError(name, kindOf(st));
  // The inode pathFd holds, reopened: whatever replaced the name since is not what gets opened.
  const fd = fs.openSync(atPath(pathFd), flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  return { fd, st };
}

/**
 * The text of the regular file `rel` of a tree, at most `max` bytes (FileTooLargeError beyond,
 * whatever the file's size claims); undefined when it does not exist. Symlinks are followed as
 * `resolve` allows (IN_ROOT: inside the root).
 */
export function readFileAt(sys: Sys, dirFd: number, rel: string, max: number, resolve: number): string | undefined {
  let opened: { fd: number; st: fs.Stats };
  try {
    opened = openFileAt(sys, dirFd, rel, O_RDONLY, resolve, true);
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
  const { fd, st } = opened;
  try {
    if (st.size > max) throw new FileTooLargeError(`Cannot read "${rel}": ${st.size} bytes, more than the ${max} read from a container's file`);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    // Bounded: each read returns at least a byte until EOF, and the buffer holds max + 1.
    while (n < buf.length) {
      const got = fs.readSync(fd, buf, n, buf.length - n, null);
      if (got <= 0) break;
      n += got;
    }
    if (n > max) throw new FileTooLargeError(`Cannot read "${rel}": more than the ${max} bytes read from a container's file`);
    return buf.subarray(0, n).toString("utf8");
  } finally {
    fs.closeSync(fd);
  }
}

/** Removes entry `name` of dirFd unless it is a directory; true when something was removed. */
function unlinkNonDir(dirFd: number, name: string, st: fs.Stats | undefined): boolean {
  if (!st || st.isDirectory()) return false;
  fs.unlinkSync(atPath(dirFd, name));
  return true;
}

/**
 * A regular file `name` of dirFd open for writing, empty: an existing regular file is truncated in
 * place (its inode kept, as a bind-mounted file needs); a FIFO, device, socket or symlink there is
 * unlinked and a new file created (O_EXCL: never opened through); a directory there is an error.
 */
export function createFileAt(sys: Sys, dirFd: number, name: string, mode: number): number {
  const st = lstatAt(dirFd, name);
  if (st?.isDirectory()) throw new FailedPreconditionError(`Cannot write file "${name}": a directory is in the way`);
  if (st?.isFile()) {
    try {
      return openFileAt(sys, dirFd, name, O_WRONLY | O_TRUNC, BENEATH).fd;
    } catch (err) {
      // Replaced since the lstat: handled as the new thing it is, below.
      if (!(err instanceof NotRegularFileError) && errnoCode(err) !== "ENOENT") throw err;
    }
  }
  unlinkNonDir(dirFd, name, lstatAt(dirFd, name));
  const fd = sys.openat2(dirFd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode & 0o7777, BENEATH);
  return fd;
}

/**
 * The directory `name` of dirFd, opened (made with `mode` first when absent; whatever non-directory
 * stands there, a symlink included, unlinked first). Returns its fd.
 */
export function ensureDirAt(sys: Sys, dirFd: number, name: string, mode: number): number {
  const st = lstatAt(dirFd, name);
  if (!st?.isDirectory()) {
    unlinkNonDir(dirFd, name, st);
    fs.mkdirSync(atPath(dirFd, name), { mode: mode & 0o777 });
  }
  // Swapped for a symlink meanwhile: refused here (ELOOP), never followed.
  return openDirAt(sys, dirFd, name, BENEATH);
}

/** A symlink `name` → target in dirFd, replacing any non-directory there. */
export function symlinkAt(dirFd: number, name: string, target: string): void {
  unlinkNonDir(dirFd, name, lstatAt(dirFd, name));
  fs.symlinkSync(target, atPath(dirFd, name));
}

/** Filesystems of the kernel's own (proc, sysfs, cgroup, devpts, mqueue…): never a container's files. */
const PSEUDO_FS = new Set([0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x1cd1, 0x19800202, 0x73636673, 0x64626720, 0x74726163, 0xcafe4a11, 0x6e736673]);

/** Whether the directory open as fd is on a pseudo filesystem (/proc, /sys…), whose "files" are the kernel's. */
export function onPseudoFs(fd: number): boolean {
  return PSEUDO_FS.has(fs.statfsSync(atPath(fd)).type);
}

/** Copies fd to fd until EOF; the bytes copied. */
export function copyFd(input: number, output: number): number {
  const buf = Buffer.alloc(1 << 20);
  let total = 0;
  for (;;) {
    const n = fs.readSync(input, buf, 0, buf.length, null);
    if (n <= 0) return total;
    let off = 0;
    while (off < n) off += fs.writeSync(output, buf, off, n - off);
    total += n;
  }
}

/** mode, owner and times of an open file or directory set from `st` (owner optional). */
export function applyMeta(fd: number, st: fs.Stats, owner: [number, number] | null, times = true): void {
  if (owner) fs.fchownSync(fd, owner[0], owner[1]);
  // After fchown, which clears setuid/setgid bits.
  fs.fchmodSync(fd, st.mode & 0o7777);
  if (times) fs.futimesSync(fd, st.atime, st.mtime);
}

/**
 * Entry `name` of srcDirFd copied to entry `dstName` of dstDirFd with its mode, owner and times:
 * directories recursively, symlinks as links, regular files by content; FIFOs, devices and sockets
 * are left out. Neither side's symlinks are followed. The bytes of file content copied.
 */
export function copyEntryAt(sys: Sys, srcDirFd: number, name: string, dstDirFd: number, dstName: string): number {
  const st = lstatAt(srcDirFd, name);
  if (!st) return 0; // gone meanwhile
  if (st.isSymbolicLink()) {
    symlinkAt(dstDirFd, dstName, fs.readlinkSync(atPath(srcDirFd, name)));
    fs.lchownSync(atPath(dstDirFd, dstName), st.uid, st.gid);
    return 0;
  }
  if (st.isDirectory()) {
    const src = openDirAt(sys, srcDirFd, name, BENEATH);
    try {
      const out = ensureDirAt(sys, dstDirFd, dstName, 0o700);
      try {
        return copyDirContentsAt(sys, src, out);
      } finally {
        fs.closeSync(out);
      }
    } finally {
      fs.closeSync(src);
    }
  }
  if (!st.isFile()) return 0;
  let src: { fd: number; st: fs.Stats };
  try {
    src = openFileAt(sys, srcDirFd, name, O_RDONLY, BENEATH);
  } catch (err) {
    if (err instanceof NotRegularFileError) return 0; // swapped for a FIFO or a device meanwhile
    throw err;
  }
  try {
    return copyFileTo(sys, src.fd, src.st, dstDirFd, dstName);
  } finally {
    fs.closeSync(src.fd);
  }
}

/** Every entry of directory src copied into directory out, whose mode and owner then become src's. */
export function copyDirContentsAt(sys: Sys, src: number, out: number): number {
  const st = fs.fstatSync(src);
  let bytes = 0;
  // A running container's /proc or /sys: the kernel's, not its files (and /proc/kcore is 128 TiB).
  if (!onPseudoFs(src)) for (const name of fs.readdirSync(atPath(src))) bytes += copyEntryAt(sys, src, name, out, name);
  applyMeta(out, st, [st.uid, st.gid], false);
  return bytes;
}

/** An open regular file (stat st) copied to entry `dstName` of dstDirFd, with st's mode, owner and times. */
export function copyFileTo(sys: Sys, fd: number, st: fs.Stats, dstDirFd: number, dstName: string): number {
  const out = createFileAt(sys, dstDirFd, dstName, st.mode);
  try {
    const bytes = copyFd(fd, out);
    applyMeta(out, st, [st.uid, st.gid]);
    return bytes;
  } finally {
    fs.closeSync(out);
  }
}
