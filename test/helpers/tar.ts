// Builds tar archives in memory from a list of entries, for fixtures and hostile-archive tests.
// Every fixture is made here in code, so its recipe is the test itself.
import { pack as tarPack } from "tar-stream";

export type TarEntryType = "file" | "directory" | "symlink" | "link" | "character-device" | "block-device" | "fifo";

export interface TarEntry {
  name: string;
  type?: TarEntryType; // default "file"
  content?: string | Uint8Array;
  mode?: number; // permission bits incl. setuid/setgid/sticky; default 0o644 files, 0o755 dirs
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /**
   * Extra PAX records, e.g. { "SCHILY.xattr.user.note": "hi" }. A Uint8Array value is written
   * byte for byte (binary xattrs such as security.capability) in a PAX header built here, since
   * tar-stream writes PAX values as text.
   */
  pax?: Record<string, string | Uint8Array>;
}

export async function buildTar(entries: TarEntry[]): Promise<Uint8Array<ArrayBuffer>> {
  if (!entries.some(hasBinaryPax)) return packEntries(entries);
  // Entries with binary PAX values are packed one by one, each after its own raw PAX header.
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    let e = entry;
    if (hasBinaryPax(e)) {
      parts.push(paxHeader({ path: e.name, ...e.pax }));
      e = { ...e, pax: undefined };
    }
    const one = await packEntries([e]);
    parts.push(one.subarray(0, one.length - END_OF_ARCHIVE.length));
  }
  parts.push(END_OF_ARCHIVE);
  return concatBytes(parts);
}

function hasBinaryPax(e: TarEntry): boolean {
  return e.pax !== undefined && Object.values(e.pax).some((v) => typeof v !== "string");
}

async function packEntries(entries: TarEntry[]): Promise<Uint8Array<ArrayBuffer>> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on("data", (c: unknown) => chunks.push(c as Buffer));
    pack.on("end", () => resolve());
    pack.on("error", reject);
  });
  for (const e of entries) {
    const type = e.type ?? "file";
    const body = e.content === undefined ? undefined : Buffer.from(e.content);
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === "directory" ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date("2024-01-02T03:04:05Z"),
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      pax: e.pax as Record<string, string> | undefined,
      size: type === "file" ? (body?.length ?? 0) : 0,
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (type === "file") pack.entry(header, body ?? Buffer.alloc(0), done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

// Raw blocks for archives tar-stream will not write: hostile headers, binary PAX records.

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = new Uint8Array(1024);

export function concatBytes(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.concat(parts));
}

export interface RawHeader {
  name: string;
  /** One character: "0" file, "5" dir, "x" PAX, "L" GNU long name, "S" sparse… */
  typeflag: string;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  /** Store a wrong checksum. */
  badChecksum?: boolean;
  /** "ustar\0" + "00" (default) or GNU's "ustar  \0". */
  magic?: "posix" | "gnu";
}

/** One 512-byte ustar header block, checksummed. */
export function rawHeader(h: RawHeader): Uint8Array {
  const b = new Uint8Array(512);
  const text = (s: string, at: number, len: number) => b.set(Buffer.from(s).subarray(0, len), at);
  const octal = (n: number, at: number, len: number) => text(`${n.toString(8).padStart(len - 1, "0")}\0`, at, len);
  text(h.name, 0, 100);
  octal(h.mode ?? 0o644, 100, 8);
  octal(h.uid ?? 0, 108, 8);
  octal(h.gid ?? 0, 116, 8);
  octal(h.size ?? 0, 124, 12);
  octal(h.mtime ?? 1704164645, 136, 12);
  text(h.typeflag, 156, 1);
  text(h.linkname ?? "", 157, 100);
  if (h.magic === "gnu") text("ustar  \0", 257, 8);
  else text("ustar\u000000", 257, 8);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  octal(h.badChecksum ? sum + 1 : sum, 148, 7);
  b[155] = 0x20;
  return b;
}

/** `n` bytes of body padded to whole blocks. */
export function rawBody(body: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil(body.length / 512) * 512);
  padded.set(body);
  return padded;
}

/** A PAX extended header ("x") with its records, values byte for byte. */
export function paxHeader(records: Record<string, string | Uint8Array>): Uint8Array {
  const recs: Uint8Array[] = [];
  for (const [key, value] of Object.entries(records)) {
    const v = typeof value === "string" ? Buffer.from(value) : Buffer.from(value);
    const rest = Buffer.byteLength(key) + v.length + 3; // " " "=" "\n"
    let len = rest + String(rest).length;
    if (String(len).length !== String(rest).length) len = rest + String(len).length;
    recs.push(Buffer.concat([Buffer.from(`${len} ${key}=`), v, Buffer.from("\n")]));
  }
  const body = concatBytes(recs);
  return concatBytes([rawHeader({ name: "PaxHeader", typeflag: "x", size: body.length }), rawBody(body)]);
}
