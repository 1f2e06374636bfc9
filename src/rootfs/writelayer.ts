// An overlay upper directory → an OCI layer tar (gzip). Whiteout character devices 0:0 become
// `.wh.<name>` entries, a directory marked opaque (trusted.overlay.opaque=y) gets `.wh..wh..opq`,
// files with several links are written once and then as hard links, symlinks as links (never
// followed), devices and FIFOs as nodes, with modes, owners and xattrs (overlay's own left out).
// Timestamps are clamped to SOURCE_DATE_EPOCH when given, as BuildKit does. The tar is written to
// a temporary file while hashed (diff_id), then compressed into the content store's ingest.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { errnoCode } from "../errors.ts";
import { scratchPrefix } from "../store/scratch.ts";
import type { Sys } from "../sys/sys.ts";
import { atPath, BENEATH, lstatAt, NotRegularFileError, O_CLOEXEC, onPseudoFs, openDirAt, openFileAt } from "./beneath.ts";
import { END_BLOCKS, encodeHeader, padding, type TarWriteEntry } from "./tarwriter.ts";
import { isOverlayXattr, isWhiteoutNode, OVERLAY_OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from "./whiteout.ts";

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


/** An entry of the walk; a regular file comes open (`fd`, the inode its header describes), for the reader to close. */
export interface WalkedEntry {
  entry: TarWriteEntry;
  fd?: number;
}

/** What a tree that changes under the walk answers for an entry gone or turned into something else. */
function changedMeanwhile(err: unknown): boolean {
  if (err instanceof NotRegularFileError) return true;
  const code = errnoCode(err);
  return code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP";
}

export interface WalkOptions {
  sourceDateEpoch?: number;
  /**
   * A merged view (a container's root), not an upper dir: nothing is read as a whiteout, and a
   * mount of a pseudo filesystem (a running container's /proc, /sys) is an empty directory, as the
   * image holds it.
   */
  merged?: boolean;
}

/**
 * The entries of `dir` as tar entries in order (parents before children, names sorted). The tree
 * may belong to a running container that changes it meanwhile, so it is walked from directory fds
 * (src/rootfs/beneath.ts): no symlink is ever followed, a directory or file is opened only if it is
 * still the inode its lstat described, only regular files are opened (a FIFO or device swapped in is
 * never opened), and an entry that vanished or changed kind is left out, as moby's archive leaves out
 * what it cannot stat. Only the directories of the current path are open.
 */
export function* walkUpper(sys: Sys, dir: string, opts: WalkOptions = {}): Generator<WalkedEntry> {
  const root = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
  try {
    const walker = new Walker(sys, opts);
    for (const name of fs.readdirSync(atPath(root)).sort()) yield* walker.entry(root, name, name);
  } finally {
    fs.closeSync(root);
  }
}

/** Entry `name` of the directory open as dirFd, named `as` in the archive, and (a directory) all below it. */
export function* walkEntry(sys: Sys, dirFd: number, name: string, as: string, opts: WalkOptions = {}): Generator<WalkedEntry> {
  yield* new Walker(sys, opts).entry(dirFd, name, as);
}

class Walker {
  private readonly links = new Map<string, string>();
  constructor(
    private readonly sys: Sys,
    private readonly opts: WalkOptions,
  ) {}

  private clamp(t: number): number {
    return this.opts.sourceDateEpoch !== undefined ? Math.min(t, this.opts.sourceDateEpoch) : t;
  }

  private xattrsOf(p: string): [string, Uint8Array][] {
    const out: [string, Uint8Array][] = [];
    let names: string[] = [];
    try {
      names = this.sys.llistxattr(p);
    } catch {
      return out;
    }
    for (const n of names.sort()) {
      if (isOverlayXattr(n)) continue;
      const v = this.sys.lgetxattr(p, n);
      if (v) out.push([n, v]);
    }
    return out;
  }

  /** Opens entry `name` (a directory or a regular file) unless it is no longer the inode `st`. */
  private openSame(dirFd: number, name: string, st: fs.Stats): number | undefined {
    let fd: number;
    try {
      fd = st.isDirectory() ? openDirAt(this.sys, dirFd, name, BENEATH) : openFileAt(this.sys, dirFd, name, fs.constants.O_RDONLY, BENEATH).fd;
    } catch (err) {
      if (changedMeanwhile(err)) return undefined;
      throw err;
    }
    const now = fs.fstatSync(fd);
    if (now.ino === st.ino && now.dev === st.dev) return fd;
    fs.closeSync(fd);
    return undefined;
  }

  *entry(dirFd: number, name: string, r: string): Generator<WalkedEntry> {
    const p = atPath(dirFd, name);
    const st = lstatAt(dirFd, name);
    if (!st) return;
    const base = { uid: st.uid, gid: st.gid, mtime: this.clamp(Math.floor(st.mtimeMs / 1000)), size: 0 };
    if (!this.opts.merged && isWhiteoutNode(st)) {
      const slash = r.lastIndexOf("/");
      yield { entry: { ...base, name: `${r.slice(0, slash + 1)}${WHITEOUT_PREFIX}${r.slice(slash + 1)}`, type: "file", mode: 0 } };
      return;
    }
    const mode = st.mode & 0o7777;
    const xattrs = this.xattrsOf(p);
    const withX = xattrs.length ? { xattrs } : {};
    if (st.isDirectory()) {
      const sub = this.openSame(dirFd, name, st);
      if (sub === undefined) return;
      try {
        yield { entry: { ...base, name: r === "." ? "./" : `${r}/`, type: "directory", mode, ...withX } };
        if (this.opts.merged && onPseudoFs(sub)) return;
        let opaque = false;
        if (!this.opts.merged) {
          try {
            const v = this.sys.lgetxattr(p, OVERLAY_OPAQUE_XATTR);
            opaque = v !== null && v.length === 1 && v[0] === 0x79;
          } catch {}
        }
        if (opaque) yield { entry: { ...base, name: `${r}/${WHITEOUT_OPAQUE}`, type: "file", mode: 0 } };
        for (const n of fs.readdirSync(atPath(sub)).sort()) yield* this.entry(sub, n, `${r}/${n}`);
      } finally {
        fs.closeSync(sub);
      }
    } else if (st.isSymbolicLink()) {
      let linkname: string;
      try {
        linkname = fs.readlinkSync(p);
      } catch (err) {
        if (changedMeanwhile(err) || errnoCode(err) === "EINVAL") return;
        throw err;
      }
      yield { entry: { ...base, name: r, type: "symlink", mode, linkname, ...withX } };
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.links.get(key) : undefined;
      if (first !== undefined) {
        yield { entry: { ...base, name: r, type: "hardlink", mode, linkname: first, ...withX } };
        return;
      }
      const fd = this.openSame(dirFd, name, st);
      if (fd === undefined) return;
      if (st.nlink > 1) this.links.set(key, r);
      yield { entry: { ...base, name: r, type: "file", mode, size: st.size, ...withX }, fd };
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      yield { entry: { ...base, name: r, type: st.isCharacterDevice() ? "char" : "block", mode, devmajor: major(st.rdev), devminor: minor(st.rdev), ...withX } };
    } else if (st.isFIFO()) {
      yield { entry: { ...base, name: r, type: "fifo", mode, ...withX } };
    }
    // Sockets have no tar form; Docker leaves them out too.
  }
}

const SEEK_DATA = 3;
const SEEK_HOLE = 4;
const PIECE = 1 << 20;

/** One read-only MiB of zeros, made when a tar first meets a hole, then handed out again and again. */
function lazyZeros(): () => Uint8Array {
  let z: Uint8Array | undefined;
  return () => (z ??= new Uint8Array(PIECE));
}

/** The next data extent at or after `pos` (SEEK_DATA, SEEK_HOLE), within `size`; all data when the file system cannot tell. */
function nextExtent(sys: Sys, fd: number, pos: number, size: number): [number, number] {
  try {
    const data = sys.seekExtent(fd, pos, SEEK_DATA);
    if (data < 0 || data >= size) return [size, size];
    const hole = sys.seekExtent(fd, data, SEEK_HOLE);
    return [data, hole < 0 || hole > size ? size : hole];
  } catch {
    return [pos, size];
  }
}

/**
 * The `size` bytes of a regular file, up to 1 MiB a piece. Its holes are zeros that are not read:
 * the bytes are the same as a plain read gives (Docker's tar writes sparse files at full length,
 * without sparse headers), but a 1 GiB file that is all hole costs no read and no buffer. The size
 * the header says is what goes in: a file that changed size meanwhile is cut or padded with zeros.
 */
function* fileBytes(sys: Sys, fd: number, size: number, zeros: () => Uint8Array): Generator<Uint8Array> {
  let pos = 0;
  while (pos < size) {
    const [data, end] = nextExtent(sys, fd, pos, size);
    for (; pos < data; pos += PIECE) yield zeros().subarray(0, Math.min(PIECE, data - pos));
    pos = data;
    while (pos < end) {
      const buf = Buffer.allocUnsafe(Math.min(PIECE, end - pos));
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) {
        for (; pos < size; pos += PIECE) yield zeros().subarray(0, Math.min(PIECE, size - pos));
        return;
      }
      yield buf.subarray(0, n);
      pos += n;
    }
  }
}

