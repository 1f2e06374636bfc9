// When to try again: at the same endpoint with backoff, within the operation's deadline, and once
// those tries are spent, whether the next endpoint may say something better.
import type { Ctx } from "../../context.ts";
import { DataLossError, TinydockError, UnavailableError } from "../../errors.ts";
import type { Endpoint } from "../endpoints.ts";
import type { ProgressDeadline } from "./deadline.ts";
import { TransientError } from "./transient.ts";

/**
 * Errors after which another endpoint may be tried, once retries are spent: a connection failure
 * anywhere, or an answered 5xx/429 at a mirror. (The HTTPS/HTTP pair of one registry is one server:
 * once it answers, the other scheme has nothing better to say.)
 */
const FALLBACK = new WeakMap<object, "connection" | "answered">();

/**
 * `op` again after each TransientError, with exponential backoff, up to ctx.retry.attempts tries,
 * and never past `deadline` (then no other endpoint is tried either: the time is spent).
 */
export async function retrying<T>(ctx: Ctx, what: string, ep: Endpoint, deadline: ProgressDeadline, op: () => Promise<T>): Promise<T> {
  const { attempts, baseDelayMs } = ctx.retry;
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
      ctx.log.debug(`${what}: ${err.message} at ${ep.base}; retrying (${n + 1} of ${attempts - 1})`);
      await ctx.sleep(delay);
    }
  }
}

/** Whether `err`, thrown at `ep`, lets the next endpoint be tried; never after DataLoss. */
export function mayFallBack(err: unknown, ep: Endpoint): boolean {
  if (err instanceof DataLossError) return false;
  const failure = err instanceof Error ? FALLBACK.get(err) : undefined;
  if (failure === "connection") return true;
  if (!ep.mirror || !(err instanceof TinydockError)) return false;
  if (failure === "answered") return true;
  return err.kind === "NotFound" || err.kind === "Unauthenticated" || err.kind === "Permission";
}
