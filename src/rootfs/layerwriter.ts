// An overlay upper directory → an OCI layer tar (gzip). Whiteout character devices 0:0 become
// `.wh.<name>` entries, a directory marked opaque (trusted.overlay.opaque=y) gets `.wh..wh..opq`,
// files with several links are written once and then as hard links, symlinks as links (never
// followed), devices and FIFOs as nodes, with modes, owners and xattrs (overlay's own left out).
// Timestamps are clamped to SOURCE_DATE_EPOCH when given, as BuildKit does. The tar is written to
// a temporary file while hashed (diff_id), then compressed into the content store's ingest.
import fs from "node:fs";
import path from "node:path";
import { sha256Digest } from "../image/digest.ts";
import type { Sys } from "../sys/sys.ts";
import { END_BLOCKS, encodeHeader, padding, type TarWriteEntry } from "./tarwriter.ts";
import { isOverlayXattr, OVERLAY_OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from "./whiteout.ts";

export interface LayerWriteOptions {
  sys: Sys;
  /** Clamp every mtime to this (seconds). */
  sourceDateEpoch?: number;
}

export interface WrittenLayer {
  /** gzip bytes' digest and size: the blob. */
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** The compressed file (the caller moves it into the content store). */
  file: string;
  entries: number;
}

function major(rdev: number): number {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
}

function minor(rdev: number): number {
  const lo = rdev >>> 0;
  return (lo & 0xff) | ((lo >>> 12) & 0xfff00);
}

/** A whiteout node in an overlay upper dir: a character device 0:0. */
export function isWhiteoutStat(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

class TarSink {
  readonly hasher = new Bun.CryptoHasher("sha256");
  private readonly fd: number;
  private buf = Buffer.alloc(1 << 20);
  private used = 0;
  size = 0;
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "w", 0o600);
  }
  write(b: Uint8Array): void {
    if (b.length === 0) return;
    if (this.used + b.length > this.buf.length) this.flush();
    if (b.length >= this.buf.length) {
      this.hasher.update(b);
      fs.writeSync(this.fd, b);
      this.size += b.length;
      return;
    }
    this.buf.set(b, this.used);
    this.used += b.length;
  }
  flush(): void {
    if (!this.used) return;
    const chunk = this.buf.subarray(0, this.used);
    this.hasher.update(chunk);
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(this.fd, chunk, off, chunk.length - off);
    this.size += this.used;
    this.used = 0;
  }
  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}

/**
 * The entries of `dir` as tar entries in order (parents before children, names sorted), passed to
 * `emit` with the absolute path of their content. Exported for the tests.
 */
export function walkUpper(sys: Sys, dir: string, emit: (e: TarWriteEntry, content?: string) => void, opts: { sourceDateEpoch?: number } = {}): void {
  const links = new Map<string, string>();
  const clamp = (t: number) => (opts.sourceDateEpoch !== undefined ? Math.min(t, opts.sourceDateEpoch) : t);
  const xattrsOf = (p: string): [string, Uint8Array][] => {
    const out: [string, Uint8Array][] = [];
    let names: string[] = [];
    try {
      names = sys.llistxattr(p);
    } catch {
      return out;
    }
    for (const n of names.sort()) {
      if (isOverlayXattr(n)) continue;
      const v = sys.lgetxattr(p, n);
      if (v) out.push([n, v]);
    }
    return out;
  };
  const visit = (abs: string, rel: string) => {
    for (const name of fs.readdirSync(abs).sort()) {
      const p = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(p);
      const base = { uid: st.uid, gid: st.gid, mtime: clamp(Math.floor(st.mtimeMs / 1000)), size: 0 };
      if (isWhiteoutStat(st)) {
        const wh = rel ? `${rel}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`;
        emit({ ...base, name: wh, type: "file", mode: 0 });
        continue;
      }
      const mode = st.mode & 0o7777;
      const xattrs = xattrsOf(p);
      const withX = xattrs.length ? { xattrs } : {};
      if (st.isDirectory()) {
        emit({ ...base, name: `${r}/`, type: "directory", mode, ...withX });
        let opaque = false;
        try {
          const v = sys.lgetxattr(p, OVERLAY_OPAQUE_XATTR);
          opaque = v !== null && v.length === 1 && v[0] === 0x79;
        } catch {}
        if (opaque) emit({ ...base, name: `${r}/${WHITEOUT_OPAQUE}`, type: "file", mode: 0 });
        visit(p, r);
      } else if (st.isSymbolicLink()) {
        emit({ ...base, name: r, type: "symlink", mode, linkname: fs.readlinkSync(p), ...withX });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first !== undefined) {
          emit({ ...base, name: r, type: "hardlink", mode, linkname: first, ...withX });
          continue;
        }
        if (st.nlink > 1) links.set(key, r);
        emit({ ...base, name: r, type: "file", mode, size: st.size, ...withX }, p);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        emit({ ...base, name: r, type: st.isCharacterDevice() ? "char" : "block", mode, devmajor: major(st.rdev), devminor: minor(st.rdev), ...withX });
      } else if (st.isFIFO()) {
        emit({ ...base, name: r, type: "fifo", mode, ...withX });
      }
      // Sockets have no tar form; Docker leaves them out too.
    }
  };
  visit(dir, "");
}

/** Writes the layer of upper dir `dir` to `<tmpDir>/<random>.tar.gz`; returns its digests. */
export async function writeLayer(dir: string, tmpDir: string, opts: LayerWriteOptions): Promise<WrittenLayer> {
  fs.mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  const stem = path.join(tmpDir, `layer-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const tarFile = `${stem}.tar`;
  const gzFile = `${stem}.tar.gz`;
  const sink = new TarSink(tarFile);
  let entries = 0;
  try {
    const buf = Buffer.alloc(1 << 20);
    walkUpper(
      opts.sys,
      dir,
      (e, content) => {
        entries++;
        if (content === undefined) {
          sink.write(encodeHeader(e));
          return;
        }
        const fd = fs.openSync(content, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
        try {
          // The size the header says is what goes in: a file that changed size meanwhile is cut or padded.
          sink.write(encodeHeader(e));
          let left = e.size;
          while (left > 0) {
            const n = fs.readSync(fd, buf, 0, Math.min(buf.length, left), null);
            if (n <= 0) break;
            sink.write(buf.subarray(0, n));
            left -= n;
          }
          if (left > 0) sink.write(new Uint8Array(left));
          sink.write(padding(e.size));
        } finally {
          fs.closeSync(fd);
        }
      },
      opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {},
    );
    sink.write(END_BLOCKS);
    sink.close();
    const diffId = `sha256:${sink.hasher.digest("hex")}`;
    const gz = Bun.gzipSync(new Uint8Array(fs.readFileSync(tarFile)), { level: 1 });
    fs.writeFileSync(gzFile, gz, { mode: 0o600 });
    return { digest: sha256Digest(gz), size: gz.length, diffId, file: gzFile, entries };
  } catch (err) {
    try {
      sink.close();
    } catch {}
    fs.rmSync(gzFile, { force: true });
    throw err;
  } finally {
    fs.rmSync(tarFile, { force: true });
  }
}
