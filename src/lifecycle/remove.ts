// rm, and the teardown it shares with the supervisor's cleanup and with reconcile: network (hook),
// mounts under the container dir, the cgroup in every hierarchy, then the directory itself. Every
// step is idempotent, so an rm killed half-way leaves a "dead" container that `rm -f` finishes.
import fs from "node:fs";
import { actorOf, appendEvent } from "./events.ts";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { errnoCode } from "../errors.ts";
import { mountsUnder } from "../rootfs/mount.ts";
import { CGROUP_PARENT } from "../runtime/cgroups/index.ts";
import { pidsBelow, removeCgroupDir, removeIfEmpty } from "../runtime/cgroups/cgroupfs.ts";
import { killCgroup } from "../runtime/cgroups/kill.ts";
import { collectGarbage } from "../store/gc.ts";
import { isRetired } from "../store/images.ts";
import { storeLayout } from "../store/layout.ts";
import { acquireLock } from "../store/lock.ts";
import { MNT_DETACH } from "../sys/sys.ts";
import { cgroupLocator, isFrozen } from "./cgroupdirs.ts";
import { containerFiles, containerPaths, listContainers, lockContainer, readContainer, type ContainerRecord } from "../store/containers.ts";
import { volumeUsers } from "../store/volumes.ts";
import { readLive, rereadLive, type LiveContainer } from "./live.ts";
import { signalProcess } from "./liveness.ts";
import { teardownNetwork } from "./network-teardown.ts";
import { thawCgroup } from "./pause.ts";
import { markStopping, signalContainer, waitNotRunning } from "./stop.ts";
import { checkTransition } from "./state.ts";
import { trashContainerDir } from "./trash.ts";
import { volumeDir } from "./volumes.ts";

/** How long rm -f gives the supervisor to record the end after SIGKILL before killing it too (ms). */
const SUPERVISOR_GRACE_MS = 5_000;

export interface RemoveOptions {
  force?: boolean;
  /** -v: anonymous volumes go too. */
  volumes?: boolean;
  /** false: skip the network hook (see ReconcileOptions.network). */
  network?: boolean;
}

export { TRASH_PREFIX } from "./trash.ts";

/** How long a removal lets `wait`s read the exit code (they poll every 50 ms). */
const WAITERS_GRACE_MS = 2_000;

/** Lets every `wait` on the container read its exit code before the directory goes. */
export async function drainWaiters(ctx: Ctx, id: string): Promise<void> {
  try {
    const l = await acquireLock({ sys: ctx.sys, sleep: ctx.sleep }, containerFiles(ctx.root, id).waiters, { timeoutMs: WAITERS_GRACE_MS });
    l.release();
  } catch {
    // A wait that does not let go in time (stopped by SIGSTOP…) does not hold up the removal.
  }
}

/**
 * The directory leaves the listing in one rename, then is deleted: a crash mid-delete leaves a
 * .trash-* directory (reconcile removes it), never a half-deleted container.
 */
export function discardContainerDir(root: string, id: string): void {
  const trash = trashContainerDir(root, id);
  if (trash) fs.rmSync(trash, { recursive: true, force: true });
}


/** Unmounts whatever is mounted under the container's directory (deepest first). */
export function unmountContainer(ctx: Ctx, id: string): string[] {
  const dir = containerPaths(ctx.root, id).dir;
  const found = mountsUnder(dir).sort((a, b) => b.length - a.length);
  for (const m of found) {
    try {
      ctx.sys.umount(m, MNT_DETACH);
    } catch (err) {
      // Gone meanwhile (EINVAL: no longer a mount point; ENOENT: no longer there).
      const code = errnoCode(err);
      if (code !== "EINVAL" && code !== "ENOENT") throw err;
    }
  }
  return found;
}

/** Kills what is left in the container's cgroups and removes them; returns the dirs removed. */
export function destroyContainerCgroups(ctx: Ctx, id: string, recorded?: string[]): string[] {
  const locator = cgroupLocator(ctx.cgroupRoot);
  const dirs = locator.allDirs(id, recorded).filter((d) => fs.existsSync(d));
  if (dirs.length === 0) return [];
  const all = () => [...new Set(dirs.flatMap((d) => pidsBelow(d)))];
  const freezer = locator.freezer(id, recorded);
  // A paused container's too: killCgroup thaws after the signals (a frozen v1 task takes SIGKILL only then).
  const killFiles = locator.version === 2 ? dirs.map((d) => path.join(d, "cgroup.kill")) : [];
  if (all().length > 0) killCgroup({ pids: all, ...(freezer ? { freezer } : {}), killFiles }, ctx.sys);
  let failure: unknown;
  // The freezer's directory last: as v1.ts does.
  for (const d of [...dirs.filter((d) => d !== freezer?.dir), ...dirs.filter((d) => d === freezer?.dir)]) {
    try {
      removeCgroupDir(d);
    } catch (err) {
      failure ??= err;
    }
  }
  for (const d of dirs) if (path.basename(path.dirname(d)) === CGROUP_PARENT) removeIfEmpty(path.dirname(d));
  if (failure) throw failure;
  return dirs;
}

/**
 * Anonymous volumes recorded in state.json mounts ({Type: "volume", Name, Anonymous?}; records
 * without Anonymous judged by the name), but not one another container still names (--volumes-from:
 * Docker keeps a volume in use).
 */
