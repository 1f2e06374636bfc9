// The registry HTTP API (distribution spec v2) for pulls: manifests and blobs, over endpoints
// tried in order, with auth, retries, manual redirects, stall detection and resumable blob
// streams. Every size is capped and every digest checked: the registry may be hostile.
import type { Ctx } from "../context.ts";
import {
  DataLossError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  ParseError,
  PermissionError,
  TinydockError,
  UnauthenticatedError,
  UnavailableError,
  describeError,
  errnoCode,
} from "../errors.ts";
import { isDigest, sha256Digest } from "../image/digest.ts";
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, type Descriptor } from "../image/manifest.ts";
import { DOCKER_HUB, familiarName } from "../image/reference.ts";
import { AUTH_BODY_MAX, Authenticator, clean, registryErrorMessage, type AuthOptions, type TokenResponse } from "./auth.ts";
import { normalizeRegistryKey, readCredentials, type Credentials } from "./credentials.ts";
import { isInsecureRegistry, isLoopbackHost, resolveEndpoints, type Endpoint } from "./endpoints.ts";

export interface ManifestResponse {
  body: Uint8Array;
  contentType: string | null;
  /** "sha256:<hex>" of body */
  digest: string;
}

/** Error bodies are read for their message only, never more than this. */
export const ERROR_BODY_MAX = 64 * 1024;
export const MAX_REDIRECTS = 10;

const TAG_RE = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REPOSITORY_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** TLS handshake and certificate failures: the same endpoint will fail the same way again. */
const NO_RETRY_CODES = new Set([
  "EPROTO",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);
const NETWORK_MESSAGES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EPROTO: "TLS handshake failed",
  ENOTFOUND: "host not found",
  ConnectionRefused: "connection refused",
  ConnectionClosed: "connection closed",
};

/** A failure another try may fix: network errors, stalls, 5xx, 429. Never leaves this module. */
class TransientError extends Error {
  readonly retry: boolean;
  /** The server answered (5xx, 429) rather than the connection failing. */
  readonly answered: boolean;
  /** The operation's no-progress deadline passed: no retry, no other endpoint. */
  readonly expired: boolean;
  constructor(message: string, opts: { cause?: unknown; retry?: boolean; answered?: boolean; expired?: boolean } = {}) {
    super(message, { cause: opts.cause });
    this.expired = opts.expired ?? false;
    this.retry = !this.expired && (opts.retry ?? true);
    this.answered = opts.answered ?? false;
  }
}

/**
 * How long one operation (a manifest, a blob's connect, one read of a blob stream) may go without
 * receiving a byte, shared by all its retries, reconnects, backoff sleeps and endpoints: a retry
 * that brings data earns more time, one that does not spends what is left. Each wait for headers
 * or for the next chunk is bounded by the smaller of ctx.stallTimeoutMs and what is left, so a
 * registry that stalls, however often it is retried, ends the operation after `budgetMs`.
 */
export class ProgressDeadline {
  private last: number;
  constructor(
    private readonly clock: () => number,
    readonly budgetMs: number,
  ) {
    this.last = clock();
  }

  /** Bytes arrived (or the consumer asked for more after the last ones): the budget starts over. */
  progress(): void {
    this.last = this.clock();
  }

  remaining(): number {
    return this.last + this.budgetMs - this.clock();
  }

