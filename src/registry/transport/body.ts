// Reading response bodies from a registry that may be hostile: every body is capped, declared or
// counted, and read through the Connection so a stalled body aborts like a stalled connect.
import type { Connection } from "./connection.ts";
import { MIN_BODY_RATE } from "./deadline.ts";
import { TransientError } from "./transient.ts";

/** Error bodies are read for their message only, never more than this. */
export const ERROR_BODY_MAX = 64 * 1024;

/** Drops a body nobody will read. */
export async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // the connection is going away anyway
  }
}

/** Content-Length, when it is the length of the bytes we will read (no content encoding). */
export function declaredLength(res: Response): number | null {
  const enc = res.headers.get("content-encoding");
  if (enc && enc.toLowerCase() !== "identity") return null; // the length is of the encoded bytes
  const len = res.headers.get("content-length");
  return len && /^\d{1,15}$/.test(len.trim()) ? Number(len.trim()) : null;
}

/** The whole body, or `overflow()` as soon as it exceeds `max` (declared or counted). */
export async function readBody(conn: Connection, res: Response, origin: string, max: number, overflow: () => Error): Promise<Uint8Array> {
  const declared = declaredLength(res);
  if (declared !== null && declared > max) {
    await discard(res);
    throw overflow();
  }
  return readUpTo(conn, res, origin, max, overflow, true);
}

/** At most `max` bytes of an error body; network trouble just ends it. */
export async function readErrorBody(conn: Connection, res: Response, origin: string): Promise<Uint8Array> {
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
      if (wanted && value.length > 0) {
        conn.deadline.progress();
        if (conn.deadline.tooSlow(total + value.length)) {
          throw new TransientError(`${origin}: body slower than ${MIN_BODY_RATE} bytes/s (${total + value.length} bytes so far)`, { expired: true });
        }
      }
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
