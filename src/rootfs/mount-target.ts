// Where a mount goes inside a container's root, found as the runtime's init finds it
// (src/sys/init/paths.c resolve, runc's securejoin): every name is resolved by the kernel with
// openat2 RESOLVE_IN_ROOT, so a symlink the container left (to "/", to a host directory, "../../..")
// resolves inside the root; what is missing is made there, a dangling symlink met while making it
// continued from its target, still inside. The result is an O_PATH fd: the mount is made on
// /proc/self/fd/<fd>, which is that inode, never a path the host resolves again.
import fs from "node:fs";
import { errnoCode, FailedPreconditionError } from "../errors.ts";
import type { Sys } from "../sys/sys.ts";
import { atPath, BENEATH, IN_ROOT, O_CLOEXEC, O_PATH } from "./beneath.ts";
import { MAX_SYMLINKS } from "./safepath.ts";

const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW, O_DIRECTORY } = fs.constants;

function openInRoot(sys: Sys, rootFd: number, rel: string, flags: number): number | undefined {
  try {
    return sys.openat2(rootFd, rel || ".", flags | O_CLOEXEC, 0, IN_ROOT);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * The container path `p` below rootFd as an O_PATH fd, made when missing: directories on the way,
 * and the last name a directory (`kind` "dir") or an empty file ("file").
 */
export function openMountTarget(sys: Sys, rootFd: number, p: string, kind: "dir" | "file"): number {
  let parts = p.split("/").filter((x) => x !== "" && x !== ".");
  for (let links = 0; links <= MAX_SYMLINKS; links++) {
    const whole = openInRoot(sys, rootFd, parts.join("/"), O_PATH);
    if (whole !== undefined) return whole;
    // The first missing name: made in its parent (which exists), or, a dangling symlink, followed.
    let redirected = false;
    for (let i = 0; i < parts.length && !redirected; i++) {
      const here = openInRoot(sys, rootFd, parts.slice(0, i + 1).join("/"), O_PATH);
      if (here !== undefined) {
        fs.closeSync(here);
        continue;
      }
      const parent = openInRoot(sys, rootFd, parts.slice(0, i).join("/"), O_PATH | O_DIRECTORY);
      if (parent === undefined) throw new FailedPreconditionError(`Cannot make the mount point ${p}: its parent vanished`);
      const name = parts[i]!;
      try {
        try {
          if (i === parts.length - 1 && kind === "file") {
            fs.closeSync(sys.openat2(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644, BENEATH));
          } else {
            // mkdir does not follow a symlink at the last name: EEXIST.
            fs.mkdirSync(atPath(parent, name), { mode: 0o755 });
          }
        } catch (err) {
          if (errnoCode(err) !== "EEXIST") throw err;
          const st = fs.lstatSync(atPath(parent, name), { throwIfNoEntry: false });
          if (!st?.isSymbolicLink()) throw err;
          const target = fs.readlinkSync(atPath(parent, name), "utf8");
          const rest = parts.slice(i + 1);
          parts = [...(target.startsWith("/") ? [] : parts.slice(0, i)), ...target.split("/"), ...rest].filter((x) => x !== "" && x !== ".");
          redirected = true;
        }
      } finally {
        fs.closeSync(parent);
      }
    }
  }
  throw new FailedPreconditionError(`Cannot make the mount point ${p}: too many levels of symbolic links`);
}
