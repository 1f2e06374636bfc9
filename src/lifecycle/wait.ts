// `docker wait`: blocks until the container is not running — through restarts, which keep it
// "running" in Docker's sense — and returns its exit code. A created container returns at once (0).
import type { Ctx } from "../context.ts";
import { NotFoundError } from "../errors.ts";
import type { LiveContainer } from "./live.ts";
import { rereadLive } from "./live.ts";

const STALE_GRACE_MS = 1_000;

export async function waitContainer(ctx: Ctx, c: LiveContainer, opts: { pollMs?: number; signal?: AbortSignal } = {}): Promise<number> {
  const id = c.record.id;
  let delay = 5;
  let staleSince: number | undefined;
  for (;;) {
    const now = rereadLive(ctx, id);
    if (!now) throw new NotFoundError(`No such container: ${id}`);
    if (!now.state.Running) {
      // Seen dead before its supervisor wrote the end: give the supervisor a moment to record the
      // real exit code; only a supervisor that died with it leaves the 137.
      if (now.state.stale && Date.now() < (staleSince ??= Date.now()) + STALE_GRACE_MS) {
        await ctx.sleep(20);
        continue;
      }
      return now.state.ExitCode;
    }
    if (opts.signal?.aborted) throw new NotFoundError(`Cannot wait for container ${id}: interrupted`);
    await ctx.sleep(delay);
    delay = Math.min(delay * 2, opts.pollMs ?? 50);
  }
}
