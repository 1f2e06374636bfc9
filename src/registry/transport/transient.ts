// The one error the transport retries: what another try may fix (network errors, stalls, 5xx, 429),
// told apart from what it may not (TLS failures, an expired deadline, every TinydockError).
import { TinydockError, describeError, errnoCode } from "../../errors.ts";

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

/** A failure another try may fix: network errors, stalls, 5xx, 429. Never leaves the registry stage. */
export class TransientError extends Error {
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

/** A network failure at `where` as a TransientError; typed errors pass through unchanged. */
export function transient(err: unknown, where: string): Error {
  if (err instanceof TransientError || err instanceof TinydockError) return err;
  const code = errnoCode(err) ?? (err instanceof Error ? err.name : "");
  const text = NETWORK_MESSAGES[code] ?? describeError(err);
  return new TransientError(`${where}: ${text}`, { cause: err, retry: !NO_RETRY_CODES.has(code) });
}