  /** The error that ends the operation, keeping the last failure's detail. */
  expired(last: string): TransientError {
    return new TransientError(`no progress for ${formatSeconds(this.budgetMs)} (${last})`, { expired: true });
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The per-operation budget from the engine config (Docker daemon.json style, in seconds). */
function newDeadline(ctx: Ctx): ProgressDeadline {
  return new ProgressDeadline(ctx.clock, ctx.config.downloadStallTimeoutMs);
}

/**
 * Errors after which another endpoint may be tried, once retries are spent: a connection failure
 * anywhere, or an answered 5xx/429 at a mirror. (The HTTPS/HTTP pair of one registry is one server:
 * once it answers, the other scheme has nothing better to say.)
 */
const FALLBACK = new WeakMap<object, "connection" | "answered">();

function transient(err: unknown, where: string): Error {
  if (err instanceof TransientError || err instanceof TinydockError) return err;
  const code = errnoCode(err) ?? (err instanceof Error ? err.name : "");
  const text = NETWORK_MESSAGES[code] ?? describeError(err);
  return new TransientError(`${where}: ${text}`, { cause: err, retry: !NO_RETRY_CODES.has(code) });
}

/**
 * One attempt's network activity under one abort signal and a stall timer: waiting for headers
 * or for the next body chunk longer than ctx.stallTimeoutMs, or past the operation's deadline,
 * aborts everything.
 */
class Connection {
  private readonly ac = new AbortController();
  private readonly ctx: Ctx;
  readonly deadline: ProgressDeadline;

  constructor(ctx: Ctx, deadline: ProgressDeadline) {
    this.ctx = ctx;
    this.deadline = deadline;
  }

  async fetch(url: URL, init: BunFetchRequestInit): Promise<Response> {
    try {
      return await this.guard(this.ctx.fetch(url.href, { ...init, signal: this.ac.signal }), url.origin);
    } catch (err) {
      throw transient(err, url.origin);
    }
  }

  async read(reader: ReadableStreamDefaultReader<Uint8Array>, origin: string): Promise<Bun.ReadableStreamDefaultReadResult<Uint8Array>> {
    try {
      return await this.guard(reader.read(), origin);
    } catch (err) {
      throw transient(err, origin);
    }
  }

  /** Ends whatever is still open; harmless after a complete exchange. */
  close(): void {
    if (!this.ac.signal.aborted) this.ac.abort(new TransientError("closed"));
  }

  /** `p`, or a TransientError once the stall timer or the deadline runs out (not retried then). */
  async guard<T>(p: Promise<T>, origin: string): Promise<T> {
    const left = this.deadline.remaining();
    const stall = this.ctx.stallTimeoutMs;
    if (left <= 0) {
      p.catch(() => {});
      const err = this.deadline.expired(`${origin}: no data`);
      this.ac.abort(err);
      throw err;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err =
          left <= stall
            ? this.deadline.expired(`${origin}: no data`)
            : new TransientError(`${origin}: no data for ${formatSeconds(stall)}`);
        this.ac.abort(err);
        reject(err);
      }, Math.min(stall, left));
    });
    try {
      return await Promise.race([p, stalled]);
    } finally {
      clearTimeout(timer);
    }
  }
}

interface Exchange {
  res: Response;
  /** Where the response came from, after redirects. */
  url: URL;
}

async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // the connection is going away anyway
  }
}

function declaredLength(res: Response): number | null {
  const enc = res.headers.get("content-encoding");
  if (enc && enc.toLowerCase() !== "identity") return null; // the length is of the encoded bytes
  const len = res.headers.get("content-length");
  return len && /^\d{1,15}$/.test(len.trim()) ? Number(len.trim()) : null;
}

/** The whole body, or `overflow()` as soon as it exceeds `max` (declared or counted). */
async function readBody(conn: Connection, res: Response, origin: string, max: number, overflow: () => Error): Promise<Uint8Array> {
  const declared = declaredLength(res);
  if (declared !== null && declared > max) {
    await discard(res);
    throw overflow();
  }
  return readUpTo(conn, res, origin, max, overflow, true);
}

/** At most `max` bytes of an error body; network trouble just ends it. */
async function readErrorBody(conn: Connection, res: Response, origin: string): Promise<Uint8Array> {
  try {
    return await readUpTo(conn, res, origin, ERROR_BODY_MAX, null, false);
  } catch {
    return new Uint8Array(0);
  }
}

