// stop and kill: signal the container's PID 1 (never a recycled pid), after writing the
// `stopping` marker so the supervisor's restart policy leaves it down; stop then waits for the
// supervisor to record the end, escalating to SIGKILL after the timeout.
import fs from "node:fs";
import { actorOf, appendEvent } from "./events.ts";
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, UnavailableError } from "../errors.ts";
import { cgroupLocator, isFrozen } from "./cgroupdirs.ts";
import { containerFiles, withContainerLock } from "../store/containers.ts";
import { readLive, rereadLive, type LiveContainer } from "./live.ts";
import { sameProcess, signalProcess } from "./liveness.ts";
import { thawCgroup } from "./pause.ts";
import { parseSignal } from "./signals.ts";
import { checkTransition } from "./state.ts";

export const DEFAULT_STOP_TIMEOUT_S = 10;
const SIGKILL = 9;

/** After a failed SIGKILL a supervisor must record the end within this (ms). */
const KILL_GRACE_MS = 10_000;

/** The `stopping` marker: the supervisor never restarts a container after it. */
export function markStopping(root: string, id: string): void {
  fs.writeFileSync(containerFiles(root, id).stopping, `${new Date().toISOString()}\n`, { mode: 0o600 });
}

/** Signals the container's PID 1 through a pidfd checked against its start time; false when it is already gone. */
export function signalContainer(ctx: Ctx, c: LiveContainer, signal: number): boolean {
  return signalProcess(ctx.sys, c.state.Pid, c.state.pidStartTime, signal);
}

/** The image's StopSignal (state.json config), else SIGTERM. */
export function stopSignalOf(c: LiveContainer): number {
  const s = c.record.config?.StopSignal;
  if (typeof s === "string" && s !== "") {
    try {
      return parseSignal(s);
    } catch {}
  }
  return 15;
}

/** --stop-timeout (Config.StopTimeout), else Docker's 10 s. */
export function stopTimeoutOf(c: LiveContainer): number {
  const t = c.record.config?.StopTimeout;
  return typeof t === "number" && Number.isInteger(t) ? t : DEFAULT_STOP_TIMEOUT_S;
}

/** A paused container cannot act on a signal until thawed (Docker thaws after signalling too). */
function thawIfPaused(ctx: Ctx, c: LiveContainer): void {
  const f = cgroupLocator(ctx.cgroupRoot).freezer(c.record.id, c.record.cgroupPath);
  if (isFrozen(f)) thawCgroup(f!);
}

/** Polls until the container is no longer running (exited, gone); true when it did within ms. */
export async function waitNotRunning(ctx: Ctx, id: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let delay = 10;
  for (;;) {
    const c = rereadLive(ctx, id);
    if (!c || !c.state.Running) return true;
    if (Date.now() >= deadline) return false;
    await ctx.sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}

export interface StopOptions {
  /** Seconds before SIGKILL; -1 waits forever (Docker's -t -1). */
  timeoutS?: number;
  signal?: string;
}

/** `docker stop`: returns once the supervisor has recorded the end. A stopped container is a no-op. */
export async function stopContainer(ctx: Ctx, c0: LiveContainer, opts: StopOptions = {}): Promise<void> {
  const id = c0.record.id;
  await withContainerLock(ctx, id, async () => {
    const c = readLive(ctx, c0.record);
    if (!checkTransition(c.state.Status, "stop", id)) return;
    const signal = opts.signal !== undefined ? parseSignal(opts.signal) : stopSignalOf(c);
    const timeoutS = opts.timeoutS ?? stopTimeoutOf(c);
    markStopping(ctx.root, id);
    appendEvent(ctx.root, "kill", actorOf(c.record), { signal: String(signal) });
    signalContainer(ctx, c, signal);
    thawIfPaused(ctx, c);
    const stopped = async () => {
      await (await import("./remove.ts")).releaseEnded(ctx, id);
      appendEvent(ctx.root, "stop", actorOf(c.record));
    };
    if (timeoutS >= 0 ? await waitNotRunning(ctx, id, timeoutS * 1000) : await waitNotRunning(ctx, id, Number.MAX_SAFE_INTEGER)) return stopped();
    const now = rereadLive(ctx, id);
    // No process left to kill but a supervisor that has not recorded the end: it goes (its own
    // pidfd, checked against its start time), as rm -f's does; a container it restarted meanwhile
    // dies with it (PDEATHSIG).
    if (now && !signalContainer(ctx, now, SIGKILL) && now.run?.monitorPid) signalProcess(ctx.sys, now.run.monitorPid, now.run.monitorStartTime, SIGKILL);
    if (await waitNotRunning(ctx, id, KILL_GRACE_MS)) return stopped();
    throw new UnavailableError(`Cannot stop container ${id}: the container did not exit after SIGKILL`);
  });
}

/** `docker kill`: one signal (default SIGKILL), no waiting; refused when not running. */
export async function killContainer(ctx: Ctx, c0: LiveContainer, signalText = "KILL"): Promise<void> {
  const signal = parseSignal(signalText);
  const id = c0.record.id;
  const c = readLive(ctx, c0.record);
  if (!c.state.Running) throw new FailedPreconditionError(`Cannot kill container: ${id}: Container ${id} is not running`);
  checkTransition(c.state.Status, "kill", id);
  markStopping(ctx.root, id);
  // Logged before the signal, as stop does: the monitor logs "die" as soon as the signal lands, and
  // Docker's order is kill, then die.
  appendEvent(ctx.root, "kill", actorOf(c.record), { signal: String(signal) });
  if (!signalContainer(ctx, c, signal)) {
    throw new FailedPreconditionError(`Cannot kill container: ${id}: Container ${id} is not running`);
  }
  if (signal === SIGKILL) thawIfPaused(ctx, c);
}

/** The supervisor named in run.json still lives (rm -f waits for it to record the end). */
export function supervisorAlive(c: LiveContainer): boolean {
  return c.run?.monitorPid ? sameProcess(c.run.monitorPid, c.run.monitorStartTime) : false;
}
