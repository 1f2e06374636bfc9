// Blob downloads that survive a broken or stalled body: each reconnect asks for the bytes from
// where the last one stopped (or skips them when the server ignores Range), within the attempts
// and the no-progress deadline of the operation.
import type { Ctx } from "../../context.ts";
import { DataLossError, UnavailableError } from "../../errors.ts";
import { clean } from "../auth.ts";
import type { Endpoint } from "../endpoints.ts";
import { declaredLength } from "./body.ts";
import { Connection } from "./connection.ts";
import type { ProgressDeadline } from "./deadline.ts";
import { statusError } from "./status.ts";
import type { Transport } from "./transport.ts";
import { TransientError } from "./transient.ts";

/** One blob to read by ranges. */
export interface RangeRequest {
  /** "/v2/<repository>/blobs/<digest>" */
  path: string;
  /** The blob's size, from its descriptor: no response may go past it. */
  size: number;
  /** For messages: "download blob sha256:… of busybox". */
  what: string;
  /** The message of a 404, from the registry's own (may be ""). */
  notFound: (message: string) => string;
}

/** An open response body positioned at the byte asked for. */
export interface RangedBody {
  conn: Connection;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  origin: string;
  /** Bytes still to drop: the server answered 200 to a Range request. */
  skip: number;
}

/** A response positioned at `position`: 206 from there, or 200 with the bytes before it to skip. */
export async function openRange(transport: Transport, ep: Endpoint, req: RangeRequest, position: number, deadline: ProgressDeadline): Promise<RangedBody> {
  const { what, size } = req;
  const conn = new Connection(transport.ctx, deadline);
  try {
    // Identity encoding: byte offsets and lengths must be those of the blob itself.
    const headers: Record<string, string> = { "Accept-Encoding": "identity" };
    if (position > 0) headers.Range = `bytes=${position}-`;
    const ex = await transport.send(conn, ep, req.path, headers);
    const { res } = ex;
    const length = declaredLength(res);
    let skip = 0;
    if (res.status === 206) {
      const range = res.headers.get("content-range");
      const m = range ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range.trim()) : null;
      if (range && (!m || Number(m[1]) !== position)) {
        throw new DataLossError(`Cannot ${what}: asked for bytes from ${position}, got range ${JSON.stringify(clean(range))}`);
      }
      if (length !== null && length > size - position) {
        throw new DataLossError(`Cannot ${what}: the registry announces ${length} bytes from ${position}, more than the descriptor's ${size}`);
      }
    } else if (res.status === 200) {
      skip = position;
      if (length !== null && length !== size) {
        throw new DataLossError(`Cannot ${what}: the registry announces ${length} bytes, the descriptor says ${size}`);
      }
    } else {
      throw await statusError(conn, ex, what, req.notFound);
    }
    if (!res.body) throw new TransientError(`${ex.url.origin}: response without a body`);
    return { conn, reader: res.body.getReader(), origin: ex.url.origin, skip };
  } catch (err) {
    conn.close();
    throw err;
  }
}

/**
 * The blob from `offset` to its end as one stream, starting with `first` (opened at `offset`);
 * when a body breaks or stalls, `reopen` is called for the byte reached, with backoff, up to
 * ctx.retry.attempts times in a row and within the deadline `first` was opened under.
 */
export function resumableStream(
  ctx: Ctx,
  req: RangeRequest,
  first: RangedBody,
  offset: number,
  reopen: (position: number) => Promise<RangedBody>,
): ReadableStream<Uint8Array> {
  const { what, size } = req;
  let body = first;
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
              broken = new TransientError(`${body.origin}: connection closed after ${position} of ${size} bytes`);
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
              if (position + chunk.length > size) {
                finish();
                controller.error(new DataLossError(`Cannot ${what}: the registry sent more than the ${size} bytes of the descriptor`));
                return;
              }
              position += chunk.length;
              failures = 0;
              controller.enqueue(chunk);
              if (position === size) {
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
              const why = broken.expired ? `at byte ${position} of ${size}` : `after ${ctx.retry.attempts} reconnects`;
              controller.error(new UnavailableError(`Cannot ${what}: ${broken.message} (${why})`, { cause: broken }));
              return;
            }
            ctx.log.debug(`${what}: ${broken.message}; resuming at byte ${position}`);
            await ctx.sleep(delay);
            if (done) return;
            try {
              body = await reopen(position);
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