async function readUpTo(
  conn: Connection,
  res: Response,
  origin: string,
  max: number,
  overflow: (() => Error) | null,
  /** Whether the bytes are what was asked for (progress), not an error body. */
  wanted: boolean,
): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await conn.read(reader, origin);
      if (done) break;
      if (wanted && value.length > 0) conn.deadline.progress();
      if (total + value.length > max) {
        if (overflow) throw overflow();
        chunks.push(value.subarray(0, max - total));
        total = max;
        break;
      }
      chunks.push(value);
      total += value.length;
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  }
  if (total === max) reader.cancel().catch(() => {});
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function withAuth(headers: Record<string, string>, authorization: string | null): Record<string, string> {
  return authorization ? { ...headers, Authorization: authorization } : { ...headers };
}

/** Endpoints, auth and retries shared by the client and `checkLogin`. */
class Transport {
  readonly ctx: Ctx;
  readonly auth: Authenticator;
  private readonly endpoints: Endpoint[];
  private preferred = 0;

  constructor(ctx: Ctx, endpoints: Endpoint[], authOptions: Omit<AuthOptions, "request" | "clock" | "log" | "insecureRegistries">) {
    this.ctx = ctx;
    this.endpoints = endpoints;
    this.auth = new Authenticator({
      ...authOptions,
      insecureRegistries: ctx.config.insecureRegistries,
      clock: ctx.clock,
      log: ctx.log,
      request: (ep, url, headers) => this.requestToken(ep, url, headers),
    });
  }

  /**
   * Runs `op` at each endpoint in turn, from the one that last worked, retrying transient
   * failures at each. Moves on after connection failures and 5xx (once retries are spent), or
   * after 401/403/404 at a mirror; never after DataLoss. The last endpoint's error is thrown.
   */
  async onEndpoints<T>(what: string, op: (ep: Endpoint, deadline: ProgressDeadline) => Promise<T>): Promise<T> {
    const eps = this.endpoints;
    const deadline = newDeadline(this.ctx);
    for (let i = this.preferred; i < eps.length; i++) {
      const ep = eps[i]!;
      try {
        const value = await this.retrying(what, ep, deadline, () => op(ep, deadline));
        this.preferred = i;
        return value;
      } catch (err) {
        if (i === eps.length - 1 || !mayFallBack(err, ep)) throw err;
        this.ctx.log.debug(`${describeError(err)}; trying ${eps[i + 1]!.base}`);
      }
    }
    throw new InternalError(`Cannot ${what}: no registry endpoint to try`);
  }

  /**
   * `op` again after each TransientError, with exponential backoff, up to ctx.retry.attempts tries,
   * and never past `deadline` (then no other endpoint is tried either: the time is spent).
   */
  async retrying<T>(what: string, ep: Endpoint, deadline: ProgressDeadline, op: () => Promise<T>): Promise<T> {
    const { attempts, baseDelayMs } = this.ctx.retry;
    for (let n = 0; ; n++) {
      try {
        return await op();
      } catch (caught) {
        if (!(caught instanceof TransientError)) throw caught;
        const delay = baseDelayMs * 2 ** n;
        const err = caught.retry && n + 1 < attempts && delay >= deadline.remaining() ? deadline.expired(caught.message) : caught;
        if (n + 1 >= attempts || !err.retry) {
          const e = new UnavailableError(`Cannot ${what}: ${err.message}`, { cause: err });
          if (!err.expired) FALLBACK.set(e, err.answered ? "answered" : "connection");
          throw e;
        }
        this.ctx.log.debug(`${what}: ${err.message} at ${ep.base}; retrying (${n + 1} of ${attempts - 1})`);
        await this.ctx.sleep(delay);
      }
    }
  }

