// The registry HTTP API for pushes (distribution spec v2): is a blob there (HEAD), mount it from
// another repository of the same registry, upload it (one PUT when it fits one request; else PATCH
// chunks with Content-Range, the last one carried by the closing PUT, resumed from the Range the
// registry reports after a broken connection), and PUT the manifest's exact bytes last. How bytes
// travel is transport/'s.
// Every body is a slice of the stored blob file, which Bun sends with sendfile(2): the bytes never
// pass through JavaScript (a push of 217 MB cost 0.65 s of CPU read and copied in 1 MiB pieces,
// 0.16 s so).
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { DataLossError, NotFoundError, ParseError, UnavailableError } from "../errors.ts";
import { isDigest, sha256Digest } from "../image/digest.ts";
import type { Descriptor } from "../image/manifest.ts";
import { familiarName, isRepositoryPath, isTag } from "../image/reference.ts";
import { clean } from "./auth.ts";
import { readCredentials, type Credentials } from "./credentials.ts";
import { resolveEndpoints, type Endpoint } from "./endpoints.ts";
import { discard } from "./transport/body.ts";
import { Connection } from "./transport/connection.ts";
import { newDeadline, type ProgressDeadline } from "./transport/deadline.ts";
import { retrying } from "./transport/retry.ts";
import { statusError } from "./transport/status.ts";
import { Transport, type Exchange, type RequestInit2 } from "./transport/transport.ts";
import { TransientError } from "./transport/transient.ts";

/**
 * One request's bytes while the link's speed is unknown: a body sent from the file is not seen
 * moving, so the wait for its answer is bounded by the stall timer (10 s), and this still fits a
 * link of ~3.4 MB/s. It is also the most a broken connection can cost to send again.
 */
export const CHUNK_BYTES = 32 * 1024 * 1024;
/**
 * Once a request of the upload has been answered, the next one carries what the speed it went at
 * sends in this share of the stall timer (never less than CHUNK_BYTES): a link may slow down 4×
 * before a request outlasts the timer, and a fast one needs a request or two per blob, not one
 * per 32 MiB (each an answer to wait for and, at the registry, a file closed and reopened).
 */
const STALL_SHARE = 4;
export type BlobOutcome = { kind: "exists" } | { kind: "mounted"; from: string } | { kind: "pushed" };
/** A blob before its bytes: there, mounted, or an upload the registry opened (what pushBlob sends into). */
export type Begun = { kind: "exists" } | { kind: "mounted"; from: string } | { kind: "upload"; session: Session };

export interface UploadOptions {
  /** Repositories of this registry that had the blob (where it was pulled from or pushed to). */
  mountFrom?: readonly string[];
  /** Bytes acknowledged by the registry so far. */
  onProgress?: (sent: number, total: number) => void;
  /** CHUNK_BYTES unless given (tests make it small). */
  chunkBytes?: number;
  /** Whether the registry has the blob, when that was asked already (else a HEAD asks). */
  exists?: Promise<boolean>;
  /** The blob's begin(), when it was called already (else pushBlob calls it). */
  begun?: Promise<Begun>;
}

/** Where an upload stands: its URL (the registry's state token changes with each answer) and offset. */
export interface Session {
  ep: Endpoint;
  url: URL;
  offset: number;
  /** Where the last request sent ended: the registry cannot have kept more. */
  sentTo: number;
  chunkBytes: number;
  /** Bytes a ms the last answered request went at; unknown before one is answered. */
  rate?: number;
}

function locationOf(ex: Exchange, what: string): URL {
  const location = ex.res.headers.get("location");
  let url: URL | null = null;
  try {
    url = location ? new URL(location, ex.url) : null;
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UnavailableError(`Cannot ${what}: ${ex.url.origin} answered ${ex.res.status} without a usable Location (${JSON.stringify(clean(location ?? ""))})`);
  }
  return url;
}

/** "0-1023" (the last byte received, inclusive) → the next offset; none yet → 0. */
export function nextOffset(range: string | null): number | null {
  if (range === null || range.trim() === "") return 0;
  const m = /^(?:bytes=)?(\d{1,15})-(\d{1,15})$/.exec(range.trim());
  if (!m) return null;
  return Number(m[2]) + 1;
}

