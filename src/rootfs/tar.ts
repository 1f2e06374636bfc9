// A streaming tar reader for layer extraction: ustar, GNU (long names, base-256 numbers) and PAX
// (path, linkpath, size, ids, times, SCHILY.xattr.*). Written here rather than using tar-stream
// because tar-stream decodes PAX values as UTF-8, which corrupts binary xattrs such as
// security.capability, and because a reader that hands body bytes to a synchronous sink
// without copying is what makes extraction fast. Every size it reads is bounded.
import { DataLossError } from "../errors.ts";

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "char" | "block" | "fifo";

export interface TarHeader {
  /** The name as stored, not yet cleaned: callers decide what is safe. */
  name: string;
  type: TarEntryType;
  /** Permission bits incl. setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Body size in bytes; only regular files' bodies are meant to be read, others are skipped. */
  size: number;
  /** Seconds since the epoch, fractional when PAX gives nanoseconds. */
  mtime: number;
  atime: number | undefined;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** From PAX SCHILY.xattr.<name> records, values as raw bytes. */
  xattrs: [string, Uint8Array][] | undefined;
}

/** PAX extended headers and GNU long names larger than this are refused (Go's archive/tar: 1 MiB). */
export const MAX_META_BYTES = 1 << 20;
/** Linux PATH_MAX: no longer name or link target can be created anyway. */
export const MAX_PATH_BYTES = 4096;

const BLOCK = 512;
const utf8 = new TextDecoder();

