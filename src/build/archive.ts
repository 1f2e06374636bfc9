// A local file that is a tar archive, plain or compressed, told by its bytes as Docker tells ADD's
// sources and a build context sent on stdin: opened as a stream of the tar.
import fs from "node:fs";
import path from "node:path";
import { FailedPreconditionError } from "../errors.ts";
import type { Compression } from "../image/manifest.ts";
import { atPath } from "../rootfs/beneath.ts";
import { decompress } from "../rootfs/decompress.ts";

export type TarOpener = () => { stream: ReadableStream<Uint8Array>; compression: Compression; stop(): void };

/**
 * The tar the open regular file `fd` holds (`name` for messages), as Docker's ADD extracts it and
 * reads a context on stdin: plain or compressed with gzip, zstd, bzip2 or xz (these two through the
 * host's bzip2 and xz, as moby runs xz), told by its leading bytes and the tar header inside;
 * undefined for anything else (a gzip of a text file…), which ADD copies as it is. Every read is of
 * that inode (reopened through /proc/self/fd, never by a path that may have changed since), so the
 * caller keeps `fd` open while the opener is used.
 */
export async function archiveOf(fd: number, name: string): Promise<TarOpener | undefined> {
  const st = fs.fstatSync(fd);
  if (!st.isFile() || st.size < 2) return undefined;
  const b = Buffer.alloc(6);
  fs.readSync(fd, b, 0, 6, 0);
  const file = atPath(fd);
  const plain = (compression: Compression): TarOpener => () => ({ stream: Bun.file(file).stream(), compression, stop: () => {} });
  const tool = (cmd: string): TarOpener => () => {
    let p: ReturnType<typeof Bun.spawn>;
    try {
      p = Bun.spawn([cmd, "-dc"], { stdin: Bun.file(file), stdout: "pipe", stderr: "ignore" });
    } catch (err) {
      throw new FailedPreconditionError(`Cannot extract "${path.basename(name)}": ${cmd} is needed to decompress it`, { cause: err });
    }
    return { stream: p.stdout as ReadableStream<Uint8Array>, compression: "none", stop: () => p.kill() };
  };
  let open: TarOpener;
  if (b[0] === 0x1f && b[1] === 0x8b) open = plain("gzip");
  else if (b.readUInt32BE(0) === 0x28b52ffd) open = plain("zstd");
  else if (b.subarray(0, 3).toString("latin1") === "BZh") open = tool("bzip2");
  else if (b.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) open = tool("xz");
  else open = plain("none");
  // The first tar header, decompressed: "ustar" at 257.
  const o = open();
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of decompress(o.stream, o.compression, name)) {
      head = Buffer.concat([head, chunk]);
      if (head.length >= 263) break;
    }
  } catch {
    return undefined;
  } finally {
    o.stop();
  }
  return head.length >= 262 && head.subarray(257, 262).toString("latin1") === "ustar" ? open : undefined;
}
