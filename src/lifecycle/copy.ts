// `docker cp` both ways. Every path inside the container is resolved by the kernel with openat2
// RESOLVE_IN_ROOT against the container's root (/proc/<pid>/root while it runs, its overlay mounted
// for the copy otherwise): a symlink in the container that points to "/" or "../../.." resolves
// inside the container, never on the host. Below the top, both sides are walked from directory fds
// (src/rootfs/beneath.ts): no symlink is followed, only regular files are ever opened (a FIFO or a
// device node the container planted is neither read nor written through, and nothing blocks), and a
// non-directory standing where a directory or file is written is replaced, as moby's archive does.
// Symlinks are copied as links.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { errnoCode, InvalidArgumentError, NotFoundError, ParseError } from "../errors.ts";
import {
  applyMeta,
  atPath,
  BENEATH,
  copyDirContentsAt,
  copyEntryAt,
  copyFd,
  copyFileTo,
  createFileAt,
  ensureDirAt,
  lstatAt,
  O_CLOEXEC,
  O_PATH,
  openDirAt,
  reopenRegular,
  symlinkAt,
} from "../rootfs/beneath.ts";
import type { ContainerRecord } from "../store/containers.ts";
import { containerRel, openIn, openRoot, refuseKernelFs } from "./container-root.ts";
import type { LiveContainer } from "./live.ts";

const { O_RDONLY, O_DIRECTORY } = fs.constants;

/** "c1:/etc/hosts" → {container: "c1", path: "/etc/hosts"}; a local path has no ":" before its first "/". */
export function parseCopyArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith("/") || arg.startsWith(".")) return { path: arg };
  const i = arg.indexOf(":");
  if (i < 0) return { path: arg };
  const slash = arg.indexOf("/");
  if (slash >= 0 && slash < i) return { path: arg };
  if (i === 0) throw new ParseError(`Cannot parse copy argument "${arg}": empty container name`);
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

export { containerRel } from "./container-root.ts";

export interface CopyOptions {
  /** -a: keep the source's uid/gid (else files copied in belong to root, as Docker). */
  archive?: boolean;
  /** -L: follow a symlink given as the source. */
  followLink?: boolean;
}

export interface CopyResult {
  bytes: number;
}

function notFound(p: string, ref: string): NotFoundError {
  return new NotFoundError(`Could not find the file ${p} in container ${ref}`);
}

