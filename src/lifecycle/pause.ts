// pause and unpause: the cgroup freezer (v1 freezer.state, v2 cgroup.freeze). The paused state is
// the freezer's own, so it survives every tinydock process and reads the same for all of them.
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, UnavailableError } from "../errors.ts";
import { freezerSettled, writeFreezer } from "../runtime/cgroups/kill.ts";
import { cgroupLocator, type FreezerFile } from "./cgroupdirs.ts";
import { withContainerLock } from "../store/containers.ts";
import { readLive, type LiveContainer } from "./live.ts";
import { checkTransition } from "./state.ts";
import { actorOf, appendEvent } from "./events.ts";

export function freezeCgroup(f: FreezerFile): void {
  writeFreezer(f, true);
  if (!freezerSettled(f, true, 5_000)) {
    writeFreezer(f, false);
    throw new UnavailableError(`Cannot pause container: the freezer of ${f.dir} did not settle`);
  }
}

export function thawCgroup(f: FreezerFile): void {
  writeFreezer(f, false);
  freezerSettled(f, false, 5_000);
}

async function setPaused(ctx: Ctx, c0: LiveContainer, pause: boolean): Promise<void> {
  const id = c0.record.id;
  await withContainerLock(ctx, id, () => {
    const c = readLive(ctx, c0.record);
    checkTransition(c.state.Status, pause ? "pause" : "unpause", id);
    const f = cgroupLocator(ctx.cgroupRoot).freezer(id, c.record.cgroupPath);
    if (!f) throw new FailedPreconditionError(`Cannot ${pause ? "pause" : "unpause"} container ${id}: no freezer cgroup (freezer.state or cgroup.freeze) for it`);
    if (pause) freezeCgroup(f);
    else thawCgroup(f);
    appendEvent(ctx.root, pause ? "pause" : "unpause", actorOf(c.record));
  });
}

export const pauseContainer = (ctx: Ctx, c: LiveContainer) => setPaused(ctx, c, true);
export const unpauseContainer = (ctx: Ctx, c: LiveContainer) => setPaused(ctx, c, false);
