// The no-progress budget of one registry operation, shared by everything that operation tries.
import type { Ctx } from "../../context.ts";
import { TransientError } from "./transient.ts";

/**
 * How long one operation (a manifest, a blob's connect, one read of a blob stream) may go without
 * receiving a byte, shared by all its retries, reconnects, backoff sleeps and endpoints: a retry
 * that brings data earns more time, one that does not spends what is left. Each wait for headers
 * or for the next chunk is bounded by the smaller of ctx.stallTimeoutMs and what is left, so a
 * registry that stalls, however often it is retried, ends the operation after `budgetMs`.
 */
export class ProgressDeadline {
  private last: number;
  /** When the operation began: a small body read whole is also held to a floor on its average rate. */
  private readonly started: number;
  constructor(
    private readonly clock: () => number,
    readonly budgetMs: number,
  ) {
    this.last = clock();
    this.started = this.last;
  }

  /**
   * Whether `bytes` received so far came too slowly: a registry dripping a manifest or a token a
   * byte at a time makes progress forever. The budget, plus a second per MIN_BODY_RATE bytes.
   */
  tooSlow(bytes: number): boolean {
    return this.clock() - this.started > this.budgetMs + (bytes / MIN_BODY_RATE) * 1000;
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

/** Bytes per second below which a body read whole (manifest, token) is given up: 1 KiB/s. */
export const MIN_BODY_RATE = 1024;

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The per-operation budget from the engine config (Docker daemon.json style, in seconds). */
export function newDeadline(ctx: Ctx): ProgressDeadline {
  return new ProgressDeadline(ctx.clock, ctx.config.downloadStallTimeoutMs);
}