function withQuery(url: URL, key: string, value: string): URL {
  const out = new URL(url.href);
  out.searchParams.set(key, value);
  return out;
}

export class RegistryUploader {
  private readonly ctx: Ctx;
  private readonly repository: string;
  /** As Docker shows it: "127.0.0.1:5000/app". */
  readonly name: string;
  readonly transport: Transport;

  /** `mountSources`: the other repositories a blob may be mounted from, each asked `pull` scope for. */
  constructor(ctx: Ctx, repo: { registry: string; repository: string }, mountSources: readonly string[] = []) {
    for (const r of [repo.repository, ...mountSources]) {
      if (!isRepositoryPath(r)) throw new ParseError(`Cannot parse repository "${r}": not a lowercase path of name components`);
    }
    this.ctx = ctx;
    this.repository = repo.repository;
    this.name = familiarName(repo);
    const known = new Map<string, Credentials | null>();
    const dir = ctx.dockerConfigDir;
    const scopes = [`repository:${repo.repository}:push,pull`, ...mountSources.filter((s) => s !== repo.repository).map((s) => `repository:${s}:pull`)];
    this.transport = new Transport(ctx, resolveEndpoints(repo.registry, { ...ctx.config, mirrorFallback: true, registryMirrors: [] }), {
      action: `push "${this.name}"`,
      scope: scopes.join(" "),
      credentials: (ep) => {
        if (!known.has(ep.credentialsKey)) known.set(ep.credentialsKey, readCredentials(dir, ep.credentialsKey));
        return known.get(ep.credentialsKey) ?? null;
      },
    });
  }

  /** One request at `ep` (or an upload URL), its answer handed to `use`; the connection closed after. */
  private async request<T>(
    ep: Endpoint,
    deadline: ProgressDeadline,
    target: string | URL,
    headers: Record<string, string>,
    req: RequestInit2,
    use: (ex: Exchange, conn: Connection) => Promise<T>,
  ): Promise<T> {
    const conn = new Connection(this.ctx, deadline);
    try {
      const ex = await this.transport.send(conn, ep, target, headers, req);
      return await use(ex, conn);
    } finally {
      conn.close();
    }
  }

  /** Whether the registry has `digest` in this repository. */
  async hasBlob(desc: Descriptor): Promise<boolean> {
    checkDigest(desc.digest);
    const what = `check blob ${desc.digest} in ${this.name}`;
    return this.transport.onEndpoints(what, (ep, deadline) =>
      this.request(ep, deadline, `/v2/${this.repository}/blobs/${desc.digest}`, {}, { method: "HEAD" }, async (ex, conn) => {
        await discard(ex.res);
        if (ex.res.status === 200) return true;
        if (ex.res.status === 404) return false;
        throw await statusError(conn, ex, what, (m) => `Cannot ${what}: ${m || "not found"}`);
      }),
    );
  }

  /**
   * Where the blob stands before any byte is sent: in the repository already, mounted from one of
   * `opts.mountFrom`, or an upload the registry opened for it (`upload`).
   */
  async begin(desc: Descriptor, opts: Pick<UploadOptions, "mountFrom" | "exists"> = {}): Promise<Begun> {
    checkDigest(desc.digest);
    if (await (opts.exists ?? this.hasBlob(desc))) return { kind: "exists" };
    for (const from of opts.mountFrom ?? []) {
      if (from === this.repository) continue;
      const started = await this.start(desc, from);
      if (started.kind === "mounted") return { kind: "mounted", from };
      return started; // the registry opened an ordinary upload instead
    }
    const started = await this.start(desc);
    if (started.kind !== "upload") throw new UnavailableError(`Cannot push blob ${desc.digest} to ${this.name}: the registry answered an upload as a mount`);
    return started;
  }

