// The few tar headers an image archive needs (regular files and directories, ustar, sizes past
// 8 GiB in GNU base-256), so `save` streams entries without holding them in memory.
import { InvalidArgumentError } from "../errors.ts";

const BLOCK = 512;
const MTIME = 0;

function octal(buf: Uint8Array, off: number, len: number, value: number): void {
  const text = value.toString(8).padStart(len - 1, "0");
  buf.set(new TextEncoder().encode(text), off);
}

/** The header of one entry; names are the archive's own (ASCII, at most 100 bytes). */
export function tarHeader(name: string, size: number, type: "file" | "directory" = "file"): Uint8Array {
  if (name.length > 100 || !/^[\x21-\x7e]+$/.test(name)) throw new InvalidArgumentError(`Cannot write archive entry "${name}": not a short ASCII name`);
  const h = new Uint8Array(BLOCK);
  h.set(new TextEncoder().encode(name), 0);
  octal(h, 100, 8, type === "directory" ? 0o755 : 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  if (size < 8 ** 11) {
    octal(h, 124, 12, size);
  } else {
    // GNU base-256: the high bit of the first byte, then the value big-endian.
    h[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  octal(h, 136, 12, MTIME);
  h[156] = type === "directory" ? 0x35 : 0x30;
  h.set(new TextEncoder().encode("ustar\x0000"), 257);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  octal(h, 148, 7, sum);
  h[154] = 0;
  h[155] = 0x20;
  return h;
}

/** Zero bytes that pad an entry of `size` bytes to a block. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The two zero blocks that end an archive. */
export const TAR_END = new Uint8Array(2 * BLOCK);
