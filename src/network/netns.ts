// Network namespaces kept as bind-mounted nsfs files, <root>/netns/<container id>: a container
// (or `exec`, or a second container with --network container:) joins one by path, and cleanup
// finds them after a crash.
import fs from "node:fs";
import path from "node:path";
import { dirNames } from "../atomic.ts";
import { errnoCode } from "../errors.ts";
import { MNT_DETACH, type Sys } from "../sys/sys.ts";

export function netnsDir(root: string): string {
  return path.join(root, "netns");
}

export function netnsPath(root: string, id: string): string {
  return path.join(netnsDir(root), id);
}

/** A new, empty network namespace (only lo, down) at <root>/netns/<id>. */
export function createNetns(sys: Sys, root: string, id: string): string {
  const file = netnsPath(root, id);
  fs.mkdirSync(netnsDir(root), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, "", { flag: "wx", mode: 0o444 });
  try {
    sys.createNetns(file);
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
  return file;
}

/** umount + unlink; the namespace itself goes when its last process and mount are gone. */
export function removeNetns(sys: Sys, file: string): void {
  try {
    sys.umount(file, MNT_DETACH);
  } catch (err) {
    // EINVAL: not a mount point (a crash between create and bind); ENOENT: already gone.
    const code = (err as { code?: string }).code;
    if (code !== "EINVAL" && code !== "ENOENT") throw err;
  }
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
}

export function listNetnsFiles(root: string): string[] {
  return dirNames(netnsDir(root)).filter((n) => /^[a-f0-9]{64}$/.test(n));
}

/** Whether `file` is a bind-mounted network namespace (an nsfs inode), not a plain file. */
export function isMountedNetns(file: string): boolean {
  try {
    return fs.statSync(file).ino !== 0 && fs.statfsSync(file).type === 0x6e736673; // NSFS_MAGIC
  } catch {
    return false;
  }
}