/** The host directory a user named, opened as given (its symlinks are the user's own). */
function openHostDir(p: string): number {
  return fs.openSync(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

// ── Container → host ────────────────────────────────────────────────────────────────────────────
// The host side is written from directory fds too: the tree under the destination may hold what an
// earlier copy brought out of the container (a symlink to a host directory), which is replaced,
// never followed.

/** The container directory fd copied onto entry `dstName` of dstDirFd (made, or a non-directory there replaced). */
function copyDirOut(ctx: Ctx, fd: number, dstDirFd: number, dstName: string, res: CopyResult): void {
  const out = ensureDirAt(ctx.sys, dstDirFd, dstName, 0o700);
  try {
    res.bytes += copyDirContentsAt(ctx.sys, fd, out);
  } finally {
    fs.closeSync(out);
  }
}

/** `cp C:SRC DST`, Docker's rules for where the copy lands. */
export async function copyFromContainer(ctx: Ctx, c: LiveContainer, src: string, dst: string, opts: CopyOptions = {}): Promise<CopyResult> {
  const root = await openRoot(ctx, c);
  const res: CopyResult = { bytes: 0 };
  try {
    const rel = containerRel(src);
    const contentsOnly = /\/\.$/.test(src) || src === ".";
    const parentRel = rel === "." ? "." : path.posix.dirname(rel);
    const base = rel === "." ? "." : path.posix.basename(rel);
    let parentFd: number;
    try {
      parentFd = openIn(ctx, root.fd, parentRel, O_PATH | O_DIRECTORY);
    } catch (err) {
      if (errnoCode(err) === "ENOENT" || (err as { code?: string }).code === "ENOENT" || (err as { code?: string }).code === "ENOTDIR") throw notFound(src, c.record.name);
      throw err;
    }
    try {
      // The source itself: its parent resolved in the root; the last component followed only with -L.
      const follow = base === "." || (opts.followLink === true && lstatAt(parentFd, base)?.isSymbolicLink() === true);
      let st: fs.Stats | undefined;
      let ownFd = -1;
      if (follow) {
        ownFd = openIn(ctx, root.fd, rel, O_PATH);
        st = fs.fstatSync(ownFd);
      } else {
        st = lstatAt(parentFd, base);
      }
      if (!st) throw notFound(src, c.record.name);
      try {
        const dstSt = fs.statSync(dst, { throwIfNoEntry: false });
        if (st.isDirectory()) {
          if (dstSt && !dstSt.isDirectory()) throw new InvalidArgumentError(`cannot copy a directory to a file: ${dst}`);
          const fd = ownFd >= 0 ? openDirAt(ctx.sys, ownFd, ".", BENEATH) : openDirAt(ctx.sys, parentFd, base, BENEATH);
          try {
            if (dstSt && contentsOnly) {
              const out = openHostDir(dst);
              try {
                res.bytes += copyDirContentsAt(ctx.sys, fd, out);
              } finally {
                fs.closeSync(out);
              }
            } else {
              const target = dstSt ? path.join(dst, path.posix.basename(rel === "." ? "/" : rel) || "root") : dst;
              const out = openHostDir(path.dirname(target));
              try {
                copyDirOut(ctx, fd, out, path.basename(target), res);
              } finally {
                fs.closeSync(out);
              }
            }
          } finally {
            fs.closeSync(fd);
          }
        } else {
          if (!dstSt && dst.endsWith("/")) throw new NotFoundError(`Cannot copy to "${dst}": destination directory does not exist`);
          const target = dstSt?.isDirectory() ? path.join(dst, path.posix.basename(rel)) : dst;
          const out = openHostDir(path.dirname(target));
          try {
            if (ownFd >= 0 && st.isFile()) {
              const opened = reopenRegular(ownFd, O_RDONLY, src);
              try {
                res.bytes += copyFileTo(ctx.sys, opened.fd, opened.st, out, path.basename(target));
              } finally {
                fs.closeSync(opened.fd);
              }
            } else if (ownFd < 0) {
              res.bytes += copyEntryAt(ctx.sys, parentFd, base, out, path.basename(target));
            }
          } finally {
            fs.closeSync(out);
          }
        }
      } finally {
        if (ownFd >= 0) fs.closeSync(ownFd);
      }
    } finally {
      fs.closeSync(parentFd);
    }
  } finally {
    root.release();
  }
  return res;
}

// ── Host → container ────────────────────────────────────────────────────────────────────────────

function owner(st: fs.Stats, opts: CopyOptions): [number, number] {
  return opts.archive ? [st.uid, st.gid] : [0, 0];
}

/**
 * Copies host `src` to the entry `name` of the container directory open as dirFd. What the
 * container put there is never opened: a FIFO, a device node or a symlink is replaced by the file.
 */
function copyEntryIn(ctx: Ctx, src: string, dirFd: number, name: string, opts: CopyOptions, res: CopyResult): void {
  const st = fs.lstatSync(src);
  const own = owner(st, opts);
  if (st.isSymbolicLink()) {
    symlinkAt(dirFd, name, fs.readlinkSync(src));
    fs.lchownSync(atPath(dirFd, name), own[0], own[1]);
    return;
  }
  if (st.isDirectory()) {
    const fd = ensureDirAt(ctx.sys, dirFd, name, 0o700);
    try {
      for (const n of fs.readdirSync(src)) copyEntryIn(ctx, path.join(src, n), fd, n, opts, res);
      applyMeta(fd, st, own, false);
    } finally {
      fs.closeSync(fd);
    }
    return;
  }
  if (!st.isFile()) return;
  const fd = createFileAt(ctx.sys, dirFd, name, st.mode);
  try {
    writeFrom(src, fd, res);
    applyMeta(fd, st, own);
  } finally {
    fs.closeSync(fd);
  }
}

function writeFrom(src: string, fd: number, res: CopyResult): void {
  const input = fs.openSync(src, O_RDONLY | O_CLOEXEC);
  try {
    res.bytes += copyFd(input, fd);
  } finally {
    fs.closeSync(input);
  }
}

/**
 * moby's containerExtractToDir: a destination in a volume or bind mount needs that mount writable;
 * anywhere else the container's root must not be `--read-only`. Docker's words (scripts match them).
 */
export function refuseReadOnly(rec: Pick<ContainerRecord, "hostConfig" | "mounts">, dst: string): void {
  const abs = path.posix.resolve("/", dst);
  const inMount = (rec.mounts ?? [])
    .filter((m) => m.Type !== "tmpfs" && typeof m.Destination === "string")
    .filter((m) => !path.posix.relative(m.Destination as string, abs).startsWith(".."))
    .sort((a, b) => (b.Destination as string).length - (a.Destination as string).length)[0];
  if (inMount) {
    if (inMount.RW === false) throw new InvalidArgumentError("mounted volume is marked read-only");
    return;
  }
  if (rec.hostConfig?.ReadonlyRootfs === true) throw new InvalidArgumentError("container rootfs is marked read-only");
}

/** `cp SRC C:DST`: DST resolved in the container's root (its symlinks followed, inside it). */
export async function copyToContainer(ctx: Ctx, c: LiveContainer, src: string, dst: string, opts: CopyOptions = {}): Promise<CopyResult> {
  refuseReadOnly(c.record, dst);
  const srcSt = fs.lstatSync(opts.followLink ? fs.realpathSync(src) : src, { throwIfNoEntry: false });
  if (!srcSt) throw new NotFoundError(`Cannot copy "${src}": no such file or directory`);
  const realSrc = opts.followLink ? fs.realpathSync(src) : src;
  const contentsOnly = /\/\.$/.test(src);
  const root = await openRoot(ctx, c);
  const res: CopyResult = { bytes: 0 };
  try {
    const rel = containerRel(dst);
    let dstFd = -1;
    try {
      dstFd = openIn(ctx, root.fd, rel, O_PATH);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== "ENOENT") throw code === "ENOTDIR" ? notFound(dst, c.record.name) : err;
    }
    try {
      const dstSt = dstFd >= 0 ? fs.fstatSync(dstFd) : undefined;
      if (dstSt?.isDirectory()) {
        const dirFd = openIn(ctx, root.fd, rel, O_RDONLY | O_DIRECTORY);
        try {
          refuseKernelFs(dirFd, `${c.record.name}:${dst}`);
          if (srcSt.isDirectory() && contentsOnly) {
            for (const n of fs.readdirSync(realSrc)) copyEntryIn(ctx, path.join(realSrc, n), dirFd, n, opts, res);
          } else {
            copyEntryIn(ctx, realSrc, dirFd, path.basename(path.resolve(realSrc)), opts, res);
          }
        } finally {
          fs.closeSync(dirFd);
        }
        return res;
      }
      if (dstSt && srcSt.isDirectory()) throw new InvalidArgumentError(`cannot copy a directory to a file: ${dst}`);
      if (!dstSt && dst.endsWith("/") && !srcSt.isDirectory()) throw notFound(dst, c.record.name);
      // A new entry (or a file replaced): created in its parent, which must exist.
      const parentRel = rel === "." ? "." : path.posix.dirname(rel);
      let parentFd: number;
      try {
        parentFd = openIn(ctx, root.fd, parentRel, O_RDONLY | O_DIRECTORY);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "ENOENT" || code === "ENOTDIR") throw notFound(path.posix.dirname(dst), c.record.name);
        throw err;
      }
      try {
        refuseKernelFs(parentFd, `${c.record.name}:${dst}`);
        copyEntryIn(ctx, realSrc, parentFd, path.posix.basename(rel), opts, res);
      } finally {
        fs.closeSync(parentFd);
      }
    } finally {
      if (dstFd >= 0) fs.closeSync(dstFd);
    }
  } finally {
    root.release();
  }
  return res;
}
