// The registry's HTTP transport: endpoints tried in order with retries, requests authenticated
// (a 401 answered once), redirects followed by hand. Shared by the client and `checkLogin`.
import type { Ctx } from "../../context.ts";
import { InternalError, UnavailableError, describeError } from "../../errors.ts";
import { AUTH_BODY_MAX, Authenticator, clean, registryErrorMessage, type AuthOptions, type TokenResponse } from "../auth.ts";
import { isInsecureRegistry, isLoopbackHost, type Endpoint } from "../endpoints.ts";
import { discard, readBody, readErrorBody } from "./body.ts";
import { Connection } from "./connection.ts";
import { newDeadline, type ProgressDeadline } from "./deadline.ts";
import { mayFallBack, retrying } from "./retry.ts";
import { TransientError } from "./transient.ts";

export const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface Exchange {
  res: Response;
  /** Where the response came from, after redirects. */
  url: URL;
}

/** A request other than a plain GET: pushes send HEAD, POST, PATCH and PUT with bodies. */
export interface RequestInit2 {
  method: string;
  /** Sent again as-is when a 401 is answered, so it must be re-readable (bytes or a file slice). */
  body?: Uint8Array | Blob;
}

function withAuth(headers: Record<string, string>, authorization: string | null): Record<string, string> {
  return authorization ? { ...headers, Authorization: authorization } : { ...headers };
}

/** Endpoints, auth and retries shared by the client and `checkLogin`. */
export class Transport {
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
        const value = await retrying(this.ctx, what, ep, deadline, () => op(ep, deadline));
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
   * One request to `ep` with auth: a known token or Basic first; after a 401 from the endpoint,
   * one answer to its challenge. The response (any other status) is the caller's to consume.
   */
  async send(conn: Connection, ep: Endpoint, path: string | URL, headers: Record<string, string>, req?: RequestInit2): Promise<Exchange> {
    const url = typeof path === "string" ? new URL(ep.base + path) : path;
    // A token server that stalls spends this operation's time too.
    // An upload Location on another origin gets no credentials, as a redirect there would not.
    if (url.origin !== new URL(ep.base).origin) return await this.exchange(conn, ep, url, { ...headers }, req);
    const sent = await conn.guard(this.auth.current(ep), url.origin);
    let ex = await this.exchange(conn, ep, url, withAuth(headers, sent), req);
    if (ex.res.status !== 401 || ex.url.origin !== url.origin) return ex;
    const message = registryErrorMessage(await readErrorBody(conn, ex.res, ex.url.origin));
    const answer = await conn.guard(this.auth.answer(ep, ex.res.headers.get("www-authenticate"), sent, message), url.origin);
    ex = await this.exchange(conn, ep, url, withAuth(headers, answer), req);
    if (ex.res.status !== 401 || ex.url.origin !== url.origin) return ex;
    const again = registryErrorMessage(await readErrorBody(conn, ex.res, ex.url.origin));
    throw this.auth.denied(ep, answer, again);
  }

  /** GET with redirects followed by hand: Authorization never leaves the origin it was meant for. */
  async exchange(conn: Connection, ep: Endpoint, start: URL, headers: Record<string, string>, req?: RequestInit2): Promise<Exchange> {
    let url = start;
    const h = { ...headers };
    for (let hop = 0; ; hop++) {
      const init: BunFetchRequestInit = { method: req?.method ?? "GET", headers: h, redirect: "manual" };
      if (req?.body !== undefined) init.body = req.body as BodyInit;
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
