// `docker restart`: stop (a no-op when not running) then start, under Docker's rules. A container
// run with --rm stays through its restart: its record says "keep" while the old run's cleanup may
// happen, and "remove" again once the new run is up.
import type { Ctx } from "../context.ts";
import { readContainer, saveContainer, withContainerLock } from "../store/containers.ts";
import type { LiveContainer } from "./live.ts";
import { cleanupContainer } from "./remove.ts";
import { actorOf, appendEvent } from "./events.ts";
import { startContainer } from "./start.ts";
import { stopContainer, type StopOptions } from "./stop.ts";

async function setAutoRemove(ctx: Ctx, id: string, value: boolean): Promise<void> {
  await withContainerLock(ctx, id, () => {
    const rec = readContainer(ctx.root, id);
    if (!rec) return;
    rec.autoRemove = value;
    saveContainer(ctx.root, rec);
  });
}

export async function restartContainer(ctx: Ctx, c: LiveContainer, opts: StopOptions = {}): Promise<void> {
  const id = c.record.id;
  const autoRemove = c.record.autoRemove === true;
  if (autoRemove) await setAutoRemove(ctx, id, false);
  try {
    await stopContainer(ctx, c, opts);
    await startContainer(ctx, id);
    appendEvent(ctx.root, "restart", actorOf(c.record));
  } finally {
    if (autoRemove) {
      await setAutoRemove(ctx, id, true);
      // Not running now (it did not come back, or its new run already ended while the record said
      // "keep"): it goes, as its --rm asks. cleanupContainer leaves a running one alone.
      await cleanupContainer(ctx, id);
    }
  }
}