/** Reads headers one by one from an async source of byte chunks; bodies go to a sink. */
export class TarReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private off = 0;
  private done = false;
  /** Bytes of the current entry's body not yet handed out, then its padding. */
  private bodyLeft = 0;
  private padLeft = 0;
  private ended = false;
  /** Offset in the stream, for messages about headers. */
  private pos = 0;

  constructor(
    private readonly source: AsyncIterator<Uint8Array>,
    private readonly what: string,
  ) {}

  /** The next entry, or null at the end of the archive. Skips any unread body first. */
  async next(): Promise<TarHeader | null> {
    if (this.ended) return null;
    await this.skipBody();
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Map<string, Uint8Array> | undefined;
    for (;;) {
      const at = this.pos;
      const block = await this.readExact(BLOCK, true);
      if (block === null || isZero(block)) {
        // A clean end at a block boundary is accepted without the two zero blocks, as Go does.
        if (longName !== undefined || longLink !== undefined || pax) this.corrupt(at, "archive ends after an extended header");
        this.ended = true;
        return null;
      }
      verifyChecksum(block) || this.corrupt(at, "header checksum mismatch");
      const flag = block[156]!;
      const size = this.number(block, 124, 12, at, "size");
      if (flag === 0x78 /* x */ || flag === 0x67 /* g */ || flag === 0x4c /* L */ || flag === 0x4b /* K */) {
        if (size > MAX_META_BYTES) this.corrupt(at, `extended header of ${size} bytes is larger than ${MAX_META_BYTES}`);
        const body = await this.readExact(size, false);
        await this.skip(pad(size));
        if (flag === 0x78) pax = parsePax(body!, pax ?? new Map(), (r) => this.corrupt(at, r));
        else if (flag === 0x4c) longName = cString(body!);
        else if (flag === 0x4b) longLink = cString(body!);
        // Global PAX headers ('g') are ignored, as Docker and containerd do.
        continue;
      }
      const header = this.header(block, flag, size, at, longName, longLink, pax);
      this.bodyLeft = header.size;
      this.padLeft = pad(this.bodyLeft);
      return header;
    }
  }

  /**
   * Hands the current entry's body to `sink` chunk by chunk (views into the source's chunks, never
   * copied). A sink's promise is awaited before the next chunk.
   */
  async body(sink: (bytes: Uint8Array) => unknown): Promise<void> {
    while (this.bodyLeft > 0) {
      if (this.off === this.chunk.length && !(await this.fill())) this.truncated();
      const take = Math.min(this.bodyLeft, this.chunk.length - this.off);
      const view = this.chunk.subarray(this.off, this.off + take);
      this.off += take;
      this.pos += take;
      this.bodyLeft -= take;
      const wait = sink(view);
      if (wait instanceof Promise) await wait;
    }
  }

  /** Reads the source to its end, so every byte is counted and hashed. */
  async drain(): Promise<void> {
    this.pos += this.chunk.length - this.off;
    this.off = this.chunk.length;
    while (await this.fill()) {
      this.pos += this.chunk.length;
      this.off = this.chunk.length;
    }
  }

  private header(
    block: Uint8Array,
    flag: number,
    rawSize: number,
    at: number,
    longName: string | undefined,
    longLink: string | undefined,
    pax: Map<string, Uint8Array> | undefined,
  ): TarHeader {
    const ustar = block[257] === 0x75 && block[258] === 0x73 && block[259] === 0x74 && block[260] === 0x61 && block[261] === 0x72;
    const posix = ustar && block[262] === 0; // "ustar\0" has a prefix field; GNU's "ustar " does not
    let name = longName ?? cString(block.subarray(0, 100));
    if (longName === undefined && posix && block[345] !== 0) name = `${cString(block.subarray(345, 500))}/${name}`;
    let linkname = longLink ?? cString(block.subarray(157, 257));
    const n: Record<Exclude<PaxNumber, "atime">, number> & { atime?: number } = {
      size: rawSize,
      uid: this.number(block, 108, 8, at, "uid"),
      gid: this.number(block, 116, 8, at, "gid"),
      mtime: this.number(block, 136, 12, at, "mtime", true),
    };
    let xattrs: [string, Uint8Array][] | undefined;
    for (const [key, value] of pax ?? []) {
      if (key.startsWith("SCHILY.xattr.")) {
        (xattrs ??= []).push([key.slice(13), value]);
        continue;
      }
      const text = utf8.decode(value);
      if (Object.hasOwn(PAX_NUMBERS, key)) {
        const [parse, what] = PAX_NUMBERS[key as PaxNumber];
        n[key as PaxNumber] = parse(text) ?? this.corrupt(at, `PAX ${key} ${JSON.stringify(text)} is not a ${what}`);
      } else if (key === "path") name = text;
      else if (key === "linkpath") linkname = text;
      else if (key.startsWith("GNU.sparse.")) this.corrupt(at, `entry ${quote(name)} is a sparse file, which is not supported`);
    }
    const { size, uid, gid, mtime, atime } = n;
    if (name.length > MAX_PATH_BYTES) this.corrupt(at, `name of ${name.length} bytes is longer than ${MAX_PATH_BYTES}`);
    if (linkname.length > MAX_PATH_BYTES) this.corrupt(at, `entry ${quote(name)} has a link target longer than ${MAX_PATH_BYTES} bytes`);
    if (uid > 0xfffffffe || gid > 0xfffffffe) this.corrupt(at, `entry ${quote(name)} has uid or gid out of range`);
    const type: TarEntryType =
      flag === 0x30 || flag === 0x00 || flag === 0x37 // '0', NUL, '7' contiguous file; pre-POSIX archives mark dirs by "/"
        ? name.endsWith("/") && flag !== 0x37
          ? "directory"
          : "file"
        : (TYPE_FLAGS[flag] ?? this.corrupt(at, `entry ${quote(name)} has unsupported type ${quote(String.fromCharCode(flag))}`));
    const dev = type === "char" || type === "block";
    return {
      name,
      type,
      mode: this.number(block, 100, 8, at, "mode") & 0o7777,
      uid,
      gid,
      size,
      mtime,
      atime,
      linkname,
      devmajor: dev ? this.number(block, 329, 8, at, "devmajor") : 0,
      devminor: dev ? this.number(block, 337, 8, at, "devminor") : 0,
      xattrs,
    };
  }

  /** A numeric field: octal text, or GNU base-256 when the high bit of the first byte is set. */
  private number(block: Uint8Array, start: number, len: number, at: number, field: string, signed = false): number {
    const first = block[start]!;
    if (first & 0x80) {
      const negative = (first & 0x40) !== 0;
      if (negative && !signed) this.corrupt(at, `${field} field is negative`);
      let n = 0;
      for (let i = 0; i < len; i++) {
        let b = block[start + i]!;
        if (i === 0) b &= 0x7f;
        if (negative) b ^= 0xff;
        n = n * 256 + b;
        if (n > Number.MAX_SAFE_INTEGER) this.corrupt(at, `${field} field is out of range`);
      }
      return negative ? -(n + 1) : n;
    }
    let n = 0;
    let i = start;
    const end = start + len;
    while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
    let digits = 0;
    for (; i < end; i++) {
      const c = block[i]!;
      if (c === 0x20 || c === 0) break;
      if (c < 0x30 || c > 0x37) this.corrupt(at, `${field} field is not octal`);
      n = n * 8 + (c - 0x30);
      digits++;
    }
    return digits === 0 ? 0 : n;
  }

  private async skipBody(): Promise<void> {
    await this.skip(this.bodyLeft + this.padLeft);
    this.bodyLeft = 0;
    this.padLeft = 0;
  }

  private async skip(n: number): Promise<void> {
    while (n > 0) {
      if (this.off === this.chunk.length && !(await this.fill())) this.truncated();
      const take = Math.min(n, this.chunk.length - this.off);
      this.off += take;
      this.pos += take;
      n -= take;
    }
  }

  /** n bytes (copied only when they span chunks); null at a clean end when `eofOk`. */
  private async readExact(n: number, eofOk: boolean): Promise<Uint8Array | null> {
    if (this.chunk.length - this.off >= n) {
      const view = this.chunk.subarray(this.off, this.off + n);
      this.off += n;
      this.pos += n;
      return view;
    }
    const out = new Uint8Array(n);
    let have = 0;
    while (have < n) {
      if (this.off === this.chunk.length && !(await this.fill())) {
        if (eofOk && have === 0) return null;
        this.truncated();
      }
      const take = Math.min(n - have, this.chunk.length - this.off);
      out.set(this.chunk.subarray(this.off, this.off + take), have);
      this.off += take;
      this.pos += take;
      have += take;
    }
    return out;
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    for (;;) {
      const r = await this.source.next();
      if (r.done) {
        this.done = true;
        return false;
      }
      if (r.value.length === 0) continue;
      this.chunk = r.value;
      this.off = 0;
      return true;
    }
  }

  private truncated(): never {
    throw new DataLossError(`Cannot unpack ${this.what}: tar stream ends in the middle of an entry`);
  }

  private corrupt(at: number, reason: string): never {
    throw new DataLossError(`Cannot unpack ${this.what}: tar header at offset ${at}: ${reason}`);
  }
}

