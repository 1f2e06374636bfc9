// Answers a registry's 401: Basic credentials, or the bearer token dance (distribution's token
// spec), with tokens cached per (endpoint, scope) until they expire. The HTTP exchange with the
// token server is injected, so this file decides what to send and to whom, not how.
import type { Logger } from "../context.ts";
import { UnauthenticatedError, UnavailableError } from "../errors.ts";
import { findChallenge, parseChallenges, type Challenge } from "./challenge.ts";
import type { Credentials } from "./credentials.ts";
import { isInsecureRegistry, isLoopbackHost, type Endpoint } from "./endpoints.ts";

/** Token responses and error bodies are small; a hostile server cannot make us buffer more. */
export const AUTH_BODY_MAX = 64 * 1024;
/** distribution's token spec: a token without expires_in lasts 60 seconds. */
const DEFAULT_TOKEN_SECONDS = 60;
const MESSAGE_MAX = 300;

export interface TokenResponse {
  status: number;
  statusText: string;
  /** At most AUTH_BODY_MAX bytes. */
  body: Uint8Array;
}

/** GET `url` with `headers`; network errors, 5xx and 429 are the requester's to retry or throw. */
export type TokenRequester = (ep: Endpoint, url: string, headers: Record<string, string>) => Promise<TokenResponse>;

export interface AuthOptions {
  /** For messages: `pull "127.0.0.1:5000/app"`, `log in to "127.0.0.1:5000"`. */
  action: string;
  /**
   * "repository:library/busybox:pull", or null for a bare /v2/ check (login). Several scopes are
   * separated by spaces (a push asks for its own and the mount source's), each sent as its own
   * `scope=` as Docker does.
   */
  scope: string | null;
  credentials: (ep: Endpoint) => Credentials | null;
  /**
   * `tinydock login`: send `account=` to the token server as docker login does, and fail rather
   * than fall back to an anonymous token when the credentials may not be sent.
   */
  login?: boolean;
  insecureRegistries: readonly string[];
  clock: () => number;
  log: Logger;
  request: TokenRequester;
}

interface Token {
  value: string;
  expiresAt: number;
}

type Known = { scheme: "basic" } | { scheme: "bearer"; challenge: Challenge };

export class Authenticator {
  private readonly opts: AuthOptions;
  /** What each endpoint asked for last, so later requests send it without a 401 first. */
  private readonly known = new Map<string, Known>();
  private readonly tokens = new Map<string, Promise<Token>>();

  constructor(opts: AuthOptions) {
    this.opts = opts;
  }

  /** The Authorization value for a first try at `ep`, or null when it never challenged us. */
  async current(ep: Endpoint): Promise<string | null> {
    const known = this.known.get(ep.base);
    if (!known) return null;
    if (known.scheme === "basic") {
      const creds = this.opts.credentials(ep);
      return creds ? basic(creds) : null;
    }
    return `Bearer ${await this.token(ep, known.challenge, false)}`;
  }

  /**
   * After a 401 from `ep` itself: the Authorization value to retry with. Throws
   * UnauthenticatedError when nothing better than `sent` can be offered.
   */
  async answer(ep: Endpoint, wwwAuthenticate: string | null, sent: string | null, registryMessage: string): Promise<string> {
    let challenges: Challenge[];
    try {
      challenges = parseChallenges(wwwAuthenticate ?? "");
    } catch (err) {
      throw new UnavailableError(`Cannot ${this.opts.action}: ${ep.base} answered 401 with an unusable challenge`, { cause: err });
    }
    const bearer = findChallenge(challenges, "bearer");
    if (bearer) {
      this.known.set(ep.base, { scheme: "bearer", challenge: bearer });
      // A refused token gets one fresh replacement; the client asks only once per request.
      const header = `Bearer ${await this.token(ep, bearer, sent?.startsWith("Bearer ") === true)}`;
      if (header === sent) throw this.denied(ep, sent, registryMessage);
      return header;
    }
    if (findChallenge(challenges, "basic")) {
      this.known.set(ep.base, { scheme: "basic" });
      const creds = this.opts.credentials(ep);
      if (!creds) throw this.denied(ep, sent, registryMessage);
      const header = basic(creds);
      if (header === sent) throw this.denied(ep, sent, registryMessage);
      return header;
    }
    const schemes = challenges.map((c) => c.scheme).join(", ");
    throw new UnauthenticatedError(`Cannot ${this.opts.action}: unsupported authentication scheme (${clean(schemes)})`);
  }

  /** The error for a registry that still says 401 after our best answer (`sent`). */
  denied(ep: Endpoint, sent: string | null, registryMessage: string): UnauthenticatedError {
    const detail = registryMessage ? `: ${registryMessage}` : "";
    if (!this.opts.credentials(ep)) {
      return new UnauthenticatedError(
        `Cannot ${this.opts.action}: access denied, the repository does not exist or needs 'tinydock login'${detail}`,
      );
    }
    if (sent?.startsWith("Basic ")) {
      return new UnauthenticatedError(`Cannot ${this.opts.action}: unauthorized: incorrect username or password`);
    }
    return new UnauthenticatedError(`Cannot ${this.opts.action}: ${registryMessage || "unauthorized: access denied"}`);
  }

