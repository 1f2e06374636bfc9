// `docker cp` with "-": a tar of a container's path to STDOUT, and a tar from STDIN extracted into a
// container's directory. Docker's forms: `cp C:/etc -` gives "etc/", "etc/hosts"…, a file its base
// name, `cp C:/etc/. -` the contents as "./", "./hosts"…; a symlink goes in as itself, unless -L
// (then its target, once, under the target's name, as Docker's client resolves it). Extraction keeps
// the archive's owners and modes and never leaves the container's root (src/rootfs/untar-in-root.ts).
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { errnoCode, InvalidArgumentError, NotFoundError } from "../errors.ts";
import { lstatAt, O_PATH } from "../rootfs/beneath.ts";
import { decompressed } from "../rootfs/load.ts";
import { untarInRoot, type UntarResult } from "../rootfs/untar-in-root.ts";
import { entriesTar, walkEntry } from "../rootfs/writelayer.ts";
import { openIn, openRoot } from "./container-root.ts";
import { containerRel, refuseReadOnly } from "./copy.ts";
import { writePieces } from "./export.ts";
import type { LiveContainer } from "./live.ts";

const { O_DIRECTORY } = fs.constants;

function notFound(p: string, c: LiveContainer): NotFoundError {
  return new NotFoundError(`Could not find the file ${p} in container ${c.record.name}`);
}

function isMissing(err: unknown): boolean {
  const code = errnoCode(err) ?? (err as { code?: string }).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** `cp C:SRC -`: the tar of SRC through `write`, which may wait for its reader. */
export async function archiveFromContainer(
  ctx: Ctx,
  c: LiveContainer,
  src: string,
  opts: { followLink?: boolean },
  write: (bytes: Uint8Array) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const root = await openRoot(ctx, c);
  try {
    let rel = containerRel(src);
    const contentsOnly = /\/\.$/.test(src) || rel === ".";
    let parentFd = -1;
    const openParent = () => {
      if (parentFd >= 0) fs.closeSync(parentFd);
      parentFd = -1;
      try {
        parentFd = openIn(ctx, root.fd, rel === "." ? "." : path.posix.dirname(rel), O_PATH | O_DIRECTORY);
      } catch (err) {
        if (isMissing(err)) throw notFound(src, c);
        throw err;
      }
    };
    try {
      openParent();
      let base = rel === "." ? "." : path.posix.basename(rel);
      let st = base === "." ? fs.fstatSync(parentFd) : lstatAt(parentFd, base);
      if (!st) throw notFound(src, c);
      // A trailing "/" asks for what the symlink points to, as the kernel reads "link/".
      if (st.isSymbolicLink() && (opts.followLink || /\/\.?$/.test(src))) {
        const target = fs.readlinkSync(`/proc/self/fd/${parentFd}/${base}`);
        rel = containerRel(target.startsWith("/") ? target : path.posix.join(path.posix.dirname(`/${rel}`), target));
        openParent();
        base = rel === "." ? "." : path.posix.basename(rel);
        st = base === "." ? fs.fstatSync(parentFd) : lstatAt(parentFd, base);
        if (!st) throw notFound(src, c);
      }
      // The directory's own entry under its name ("." for its contents or the root), then below it.
      const walked =
        base === "."
          ? walkEntry(ctx.sys, parentFd, ".", ".", { merged: true })
          : contentsOnly && st.isDirectory()
            ? walkEntry(ctx.sys, parentFd, base, ".", { merged: true })
            : walkEntry(ctx.sys, parentFd, base, base, { merged: true });
      await writePieces(entriesTar(ctx.sys, walked), write, signal);
    } finally {
      if (parentFd >= 0) fs.closeSync(parentFd);
    }
  } finally {
    root.release();
  }
}

/**
 * `cp - C:DIR`: the tar read from `input` (plain, gzip or zstd) extracted into DIR, which must be a
 * directory; owned by the container's root unless -a keeps the archive's owners (Docker's documented
 * rule, as `cp HOSTPATH C:DIR` applies it).
 */
export async function extractToContainer(
  ctx: Ctx,
  c: LiveContainer,
  dst: string,
  input: ReadableStream<Uint8Array>,
  opts: { archive?: boolean } = {},
): Promise<UntarResult> {
  refuseReadOnly(c.record, dst);
  const root = await openRoot(ctx, c);
  try {
    const rel = containerRel(dst);
    let st: fs.Stats | undefined;
    try {
      const fd = openIn(ctx, root.fd, rel, O_PATH);
      st = fs.fstatSync(fd);
      fs.closeSync(fd);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    // Docker's CLI: a destination that is missing or not a directory is refused before anything is read.
    if (!st?.isDirectory()) throw new InvalidArgumentError(`destination "${c.record.name}:${dst}" must be a directory`);
    const source = decompressed(input, `the archive for ${c.record.name}:${dst}`);
    try {
      return await untarInRoot(source, { sys: ctx.sys, rootFd: root.fd, dest: rel, what: `${c.record.name}:${dst}`, ...(opts.archive ? {} : { owner: [0, 0] as const }) });
    } finally {
      await source.return(undefined);
    }
  } finally {
    root.release();
  }
}
