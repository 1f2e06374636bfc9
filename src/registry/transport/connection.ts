// One attempt's network activity, so that a stall anywhere in it (headers, a body chunk, a token
// server) aborts all of it at once.
import type { Ctx } from "../../context.ts";
import { formatSeconds, type ProgressDeadline } from "./deadline.ts";
import { TransientError, transient } from "./transient.ts";

/**
 * One attempt's network activity under one abort signal and a stall timer: waiting for headers
 * or for the next body chunk longer than ctx.stallTimeoutMs, or past the operation's deadline,
 * aborts everything.
 */
export class Connection {
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
      const fire = () => {
        const err =
          left <= stall
            ? this.deadline.expired(`${origin}: no data`)
            : new TransientError(`${origin}: no data for ${formatSeconds(stall)}`);
        this.ac.abort(err);
        reject(err);
      };
      timer = setTimeout(fire, Math.min(stall, left));
    });
    try {
      return await Promise.race([p, stalled]);
    } finally {
      clearTimeout(timer);
    }
  }
}