  /**
   * Makes sure the registry has the blob in this repository: already there, mounted from one of
   * `opts.mountFrom`, or uploaded from `file` (which holds exactly the blob's bytes).
   */
  async pushBlob(desc: Descriptor, file: string, opts: UploadOptions = {}): Promise<BlobOutcome> {
    const begun = await (opts.begun ?? this.begin(desc, opts));
    if (begun.kind !== "upload") return begun;
    const session = begun.session;
    session.chunkBytes = opts.chunkBytes ?? CHUNK_BYTES;
    await this.upload(desc, file, session, opts.onProgress);
    return { kind: "pushed" };
  }

  /** POST an upload (a mount when `from` is given): 201 mounted, or 202 with the upload's URL. */
  private async start(desc: Descriptor, from?: string): Promise<{ kind: "mounted" } | { kind: "upload"; session: Session }> {
    const what = `push blob ${desc.digest} to ${this.name}`;
    const query = from ? `?mount=${desc.digest}&from=${encodeURIComponent(from)}` : "";
    return this.transport.onEndpoints(what, (ep, deadline) =>
      this.request(ep, deadline, `/v2/${this.repository}/blobs/uploads/${query}`, { "Content-Length": "0" }, { method: "POST" }, async (ex, conn) => {
        if (from && ex.res.status === 201) {
          await discard(ex.res);
          return { kind: "mounted" as const };
        }
        if (ex.res.status !== 202) throw await statusError(conn, ex, what, (m) => `Cannot ${what}: ${m || "repository not found"}`);
        await discard(ex.res);
        return { kind: "upload" as const, session: { ep, url: locationOf(ex, what), offset: 0, sentTo: 0, chunkBytes: CHUNK_BYTES } };
      }),
    );
  }

