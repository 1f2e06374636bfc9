// The content store: blobs are written to ingest/ while hashed and counted, fsynced, and renamed
// into blobs/sha256/<hex> only when digest and size match. Nothing unverified is ever visible.
import fs from "node:fs";
import { DataLossError } from "../errors.ts";
import { sha256Digest } from "../image/digest.ts";
import { fsyncDirAsync, fsyncOnPool, writeFileAtomic, writeOnPool } from "../atomic.ts";
import type { StoreLayout } from "./layout.ts";

/** Unwritten bytes one `Ingest.append` caller may have queued before it waits for the disk. */
const WRITE_BEHIND_BYTES = 8 << 20;

export function hasBlob(layout: StoreLayout, digest: string): boolean {
  return fs.existsSync(layout.blob(digest));
}

export function readBlob(layout: StoreLayout, digest: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(layout.blob(digest)));
}

/** Store a small blob already in memory (manifest, config) after checking its digest. */
export function putBlob(layout: StoreLayout, digest: string, data: Uint8Array): void {
  const actual = sha256Digest(data);
  if (actual !== digest) throw new DataLossError(`Cannot store blob ${digest}: content hashes to ${actual}`);
  if (hasBlob(layout, digest)) return;
  writeFileAtomic(layout.blob(digest), data, 0o600);
}

/**
 * A resumable download of one blob. The partial file survives the process: a later Ingest of the
 * same digest re-hashes what is there and continues from its end.
 */
export class Ingest {
  readonly digest: string;
  readonly expectedSize: number;
  private readonly file: string;
  private readonly hasher = new Bun.CryptoHasher("sha256");
  private fd: number;
  private written = 0;
  /** The hash is final once taken: a second verify (commit after verify) must not take it again. */
  private verified = false;
  /** The last `append` write queued (each waits for the one before), the bytes not yet written, the first failure. */
  private tail: Promise<void> = Promise.resolve();
  /** The queued writes, oldest first (they finish in this order). */
  private readonly queued: Promise<void>[] = [];
  private unwritten = 0;
  private failure: { error: unknown } | undefined;

  constructor(layout: StoreLayout, digest: string, expectedSize: number) {
    this.digest = digest;
    this.expectedSize = expectedSize;
    this.file = layout.ingest(digest);
    this.fd = fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    // A partial larger than the blob can only be garbage: start over.
    if (fs.fstatSync(this.fd).size > expectedSize) fs.ftruncateSync(this.fd, 0);
  }

  /** Bytes already on disk from an earlier attempt (not yet hashed; see `replay`). */
  get resumable(): number {
    return fs.fstatSync(this.fd).size;
  }

  /**
   * The partial bytes from an earlier attempt, as a stream: they are hashed as they pass, so the
   * caller feeds them to the unpacker before the network's bytes.
   */
  replay(): ReadableStream<Uint8Array> {
    const size = this.resumable;
    const fd = this.fd;
    let pos = 0;
    const chunk = 1 << 20;
    return new ReadableStream<Uint8Array>({
      pull: (controller) => {
        if (pos >= size) {
          controller.close();
          return;
        }
        const buf = Buffer.allocUnsafe(Math.min(chunk, size - pos));
        const n = fs.readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) {
          controller.close();
          return;
        }
        pos += n;
        this.written += n;
        const bytes = new Uint8Array(buf.buffer, buf.byteOffset, n);
        this.hasher.update(bytes);
        controller.enqueue(bytes);
      },
    });
  }

  /** Append bytes (the caller may reuse `bytes` afterwards). */
  write(bytes: Uint8Array): void {
    const at = this.take(bytes);
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(this.fd, bytes, off, bytes.length - off, at + off);
  }

  /**
   * Append bytes that nobody changes afterwards (a network chunk), written by the thread pool: the
   * copy into the page cache is not paid on this thread, which also unpacks. One write at a time, in
   * order, so the file is always a prefix of the blob (resumable after a kill). Waits only while more
   * than WRITE_BEHIND_BYTES are unwritten; `verify`, `commit` and `close` wait for all of them.
   */
  async append(bytes: Uint8Array): Promise<void> {
    this.throwFailure();
    const at = this.take(bytes);
    this.unwritten += bytes.length;
    const written = this.tail.then(async () => {
      if (this.failure) return;
      try {
        for (let off = 0; off < bytes.length; ) off += await writeOnPool(this.fd, bytes, off, at + off);
      } catch (error) {
        this.failure = { error };
      } finally {
        this.unwritten -= bytes.length;
        this.queued.shift();
      }
    });
    this.tail = written;
    this.queued.push(written);
    while (this.unwritten > WRITE_BEHIND_BYTES) await this.queued[0];
    this.throwFailure();
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Counts and hashes `bytes`; returns the offset they go to. */
  private take(bytes: Uint8Array): number {
    if (this.written + bytes.length > this.expectedSize) {
      throw new DataLossError(`Cannot download blob ${this.digest}: more than the ${this.expectedSize} bytes the manifest declares`);
    }
    const at = this.written;
    this.written += bytes.length;
    this.hasher.update(bytes);
    return at;
  }

  /** Every `append` on disk (in the page cache); the first failure, if any, thrown. */
  private async settle(): Promise<void> {
    await this.tail;
    this.throwFailure();
  }

  get size(): number {
    return this.written;
  }

  /** Check size and digest of everything written. On mismatch the partial is deleted: it can't be resumed. */
  async verify(): Promise<void> {
    await this.settle();
    if (this.verified) return;
    const actual = `sha256:${this.hasher.digest("hex")}`;
    if (this.written !== this.expectedSize || actual !== this.digest) {
      this.closeNow();
      fs.rmSync(this.file, { force: true });
      const why = this.written !== this.expectedSize ? `got ${this.written} bytes, manifest says ${this.expectedSize}` : `content hashes to ${actual}`;
      throw new DataLossError(`Cannot verify blob ${this.digest}: ${why}`);
    }
    this.verified = true;
  }

  /**
   * Verify, fsync, and move into the blob store. The fsyncs run on the thread pool: the wait for the
   * disk does not hold up the other layers' unpacking on this thread.
   */
  async commit(layout: StoreLayout): Promise<void> {
    await this.verify();
    await fsyncOnPool(this.fd);
    fs.closeSync(this.fd);
    this.fd = -1;
    fs.renameSync(this.file, layout.blob(this.digest));
    await fsyncDirAsync(layout.blobsDir);
  }

  /** Close but keep the partial file for a later resume (an empty one is not worth keeping). */
  async close(): Promise<void> {
    // A write still on the pool must not land in whatever file reuses the descriptor.
    await this.settle().catch(() => {});
    this.closeNow();
  }

  async discard(): Promise<void> {
    await this.close();
    fs.rmSync(this.file, { force: true });
  }

  private closeNow(): void {
    if (this.fd < 0) return;
    const empty = fs.fstatSync(this.fd).size === 0;
    fs.closeSync(this.fd);
    this.fd = -1;
    if (empty) fs.rmSync(this.file, { force: true });
  }
}