/**
 * The tar of directory `dir`: walkUpper's entries, each header followed by the file's bytes (up to
 * 1 MiB a piece), then the end blocks. A generator, so a layer's gzip takes it at once and an
 * export waits for its reader between pieces. `counts` gets the entries and bytes of content.
 */
export function treeTar(sys: Sys, dir: string, opts: WalkOptions = {}, counts = { entries: 0, unpackedSize: 0 }): Generator<Uint8Array> {
  return entriesTar(sys, walkUpper(sys, dir, opts), counts);
}

/** Walked entries as tar bytes, the end blocks last (see treeTar). */
export function* entriesTar(sys: Sys, walked: Iterable<WalkedEntry>, counts = { entries: 0, unpackedSize: 0 }): Generator<Uint8Array> {
  const zeros = lazyZeros();
  for (const { entry: e, fd } of walked) {
    counts.entries++;
    if (fd === undefined) {
      yield encodeHeader(e);
      continue;
    }
    try {
      yield encodeHeader(e);
      counts.unpackedSize += e.size;
      yield* fileBytes(sys, fd, e.size, zeros);
      yield padding(e.size);
    } finally {
      fs.closeSync(fd);
    }
  }
  yield END_BLOCKS;
}

export interface StartedLayer {
  /** sha256 of the uncompressed tar, known when startLayer returns. */
  diffId: string;
  /** Bytes of the uncompressed tar, as a pull records them (save writes the tar with this size). */
  unpackedSize: number;
  entries: number;
  /** The gzip blob, compressed on zlib's thread pool while the caller goes on. */
  blob: Promise<{ digest: string; size: number; file: string }>;
}

