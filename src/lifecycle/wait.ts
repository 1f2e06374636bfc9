// `docker wait`: blocks until the container is not running — through restarts, which keep it
// "running" in Docker's sense — and returns its exit code. A created container returns at once (0).
import type { Ctx } from "../context.ts";
import { isKind, NotFoundError } from "../errors.ts";
import { tryLock, type Lock } from "../store/lock.ts";
import { containerFiles, withContainerLock } from "../store/containers.ts";
import type { LiveContainer } from "./live.ts";
import { rereadLive } from "./live.ts";
import { sameProcess } from "./liveness.ts";

const STALE_GRACE_MS = 1_000;

/**
 * The exit code, once the container is not running. A shared lock on waiters.lock is held meanwhile,
 * so a removal (--rm cleanup, rm -f) lets this read the exit code before the directory goes.
 */
export async function waitContainer(ctx: Ctx, c: LiveContainer, opts: { pollMs?: number; signal?: AbortSignal } = {}): Promise<number> {
  let lock: Lock | null = null;
  try {
    lock = tryLock({ sys: ctx.sys, sleep: ctx.sleep }, containerFiles(ctx.root, c.record.id).waiters, true);
  } catch {
    throw new NotFoundError(`No such container: ${c.record.id}`);
  }
  let end: { code: number; run: LiveContainer["run"] };
  try {
    end = await pollExitCode(ctx, c, opts);
  } finally {
    lock?.release();
  }
  // Its supervisor's cleanup still to come: the network released now, as Docker's wait answers
  // after the daemon released it (outside waiters.lock, which an --rm cleanup takes under this lock).
  if (end.run?.monitorPid && sameProcess(end.run.monitorPid, end.run.monitorStartTime)) {
    const { releaseEnded } = await import("./remove.ts");
    try {
      await withContainerLock(ctx, c.record.id, () => releaseEnded(ctx, c.record.id));
    } catch (err) {
      if (!isKind(err, "NotFound")) throw err; // removed meanwhile (--rm): released with it
    }
  }
  return end.code;
}

async function pollExitCode(ctx: Ctx, c: LiveContainer, opts: { pollMs?: number; signal?: AbortSignal }): Promise<{ code: number; run: LiveContainer["run"] }> {
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
      return { code: now.state.ExitCode, run: now.run };
    }
    if (opts.signal?.aborted) throw new NotFoundError(`Cannot wait for container ${id}: interrupted`);
    await ctx.sleep(delay);
    delay = Math.min(delay * 2, opts.pollMs ?? 50);
  }
}
