// hostPath's `type` as the kubelet checks it (pkg/volume/hostpath): DirectoryOrCreate makes the
// directory (and its parents, 0755) when nothing is there, FileOrCreate an empty file (0644, not its
// parents); Directory, File, Socket, CharDevice and BlockDevice must already be that; "" checks
// nothing (a missing path is made a directory, as `-v` makes one). What the path names is followed,
// as the kubelet and the mount follow it; what is created never is: a dangling symlink at the path
// is refused, not created through.
import fs from "node:fs";
import { errnoCode, FailedPreconditionError } from "../errors.ts";
import type { HostPathType } from "./translate.ts";

const KINDS: Record<string, [string, (st: fs.Stats) => boolean]> = {
  Directory: ["a directory", (st) => st.isDirectory()],
  DirectoryOrCreate: ["a directory", (st) => st.isDirectory()],
  File: ["a file", (st) => st.isFile()],
  FileOrCreate: ["a file", (st) => st.isFile()],
  Socket: ["a socket", (st) => st.isSocket()],
  CharDevice: ["a character device", (st) => st.isCharacterDevice()],
  BlockDevice: ["a block device", (st) => st.isBlockDevice()],
};

export function checkHostPath(name: string, src: { path: string; type: HostPathType }): void {
  const fail = (why: string, cause?: unknown): never => {
    throw new FailedPreconditionError(`Cannot mount volume "${name}": hostPath ${src.path} ${why}`, cause ? { cause } : undefined);
  };
  const st = fs.statSync(src.path, { throwIfNoEntry: false });
  if (!st) {
    if (src.type === "Directory" || src.type === "File" || src.type === "Socket" || src.type === "CharDevice" || src.type === "BlockDevice") fail(`does not exist (type ${src.type})`);
    if (fs.lstatSync(src.path, { throwIfNoEntry: false })?.isSymbolicLink()) fail("is a dangling symlink: nothing is created through it");
    try {
      if (src.type === "FileOrCreate") fs.closeSync(fs.openSync(src.path, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, 0o644));
      else fs.mkdirSync(src.path, { recursive: true, mode: 0o755 });
    } catch (err) {
      fail(`cannot be created: ${errnoCode(err) ?? (err as Error).message}`, err);
    }
    return;
  }
  const kind = KINDS[src.type];
  if (kind && !kind[1](st)) fail(`is not ${kind[0]}`);
}