  /**
   * One request to `ep` with auth: a known token or Basic first; after a 401 from the endpoint,
   * one answer to its challenge. The response (any other status) is the caller's to consume.
   */
  async send(conn: Connection, ep: Endpoint, path: string, headers: Record<string, string>): Promise<Exchange> {
    const url = new URL(ep.base + path);
    // A token server that stalls spends this operation's time too.
    const sent = await conn.guard(this.auth.current(ep), url.origin);
    let ex = await this.exchange(conn, ep, url, withAuth(headers, sent));
    if (ex.res.status !== 401 || ex.url.origin !== url.origin) return ex;
    const message = registryErrorMessage(await readErrorBody(conn, ex.res, ex.url.origin));
    const answer = await conn.guard(this.auth.answer(ep, ex.res.headers.get("www-authenticate"), sent, message), url.origin);
    ex = await this.exchange(conn, ep, url, withAuth(headers, answer));
    if (ex.res.status !== 401 || ex.url.origin !== url.origin) return ex;
    const again = registryErrorMessage(await readErrorBody(conn, ex.res, ex.url.origin));
    throw this.auth.denied(ep, answer, again);
  }

  /** GET with redirects followed by hand: Authorization never leaves the origin it was meant for. */
  async exchange(conn: Connection, ep: Endpoint, start: URL, headers: Record<string, string>): Promise<Exchange> {
    let url = start;
    const h = { ...headers };
    for (let hop = 0; ; hop++) {
      const init: BunFetchRequestInit = { method: "GET", headers: h, redirect: "manual" };
      if (this.skipTlsVerify(ep, url)) init.tls = { rejectUnauthorized: false };
      const res = await conn.fetch(url, init);
      if (!REDIRECTS.has(res.status)) return { res, url };
      const location = res.headers.get("location");
      await discard(res);
      if (hop >= MAX_REDIRECTS) throw new UnavailableError(`Cannot follow redirects from ${start.origin}: more than ${MAX_REDIRECTS}`);
      let next: URL | null = null;
      try {
        next = location ? new URL(location, url) : null;
      } catch {
        next = null;
      }
      if (!next || (next.protocol !== "http:" && next.protocol !== "https:")) {
        throw new UnavailableError(`Cannot follow redirect from ${url.origin}: unusable Location ${JSON.stringify(clean(location ?? ""))}`);
      }
      if (next.origin !== url.origin) delete h.Authorization;
      url = next;
    }
  }

  /** Only the insecure registry itself (or a loopback / listed host) goes unverified, not a CDN. */
  private skipTlsVerify(ep: Endpoint, url: URL): boolean {
    if (url.protocol !== "https:") return false;
    if (ep.insecureTls && url.origin === new URL(ep.base).origin) return true;
    return isLoopbackHost(url.hostname) || isInsecureRegistry(url.host, this.ctx.config.insecureRegistries);
  }

  private async requestToken(ep: Endpoint, url: string, headers: Record<string, string>): Promise<TokenResponse> {
    // Shared by every operation waiting for this token, so it has a deadline of its own.
    const conn = new Connection(this.ctx, newDeadline(this.ctx));
    try {
      const { res, url: at } = await this.exchange(conn, ep, new URL(url), headers);
      if (res.status === 429 || res.status >= 500) {
        const message = registryErrorMessage(await readErrorBody(conn, res, at.origin));
        throw new TransientError(`token server ${at.origin} answered ${res.status}${message ? `: ${message}` : ""}`, { answered: true });
      }
      const body =
        res.status === 200
          ? await readBody(conn, res, at.origin, AUTH_BODY_MAX, () => new UnavailableError(`Cannot use token from ${at.origin}: larger than ${AUTH_BODY_MAX} bytes`))
          : await readErrorBody(conn, res, at.origin);
      return { status: res.status, statusText: res.statusText, body };
    } finally {
      conn.close();
    }
  }
}

function mayFallBack(err: unknown, ep: Endpoint): boolean {
  if (err instanceof DataLossError) return false;
  const failure = err instanceof Error ? FALLBACK.get(err) : undefined;
  if (failure === "connection") return true;
  if (!ep.mirror || !(err instanceof TinydockError)) return false;
  if (failure === "answered") return true;
  return err.kind === "NotFound" || err.kind === "Unauthenticated" || err.kind === "Permission";
}