function pad(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Unsigned sum with the checksum field read as spaces; old tars used a signed sum, also accepted. */
function verifyChecksum(b: Uint8Array): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  let stored = 0;
  let i = 148;
  while (i < 156 && (b[i] === 0x20 || b[i] === 0)) i++;
  for (; i < 156; i++) {
    const c = b[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) return false;
    stored = stored * 8 + (c - 0x30);
  }
  return stored === unsigned || stored === signed;
}

/** Text up to the first NUL. */
function cString(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return utf8.decode(nul === -1 ? b : b.subarray(0, nul));
}

/** "%d %s=%s\n" records; values stay bytes (xattrs are binary). */
function parsePax(body: Uint8Array, into: Map<string, Uint8Array>, fail: (reason: string) => never): Map<string, Uint8Array> {
  let i = 0;
  while (i < body.length) {
    if (body[i] === 0) break; // some writers pad the record block with NULs
    let len = 0;
    let j = i;
    while (j < body.length && body[j]! >= 0x30 && body[j]! <= 0x39 && j - i < 8) len = len * 10 + (body[j++]! - 0x30);
    if (j === i || body[j] !== 0x20 || len <= j - i + 1 || i + len > body.length || body[i + len - 1] !== 0x0a) {
      fail("malformed PAX record");
    }
    const record = body.subarray(j + 1, i + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) fail("malformed PAX record");
    into.set(utf8.decode(record.subarray(0, eq)), record.slice(eq + 1));
    i += len;
  }
  return into;
}

/** The typeflags ('1'…'6') that name their entry's type alone. */
const TYPE_FLAGS: Record<number, TarEntryType> = { 0x31: "hardlink", 0x32: "symlink", 0x33: "char", 0x34: "block", 0x35: "directory", 0x36: "fifo" };

/** The header numbers a PAX record overrides: how its text is parsed, and what it must be. */
const PAX_NUMBERS = {
  size: [paxInteger, "number"],
  uid: [paxInteger, "number"],
  gid: [paxInteger, "number"],
  mtime: [paxTime, "time"],
  atime: [paxTime, "time"],
} as const;
type PaxNumber = keyof typeof PAX_NUMBERS;

function paxInteger(s: string): number | undefined {
  if (!/^[0-9]{1,16}$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

function paxTime(s: string): number | undefined {
  if (!/^-?[0-9]{1,15}(\.[0-9]{0,9})?[0-9]*$/.test(s)) return undefined;
  return Number(s);
}

/** An entry name for a one-line message: quoted, escaped, and cut if long. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}