function removeAnonymousVolumes(ctx: Ctx, rec: ContainerRecord): void {
  let users: Map<string, string[]> | undefined;
  for (const m of rec.mounts ?? []) {
    const name = typeof m.Name === "string" ? m.Name : undefined;
    const anonymous = m.Anonymous === true || (m.Anonymous === undefined && name !== undefined && /^[a-f0-9]{64}$/.test(name));
    if (m.Type !== "volume" || !name || !anonymous) continue;
    users ??= volumeUsers(listContainers(ctx.root).filter((c) => c.id !== rec.id));
    if (!users.has(name)) fs.rmSync(path.dirname(volumeDir(ctx.root, name)), { recursive: true, force: true });
  }
}

/**
 * Everything a container holds outside its directory, released: network (hook), mounts, cgroups.
 * For the supervisor's `container cleanup`, reconcile, and rm. Idempotent.
 */
export async function teardownContainer(ctx: Ctx, rec: ContainerRecord, opts: { network?: boolean } = {}): Promise<void> {
  if (opts.network ?? true) await teardownNetwork(ctx, rec);
  unmountContainer(ctx, rec.id);
  destroyContainerCgroups(ctx, rec.id, rec.cgroupPath);
}

/**
 * What an ended container holds, released now rather than by its supervisor's cleanup (a process
 * yet to start, which follows and finds it done): Docker's daemon has released the network before
 * stop or wait answers, so a `run` or `start` right after never meets the old veth or address.
 * Under the container's lock; a container running again (or gone) is left alone.
 */
export async function releaseEnded(ctx: Ctx, id: string): Promise<void> {
  const rec = readContainer(ctx.root, id);
  if (!rec || readLive(ctx, rec).state.Running) return;
  await teardownContainer(ctx, rec);
}

/** rm -f: stops the container for good and waits for its supervisor to record the end. */
async function forceStop(ctx: Ctx, c: LiveContainer): Promise<void> {
  const id = c.record.id;
  markStopping(ctx.root, id);
  signalContainer(ctx, c, 9);
  const f = cgroupLocator(ctx.cgroupRoot).freezer(id, c.record.cgroupPath);
  if (isFrozen(f)) thawCgroup(f!);
  if (await waitNotRunning(ctx, id, SUPERVISOR_GRACE_MS)) return;
  // A supervisor that does not record the end in time goes too; the container dies with it (PDEATHSIG).
  const now = rereadLive(ctx, id);
  if (now?.run?.monitorPid) signalProcess(ctx.sys, now.run.monitorPid, now.run.monitorStartTime, 9);
  await waitNotRunning(ctx, id, SUPERVISOR_GRACE_MS);
}

/** `docker rm [-f] [-v]`, under the container's lock. */
export async function removeContainer(ctx: Ctx, c0: LiveContainer, opts: RemoveOptions = {}): Promise<void> {
  const id = c0.record.id;
  const lock = await lockContainer(ctx, id);
  try {
    const rec = readContainer(ctx.root, id) ?? c0.record;
    const c = readLive(ctx, rec);
    // We hold the lock: a `removing` marker is an interrupted removal, i.e. dead.
    const status = c.state.Status === "removing" ? "dead" : c.state.Status;
    checkTransition(status, opts.force ? "forceRemove" : "remove", id);
    if (c.state.Running) await forceStop(ctx, c);
    const files = containerFiles(ctx.root, id);
    fs.writeFileSync(files.removing, "", { mode: 0o600 });
    await teardownContainer(ctx, rec, { network: opts.network ?? true });
    if (opts.volumes) removeAnonymousVolumes(ctx, rec);
    await drainWaiters(ctx, id);
    discardContainerDir(ctx.root, id);
    appendEvent(ctx.root, "destroy", actorOf(rec));
  } finally {
    lock.release();
  }
  // The last container of an image `rmi -f` deleted frees its layers now, as Docker's layer store does.
  const layout = storeLayout(ctx.root);
  if (isRetired(layout, c0.record.imageId)) collectGarbage(ctx, layout);
}

/**
 * The supervisor's last act (hidden `container cleanup <id>`): release what the ended container
 * held and remove it when it was run with --rm. A container that runs again (restart) or is
 * already gone is left alone.
 */
export async function cleanupContainer(ctx: Ctx, id: string): Promise<void> {
  let lock;
  try {
    lock = await lockContainer(ctx, id);
  } catch (err) {
    if (errnoCode(err) === undefined && (err as { kind?: string }).kind === "NotFound") return;
    throw err;
  }
  try {
    const rec = readContainer(ctx.root, id);
    if (!rec) return;
    const c = readLive(ctx, rec);
    if (c.state.Running) return;
    await teardownContainer(ctx, rec);
    if (rec.autoRemove) {
      // Docker's --rm takes the container's anonymous volumes with it.
      removeAnonymousVolumes(ctx, rec);
      fs.writeFileSync(containerFiles(ctx.root, id).removing, "", { mode: 0o600 });
      await drainWaiters(ctx, id);
      discardContainerDir(ctx.root, id);
      appendEvent(ctx.root, "destroy", actorOf(rec));
    }
  } finally {
    lock.release();
  }
}