/** The error for a response that is not the success the caller wanted. */
async function statusError(conn: Connection, ex: Exchange, what: string, notFound: (message: string) => string): Promise<Error> {
  const { res, url } = ex;
  const message = registryErrorMessage(await readErrorBody(conn, res, url.origin));
  const detail = message ? `: ${message}` : "";
  const status = `${res.status}${res.statusText ? ` ${clean(res.statusText)}` : ""}`;
  if (res.status === 404) return new NotFoundError(notFound(message));
  if (res.status === 429 || res.status >= 500) {
    return new TransientError(`${url.origin} answered ${status}${detail}`, { answered: true });
  }
  if (res.status === 401) return new UnauthenticatedError(`Cannot ${what}: ${url.origin} answered ${status}${detail}`);
  if (res.status === 403) return new PermissionError(`Cannot ${what}: ${message || "denied: access forbidden"}`);
  return new UnavailableError(`Cannot ${what}: ${url.origin} answered ${status}${detail}`);
}

function checkDescriptor(desc: Descriptor): void {
  if (!isDigest(desc.digest)) throw new ParseError(`Cannot parse digest ${JSON.stringify(desc.digest)}: want sha256: and 64 hex digits`);
  if (!Number.isSafeInteger(desc.size) || desc.size < 0) {
    throw new InvalidArgumentError(`Cannot fetch blob ${desc.digest}: size ${desc.size} is not a non-negative integer`);
  }
}

interface BlobBody {
  conn: Connection;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  origin: string;
  /** Bytes still to drop: the server answered 200 to a Range request. */
  skip: number;
}

export class RegistryClient {
  private readonly ctx: Ctx;
  private readonly registry: string;
  private readonly repository: string;
  /** As Docker shows it: "busybox", "127.0.0.1:5000/app". */
  private readonly name: string;
  private transportCache: Transport | undefined;

  constructor(ctx: Ctx, repo: { registry: string; repository: string }) {
    if (!REPOSITORY_RE.test(repo.repository) || repo.repository.length > 255) {
      throw new ParseError(`Cannot parse repository "${repo.repository}": not a lowercase path of name components`);
    }
    this.ctx = ctx;
    this.registry = repo.registry;
    this.repository = repo.repository;
    this.name = familiarName(repo);
  }

  /** Endpoints and credentials are worked out on first use, so constructing costs nothing. */
  private get transport(): Transport {
    if (!this.transportCache) {
      const known = new Map<string, Credentials | null>();
      const dir = this.ctx.dockerConfigDir;
      this.transportCache = new Transport(this.ctx, resolveEndpoints(this.registry, this.ctx.config), {
        action: `pull "${this.name}"`,
        scope: `repository:${this.repository}:pull`,
        credentials: (ep) => {
          if (!known.has(ep.credentialsKey)) known.set(ep.credentialsKey, readCredentials(dir, ep.credentialsKey));
          return known.get(ep.credentialsKey) ?? null;
        },
      });
    }
    return this.transportCache;
  }

  async getManifest(reference: string): Promise<ManifestResponse> {
    const byDigest = reference.includes(":");
    if (byDigest ? !isDigest(reference) : !TAG_RE.test(reference)) {
      throw new ParseError(`Cannot parse manifest reference "${reference}": not a tag or sha256 digest`);
    }
    const shown = `${this.name}${byDigest ? "@" : ":"}${reference}`;
    const what = `fetch manifest for ${shown}`;
    const path = `/v2/${this.repository}/manifests/${reference}`;
    return this.transport.onEndpoints(what, async (ep, deadline) => {
      const conn = new Connection(this.ctx, deadline);
      try {
        const ex = await this.transport.send(conn, ep, path, { Accept: MANIFEST_ACCEPT });
        if (ex.res.status !== 200) {
          throw await statusError(conn, ex, what, (m) => `manifest for ${shown} not found: ${m || "manifest unknown"}`);
        }
        const body = await readBody(conn, ex.res, ex.url.origin, MAX_MANIFEST_BYTES, () => new DataLossError(`Cannot ${what}: larger than ${MAX_MANIFEST_BYTES} bytes`));
        const digest = sha256Digest(body);
        if (byDigest && digest !== reference) {
          throw new DataLossError(`Cannot ${what}: the registry sent content with digest ${digest}`);
        }
        const claimed = ex.res.headers.get("docker-content-digest")?.trim();
        if (claimed?.startsWith("sha256:") && claimed !== digest) {
          throw new DataLossError(`Cannot ${what}: Docker-Content-Digest ${clean(claimed)} does not match the content (${digest})`);
        }
        return { body, contentType: ex.res.headers.get("content-type"), digest };
      } finally {
        conn.close();
      }
    });
  }