  /**
   * Sends the bytes of `file` from the session's offset, then commits with PUT ?digest=. After a
   * broken connection the registry is asked where the upload stands (GET → Range) and the bytes
   * go on from there, within the retry attempts and the no-progress deadline.
   */
  private async upload(desc: Descriptor, file: string, session: Session, onProgress?: (sent: number, total: number) => void): Promise<void> {
    const what = `push blob ${desc.digest} to ${this.name}`;
    const size = desc.size;
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st) throw new NotFoundError(`Cannot ${what}: the blob is not in the local store and not in the registry (pull the image again)`);
    if (st.size !== size) throw new DataLossError(`Cannot ${what}: the stored blob has ${st.size} bytes, the descriptor says ${size}`);
    const deadline = newDeadline(this.ctx);
    const { ep } = session;
    let broken = false;
    const step = async (): Promise<boolean> => {
      if (broken) {
        await this.resync(session, deadline, what);
        broken = false;
        onProgress?.(session.offset, size);
      }
      try {
        const done = await this.sendNext(session, file, size, desc.digest, deadline, what);
        onProgress?.(session.offset, size);
        return done;
      } catch (err) {
        if (err instanceof TransientError) broken = true;
        throw err;
      }
    };
    // Each step moves the offset forward or fails; a failed one is retried from where the
    // registry says the upload stands. The bound: every chunk, plus the commit, plus slack.
    const steps = Math.ceil(size / session.chunkBytes) + 2;
    for (let i = 0; i < steps * 4; i++) {
      if (await retrying(this.ctx, what, ep, deadline, step)) return;
    }
    throw new UnavailableError(`Cannot ${what}: the registry accepted no more bytes`);
  }

  /** What the next request may carry: CHUNK_BYTES, or more once an answer told the link's speed. */
  private budget(session: Session): number {
    const grown = session.rate === undefined ? 0 : Math.floor((session.rate * this.ctx.stallTimeoutMs) / STALL_SHARE);
    return Math.max(session.chunkBytes, grown);
  }

  /**
   * One request from the session's offset: the rest of the blob with the closing PUT ?digest= when
   * it fits the budget (the whole blob in one PUT when small), else the next PATCH chunk.
   */
  private async sendNext(session: Session, file: string, size: number, digest: string, deadline: ProgressDeadline, what: string): Promise<boolean> {
    const { ep } = session;
    const start = session.offset;
    const end = Math.min(size, start + this.budget(session));
    const last = end === size;
    const headers: Record<string, string> = { "Content-Length": String(end - start) };
    if (end > start) headers["Content-Type"] = "application/octet-stream";
    if (end > start && (start > 0 || !last)) headers["Content-Range"] = `${start}-${end - 1}`;
    const req: RequestInit2 = { method: last ? "PUT" : "PATCH" };
    if (end > start) req.body = Bun.file(file).slice(start, end);
    session.sentTo = end;
    const began = this.ctx.clock();
    return this.request(ep, deadline, last ? withQuery(session.url, "digest", digest) : session.url, headers, req, async (ex, conn) => {
      if (ex.res.status !== (last ? 201 : 202)) throw await uploadError(conn, ex, what);
      await discard(ex.res);
      const took = this.ctx.clock() - began;
      if (end > start && took > 0) session.rate = (end - start) / took;
      if (last) {
        session.offset = size;
        return true;
      }
      const next = nextOffset(ex.res.headers.get("range"));
      if (next === null || next > end || next <= start) {
        throw new UnavailableError(`Cannot ${what}: after bytes ${start}-${end - 1} the registry reports range ${JSON.stringify(clean(ex.res.headers.get("range") ?? ""))}`);
      }
      session.url = locationOf(ex, what);
      session.offset = next;
      deadline.progress();
      return false;
    });
  }

  /** GET the upload's status: its URL and the bytes the registry kept (Range: 0-N). */
  private async resync(session: Session, deadline: ProgressDeadline, what: string): Promise<void> {
    await this.request(session.ep, deadline, session.url, {}, { method: "GET" }, async (ex, conn) => {
      if (ex.res.status === 404) {
        await discard(ex.res);
        throw new NotFoundError(`Cannot ${what}: the registry dropped the upload after a broken connection`);
      }
      if (ex.res.status !== 204 && ex.res.status !== 200) throw await statusError(conn, ex, what, (m) => `Cannot ${what}: ${m || "upload unknown"}`);
      await discard(ex.res);
      const next = nextOffset(ex.res.headers.get("range"));
      if (next === null || next > session.sentTo) {
        throw new UnavailableError(`Cannot ${what}: the upload's status has an unusable range ${JSON.stringify(clean(ex.res.headers.get("range") ?? ""))}`);
      }
      if (ex.res.headers.get("location")) session.url = locationOf(ex, what);
      this.ctx.log.debug(`${what}: resuming at byte ${next} (was at ${session.offset})`);
      session.offset = next;
    });
  }

  /** PUT the manifest's exact bytes under `reference` (a tag, or its digest); returns its digest. */
  async putManifest(reference: string, body: Uint8Array, mediaType: string): Promise<string> {
    if (!isTag(reference) && !isDigest(reference)) throw new ParseError(`Cannot parse manifest reference "${reference}": not a tag or sha256 digest`);
    const digest = sha256Digest(body);
    const what = `push manifest ${this.name}:${reference}`;
    return this.transport.onEndpoints(what, (ep, deadline) =>
      this.request(ep, deadline, `/v2/${this.repository}/manifests/${reference}`, { "Content-Type": mediaType }, { method: "PUT", body }, async (ex, conn) => {
        if (ex.res.status !== 201 && ex.res.status !== 200) {
          throw await statusError(conn, ex, what, (m) => `Cannot ${what}: ${m || "a blob it names is unknown to the registry"}`);
        }
        await discard(ex.res);
        const claimed = ex.res.headers.get("docker-content-digest")?.trim();
        if (claimed && claimed !== digest) {
          throw new DataLossError(`Cannot ${what}: the registry stored it as ${clean(claimed)}, not ${digest}`);
        }
        return digest;
      }),
    );
  }
}

function checkDigest(digest: string): void {
  if (!isDigest(digest)) throw new ParseError(`Cannot parse digest ${JSON.stringify(digest)}: want sha256: and 64 hex digits`);
}

/** A 4xx to an upload step: the registry's own words (DIGEST_INVALID, BLOB_UPLOAD_INVALID, …). */
async function uploadError(conn: Connection, ex: Exchange, what: string): Promise<Error> {
  return statusError(conn, ex, what, (m) => `Cannot ${what}: ${m || "upload unknown"}`);
}
