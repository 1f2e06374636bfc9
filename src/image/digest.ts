// Digests are checked against this grammar before they are ever used in a path or a URL. Pure.
import { ParseError } from "../errors.ts";

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(text: unknown): text is string {
  return typeof text === "string" && DIGEST_RE.test(text);
}

/** Validates and returns the hex part of a sha256 digest. */
export function digestHex(digest: string): string {
  if (!isDigest(digest)) throw new ParseError(`Cannot parse digest "${digest}": want sha256: and 64 hex digits`);
  return digest.slice("sha256:".length);
}

export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;
}

/** Docker's 12-character short id. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}