  async getBlob(desc: Descriptor, max: number): Promise<Uint8Array> {
    checkDescriptor(desc);
    if (desc.size > max) {
      throw new DataLossError(`Cannot fetch blob ${desc.digest} of ${this.name}: its size ${desc.size} exceeds the limit of ${max} bytes`);
    }
    const reader = (await this.openBlob(desc, 0)).getReader();
    const out = new Uint8Array(desc.size);
    let at = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out.set(value, at); // openBlob never yields more than desc.size bytes
      at += value.length;
    }
    if (at !== desc.size) throw new DataLossError(`Cannot fetch blob ${desc.digest} of ${this.name}: got ${at} of ${desc.size} bytes`);
    const digest = sha256Digest(out);
    if (digest !== desc.digest) {
      throw new DataLossError(`Cannot fetch blob ${desc.digest} of ${this.name}: the registry sent content with digest ${digest}`);
    }
    return out;
  }

  async openBlob(desc: Descriptor, offset: number): Promise<ReadableStream<Uint8Array>> {
    checkDescriptor(desc);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > desc.size) {
      throw new InvalidArgumentError(`Cannot fetch blob ${desc.digest}: offset ${offset} is outside 0..${desc.size}`);
    }
    if (offset === desc.size) return new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    const what = `download blob ${desc.digest} of ${this.name}`;
    const path = `/v2/${this.repository}/blobs/${desc.digest}`;
    const { ctx, transport } = this;
    let ep: Endpoint | undefined;
    let body = await transport.onEndpoints(what, async (e, deadline) => {
      const b = await this.connectBlob(e, path, desc, offset, what, deadline);
      ep = e;
      return b;
    });
    const at = ep!;
    const deadline = body.conn.deadline;
    let position = offset;
    let failures = 0;
    let done = false;
    const finish = (): void => {
      done = true;
      body.conn.close();
    };

    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          // Time the consumer spent on the last chunk is not the registry's.
          deadline.progress();
          for (;;) {
            let broken: TransientError;
            try {
              const r = await body.conn.read(body.reader, body.origin);
              if (done) return;
              if (r.done) {
                broken = new TransientError(`${body.origin}: connection closed after ${position} of ${desc.size} bytes`);
              } else {
                // Bytes before the resume point (a 200 to a Range request) count too: data flows.
                if (r.value.length > 0) deadline.progress();
                let chunk = r.value;
                if (body.skip > 0) {
                  const n = Math.min(body.skip, chunk.length);
                  body.skip -= n;
                  chunk = chunk.subarray(n);
                }
                if (chunk.length === 0) continue;
                if (position + chunk.length > desc.size) {
                  finish();
                  controller.error(new DataLossError(`Cannot ${what}: the registry sent more than the ${desc.size} bytes of the descriptor`));
                  return;
                }
                position += chunk.length;
                failures = 0;
                controller.enqueue(chunk);
                if (position === desc.size) {
                  finish();
                  controller.close();
                }
                return;
              }
            } catch (err) {
              if (done) return;
              if (!(err instanceof TransientError)) {
                finish();
                controller.error(err);
                return;
              }
              broken = err;
            }
            // The body broke or stalled: reconnect from the byte reached.
            body.conn.close();
            for (;;) {
              failures++;
              const delay = ctx.retry.baseDelayMs * 2 ** (failures - 1);
              if (!broken.expired && delay >= deadline.remaining()) broken = deadline.expired(broken.message);
              if (broken.expired || failures > ctx.retry.attempts) {
                done = true;
                const why = broken.expired ? `at byte ${position} of ${desc.size}` : `after ${ctx.retry.attempts} reconnects`;
                controller.error(new UnavailableError(`Cannot ${what}: ${broken.message} (${why})`, { cause: broken }));
                return;
              }
              ctx.log.debug(`${what}: ${broken.message}; resuming at byte ${position}`);
              await ctx.sleep(delay);
              if (done) return;
              try {
                body = await this.connectBlob(at, path, desc, position, what, deadline);
                break;
              } catch (err) {
                if (!(err instanceof TransientError)) {
                  done = true;
                  controller.error(err);
                  return;
                }
                broken = err;
              }
            }
            if (done) {
              body.conn.close();
              return;
            }
          }
        },
        cancel: () => finish(),
      },
      { highWaterMark: 0 },
    );
  }

  /** A response positioned at `position`: 206 from there, or 200 with the bytes before it to skip. */
  private async connectBlob(
    ep: Endpoint,
    path: string,
    desc: Descriptor,
    position: number,
    what: string,
    deadline: ProgressDeadline,
  ): Promise<BlobBody> {
    const conn = new Connection(this.ctx, deadline);
    try {
      // Identity encoding: byte offsets and lengths must be those of the blob itself.
      const headers: Record<string, string> = { "Accept-Encoding": "identity" };
      if (position > 0) headers.Range = `bytes=${position}-`;
      const ex = await this.transport.send(conn, ep, path, headers);
      const { res } = ex;
      const length = declaredLength(res);
      let skip = 0;
      if (res.status === 206) {
        const range = res.headers.get("content-range");
        const m = range ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range.trim()) : null;
        if (range && (!m || Number(m[1]) !== position)) {
          throw new DataLossError(`Cannot ${what}: asked for bytes from ${position}, got range ${JSON.stringify(clean(range))}`);
        }
        if (length !== null && length > desc.size - position) {
          throw new DataLossError(`Cannot ${what}: the registry announces ${length} bytes from ${position}, more than the descriptor's ${desc.size}`);
        }
      } else if (res.status === 200) {
        skip = position;
        if (length !== null && length !== desc.size) {
          throw new DataLossError(`Cannot ${what}: the registry announces ${length} bytes, the descriptor says ${desc.size}`);
        }
      } else {
        throw await statusError(conn, ex, what, (m) => `blob ${desc.digest} of ${this.name} not found: ${m || "blob unknown"}`);
      }
      if (!res.body) throw new TransientError(`${ex.url.origin}: response without a body`);
      return { conn, reader: res.body.getReader(), origin: ex.url.origin, skip };
    } catch (err) {
      conn.close();
      throw err;
    }
  }
}

/** `tinydock login`: checks the credentials against the registry's /v2/ (with the token dance if challenged). */
export async function checkLogin(ctx: Ctx, registry: string, username: string, password: string): Promise<void> {
  const key = normalizeRegistryKey(registry);
  const name = key === "docker.io" ? DOCKER_HUB : key;
  const action = `log in to "${name}"`;
  // Mirrors serve pulls only: credentials are checked against the registry itself.
  const endpoints = resolveEndpoints(name, { registryMirrors: [], insecureRegistries: ctx.config.insecureRegistries });
  const creds: Credentials = { username, password };
  const transport = new Transport(ctx, endpoints, { action, scope: null, credentials: () => creds, login: true });
  await transport.onEndpoints(action, async (ep, deadline) => {
    const conn = new Connection(ctx, deadline);
    try {
      const ex = await transport.send(conn, ep, "/v2/", {});
      if (ex.res.status !== 200) {
        throw await statusError(conn, ex, action, (m) => `Cannot ${action}: ${ep.base}/v2/ not found, not a registry${m ? `: ${m}` : ""}`);
      }
      await discard(ex.res);
    } finally {
      conn.close();
    }
  });
}