/** Where a layer's tar goes: hashed (diff_id) and gzipped into a file of `tmpDir`. */
export interface LayerSink {
  write(b: Uint8Array): void;
  /** The tar's diff_id at once; the blob when the gzip thread is done with it. */
  end(): { diffId: string; blob: Promise<{ digest: string; size: number; file: string }> };
  /** Abandons the blob (its file is removed). */
  destroy(err: Error): void;
}

/** gzip level 1: the blob is for push and save; tinydock itself mounts the unpacked tree. */
export function layerSink(tmpDir: string): LayerSink {
  fs.mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  const gzFile = path.join(tmpDir, `${scratchPrefix("layer")}${Math.random().toString(36).slice(2, 10)}.tar.gz`);
  const hasher = new Bun.CryptoHasher("sha256");
  const gzip = zlib.createGzip({ level: 1 });
  // Opened here, not by the stream: destroy can then remove the file at once, before the process exits.
  const out = fs.createWriteStream(gzFile, { fd: fs.openSync(gzFile, "wx", 0o600) });
  const blobHasher = new Bun.CryptoHasher("sha256");
  let blobSize = 0;
  gzip.on("data", (c: Buffer) => {
    blobHasher.update(c);
    blobSize += c.length;
  });
  const blob = new Promise<{ digest: string; size: number; file: string }>((resolve, reject) => {
    gzip.on("error", reject);
    out.on("error", reject);
    out.on("finish", () => resolve({ digest: `sha256:${blobHasher.digest("hex")}`, size: blobSize, file: gzFile }));
  });
  blob.catch(() => fs.rmSync(gzFile, { force: true }));
  gzip.pipe(out);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (!pendingBytes) return;
    const chunk = Buffer.concat(pending, pendingBytes);
    hasher.update(chunk);
    gzip.write(chunk);
    pending = [];
    pendingBytes = 0;
  };
  return {
    write(b) {
      if (!b.length) return;
      pending.push(Buffer.from(b.buffer, b.byteOffset, b.length));
      pendingBytes += b.length;
      if (pendingBytes >= 1 << 20) flush();
    },
    end() {
      flush();
      gzip.end();
      return { diffId: `sha256:${hasher.digest("hex")}`, blob };
    },
    destroy(err) {
      gzip.destroy(err);
      out.destroy();
      fs.rmSync(gzFile, { force: true });
    },
  };
}

/**
 * Walks upper dir `dir` into a tar whose digest (diff_id) is returned at once, while its gzip is
 * written to `<tmpDir>/<random>.tar.gz` in the background.
 */
export function startLayer(dir: string, tmpDir: string, opts: LayerWriteOptions): StartedLayer {
  const sink = layerSink(tmpDir);
  const counts = { entries: 0, unpackedSize: 0 };
  let tarBytes = 0;
  try {
    for (const piece of treeTar(opts.sys, dir, opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}, counts)) {
      tarBytes += piece.length;
      sink.write(piece);
    }
  } catch (err) {
    sink.destroy(err as Error);
    throw err;
  }
  const { diffId, blob } = sink.end();
  return { diffId, unpackedSize: tarBytes, entries: counts.entries, blob };
}

/** Writes the layer of upper dir `dir` to `<tmpDir>/<random>.tar.gz`; returns its digests. */
export async function writeLayer(dir: string, tmpDir: string, opts: LayerWriteOptions): Promise<WrittenLayer> {
  const s = startLayer(dir, tmpDir, opts);
  const b = await s.blob;
  return { digest: b.digest, size: b.size, diffId: s.diffId, file: b.file, entries: s.entries };
}