  private async token(ep: Endpoint, challenge: Challenge, force: boolean): Promise<string> {
    const key = `${ep.base} ${this.opts.scope ?? ""}`;
    const cached = this.tokens.get(key);
    if (cached && !force) {
      try {
        const t = await cached;
        if (this.opts.clock() < t.expiresAt) return t.value;
      } catch {
        // a failed fetch is not cached: fall through to a new one
      }
      if (this.tokens.get(key) !== cached) return this.token(ep, challenge, false);
    }
    const pending = this.fetchToken(ep, challenge);
    this.tokens.set(key, pending);
    pending.catch(() => {
      if (this.tokens.get(key) === pending) this.tokens.delete(key);
    });
    return (await pending).value;
  }

  private async fetchToken(ep: Endpoint, challenge: Challenge): Promise<Token> {
    const { action } = this.opts;
    const realmText = challenge.params.realm;
    let realm: URL | null = null;
    try {
      realm = realmText ? new URL(realmText) : null;
    } catch {
      realm = null;
    }
    if (!realm || (realm.protocol !== "https:" && realm.protocol !== "http:")) {
      throw new UnavailableError(`Cannot ${action}: ${ep.base} sent a bearer challenge without a usable realm`);
    }
    const url = new URL(realm.href);
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    for (const scope of this.opts.scope?.split(" ") ?? []) if (scope) url.searchParams.append("scope", scope);
    const headers: Record<string, string> = {};
    let creds = this.opts.credentials(ep);
    if (creds && !this.mayReceiveCredentials(realm, ep)) {
      if (this.opts.login) {
        throw new UnauthenticatedError(`Cannot ${action}: refusing to send credentials to token server ${realm.origin} over plain HTTP`);
      }
      this.opts.log.warn(`not sending credentials for ${ep.base} to token server ${realm.origin} over plain HTTP`);
      creds = null;
    }
    if (creds) {
      headers.Authorization = basic(creds);
      if (this.opts.login) url.searchParams.set("account", creds.username);
    }
    const started = this.opts.clock();
    const res = await this.opts.request(ep, url.href, headers);
    const message = registryErrorMessage(res.body);
    if (res.status === 401 || res.status === 403) {
      if (!creds) {
        throw new UnauthenticatedError(`Cannot ${action}: unauthorized: ${message || "authentication required"}`);
      }
      throw new UnauthenticatedError(`Cannot ${action}: unauthorized: ${message || "incorrect username or password"}`);
    }
    if (res.status !== 200) {
      throw new UnavailableError(
        `Cannot ${action}: token server ${realm.origin} answered ${res.status} ${clean(res.statusText)}${message ? `: ${message}` : ""}`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(res.body));
    } catch {
      parsed = null;
    }
    const o = (parsed && typeof parsed === "object" ? parsed : {}) as Record<string, unknown>;
    const value = typeof o.token === "string" && o.token ? o.token : o.access_token;
    if (typeof value !== "string" || !/^[\x21-\x7e]+$/.test(value)) {
      throw new UnavailableError(`Cannot ${action}: token server ${realm.origin} sent no usable token`);
    }
    const seconds =
      typeof o.expires_in === "number" && Number.isFinite(o.expires_in) && o.expires_in > 0 ? o.expires_in : DEFAULT_TOKEN_SECONDS;
    return { value, expiresAt: started + seconds * 1000 };
  }

  /** Credentials go to a realm over TLS, to the registry's own origin, or to a host trusted in clear. */
  private mayReceiveCredentials(realm: URL, ep: Endpoint): boolean {
    if (realm.protocol === "https:") return true;
    if (realm.origin === new URL(ep.base).origin) return true;
    return isLoopbackHost(realm.hostname) || isInsecureRegistry(realm.host, this.opts.insecureRegistries);
  }
}

export function basic(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, "utf8").toString("base64")}`;
}

/**
 * One line from a registry's error body: distribution's {"errors":[{code,message}]}, a token
 * server's {"details"} / {"error"}, or the first line of plain text. Hostile text is cleaned.
 */
export function registryErrorMessage(body: Uint8Array): string {
  const text = new TextDecoder().decode(body.subarray(0, AUTH_BODY_MAX));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed === "object") {
    const o = parsed as Record<string, unknown>;
    if (Array.isArray(o.errors) && o.errors.length > 0) {
      const e = (o.errors[0] ?? {}) as Record<string, unknown>;
      const code = typeof e.code === "string" ? e.code.toLowerCase().replace(/_/g, " ") : "";
      const message = typeof e.message === "string" ? e.message : "";
      if (code && message && message.toLowerCase() !== code) return clean(`${code}: ${message}`);
      return clean(message || code);
    }
    for (const key of ["details", "error_description", "error", "message"]) {
      if (typeof o[key] === "string" && o[key]) return clean(o[key] as string);
    }
    return "";
  }
  if (text.startsWith("<")) return ""; // an HTML error page says nothing useful in one line
  return clean(text.split("\n", 1)[0] ?? "");
}

/** No control characters (terminal escapes), one line, bounded. */
export function clean(text: string): string {
  const one = text.replace(/[\x00-\x1f\x7f-\x9f]+/g, " ").replace(/\s+/g, " ").trim();
  return one.length > MESSAGE_MAX ? `${one.slice(0, MESSAGE_MAX)}…` : one;
}
