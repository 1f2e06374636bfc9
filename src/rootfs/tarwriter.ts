// Tar headers as bytes: ustar with a PAX extended header when a path or link name does not fit or
// the entry has xattrs (SCHILY.xattr.*, the form Docker's and containerd's layer tars use). Pure.

export type TarWriteType = "file" | "hardlink" | "symlink" | "char" | "block" | "directory" | "fifo";

export interface TarWriteEntry {
  /** Relative, slash-separated; directories end with "/". */
  name: string;
  type: TarWriteType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: [string, Uint8Array][];
}

const TYPEFLAG: Record<TarWriteType, string> = { file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", directory: "5", fifo: "6" };
const enc = new TextEncoder();

function putString(buf: Uint8Array, off: number, len: number, s: Uint8Array): void {
  buf.set(s.subarray(0, len), off);
}

function putOctal(buf: Uint8Array, off: number, len: number, n: number): void {
  const s = Math.max(0, Math.floor(n)).toString(8).padStart(len - 1, "0");
  putString(buf, off, len, enc.encode(`${s}\0`));
}

function fitsOctal(n: number, len: number): boolean {
  return n >= 0 && n < 8 ** (len - 1);
}

/** One PAX record: "<len> key=value\n", where len counts the whole record. */
export function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const body = enc.encode(` ${key}=`);
  const rest = body.length + value.length + 1;
  let len = rest + 1;
  while (String(len).length + rest !== len) len = String(len).length + rest;
  const out = new Uint8Array(len);
  out.set(enc.encode(String(len)), 0);
  out.set(body, String(len).length);
  out.set(value, String(len).length + body.length);
  out[len - 1] = 0x0a;
  return out;
}

function ustarHeader(e: Omit<TarWriteEntry, "xattrs">, name: Uint8Array, linkname: Uint8Array, typeflag: string): Uint8Array {
  const h = new Uint8Array(512);
  putString(h, 0, 100, name);
  putOctal(h, 100, 8, e.mode & 0o7777);
  putOctal(h, 108, 8, fitsOctal(e.uid, 8) ? e.uid : 0);
  putOctal(h, 116, 8, fitsOctal(e.gid, 8) ? e.gid : 0);
  putOctal(h, 124, 12, fitsOctal(e.size, 12) ? e.size : 0);
  putOctal(h, 136, 12, fitsOctal(e.mtime, 12) ? e.mtime : 0);
  h.fill(0x20, 148, 156);
  h[156] = typeflag.charCodeAt(0);
  putString(h, 157, 100, linkname);
  putString(h, 257, 8, enc.encode("ustar\x0000"));
  putOctal(h, 329, 8, e.devmajor ?? 0);
  putOctal(h, 337, 8, e.devminor ?? 0);
  let sum = 0;
  for (const b of h) sum += b;
  putString(h, 148, 8, enc.encode(`${sum.toString(8).padStart(6, "0")}\0 `));
  return h;
}

/** Padding after `size` bytes of content, to the next 512-byte block. */
export function padding(size: number): Uint8Array {
  const r = size % 512;
  return new Uint8Array(r === 0 ? 0 : 512 - r);
}

/** The header block(s) of one entry: a PAX header first when needed, then the ustar header. */
export function encodeHeader(e: TarWriteEntry): Uint8Array {
  const name = enc.encode(e.name);
  const linkname = enc.encode(e.linkname ?? "");
  const records: Uint8Array[] = [];
  if (name.length > 100) records.push(paxRecord("path", name));
  if (linkname.length > 100) records.push(paxRecord("linkpath", linkname));
  if (!fitsOctal(e.uid, 8)) records.push(paxRecord("uid", enc.encode(String(e.uid))));
  if (!fitsOctal(e.gid, 8)) records.push(paxRecord("gid", enc.encode(String(e.gid))));
  if (!fitsOctal(e.size, 12)) records.push(paxRecord("size", enc.encode(String(e.size))));
  for (const [k, v] of e.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const main = ustarHeader(e, name, linkname, TYPEFLAG[e.type]);
  if (!records.length) return main;
  const paxLen = records.reduce((n, r) => n + r.length, 0);
  const paxName = enc.encode(`PaxHeaders.0/${e.name.replace(/\/$/, "").split("/").pop()}`);
  const pax = ustarHeader({ ...e, mode: 0o644, size: paxLen, uid: 0, gid: 0 }, paxName, new Uint8Array(0), "x");
  const out = new Uint8Array(512 + paxLen + padding(paxLen).length + 512);
  out.set(pax, 0);
  let off = 512;
  for (const r of records) {
    out.set(r, off);
    off += r.length;
  }
  out.set(main, 512 + paxLen + padding(paxLen).length);
  return out;
}

/** Two zero blocks end an archive. */
export const END_BLOCKS = new Uint8Array(1024);
