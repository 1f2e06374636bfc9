// Crash consistency: whatever a SIGKILL left behind is found by its tinydock name and released.
// A container directory whose supervisor is gone keeps its record (ps -a shows it exited, as
// Docker would) but loses its cgroups, mounts and network; directories with no readable record,
// interrupted removals (.trash-*, "removing" without a lock holder), empty cgroups tinydock/<id> and
// mounts under containers/<id> that belong to no container are removed outright.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { mountsUnder } from "../rootfs/mount.ts";
import { childCgroups, pidsBelow } from "../runtime/cgroups/cgroupfs.ts";
import { tryLock } from "../store/lock.ts";
import { storeLayout } from "../store/layout.ts";
import { foreignIds, stalePendingCgroups } from "../store/owners.ts";
import { staleScratch } from "../store/scratch.ts";
import { MNT_DETACH } from "../sys/sys.ts";
import { cgroupLocator } from "./cgroupdirs.ts";
import { containerFiles, containerIds, containerPaths, containersDir, CREATING_PREFIX, isInfraContainer, readContainer, type ContainerRecord } from "../store/containers.ts";
import { readLive } from "./live.ts";
import { reconcileNetwork } from "./network-teardown.ts";
import { destroyContainerCgroups, discardContainerDir, removeContainer, teardownContainer, TRASH_PREFIX, unmountContainer } from "./remove.ts";

export interface ReconcileReport {
  /** Containers whose supervisor was gone: torn down (record kept, or removed with --rm). */
  tornDown: string[];
  /** Container directories removed: no record, interrupted removals, trash. */
  removedDirs: string[];
  /** tinydock/<id> cgroup directories with no container. */
  cgroups: string[];
  /** Mount points under containers/ with no live container. */
  mounts: string[];
  /** What the network hook removed. */
  network: string[];
  /** Scratch entries under <root>/tmp whose process is gone (an export's mount with them). */
  scratch: string[];
}

export interface ReconcileOptions {
  /** A directory without state.json younger than this is a create in progress (ms). */
  graceMs?: number;
  /**
   * false: leave network objects alone. For tests on a temp root in the host's network namespace,
   * where the network stage would take every other root's veths and rules for orphans.
   */
  network?: boolean;
}

/** Idempotent; skips any container another process holds the lock of. */
export async function reconcile(ctx: Ctx, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const graceMs = opts.graceMs ?? 30_000;
  const report: ReconcileReport = { tornDown: [], removedDirs: [], cgroups: [], mounts: [], network: [], scratch: [] };
  const dir = containersDir(ctx.root);
  const locator = cgroupLocator(ctx.cgroupRoot);
  const deps = { sys: ctx.sys, sleep: ctx.sleep };
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {}
  for (const n of names) {
    if (n.startsWith(CREATING_PREFIX)) {
      // A create killed before its directory got its name: free lock (or none yet) = abandoned.
      const t = path.join(dir, n);
      const lockFile = path.join(t, "lock");
      const young = Date.now() - (fs.statSync(t, { throwIfNoEntry: false })?.mtimeMs ?? 0) < graceMs;
      if (!fs.existsSync(lockFile) && young) continue;
      const l = fs.existsSync(lockFile) ? tryLock(deps, lockFile) : { release() {} };
      if (!l) continue;
      l.release();
      fs.rmSync(t, { recursive: true, force: true });
      report.removedDirs.push(n);
      continue;
    }
    if (n.startsWith(TRASH_PREFIX)) {
      const t = path.join(dir, n);
      for (const m of mountsUnder(t).sort((a, b) => b.length - a.length)) ctx.sys.umount(m, MNT_DETACH);
      fs.rmSync(t, { recursive: true, force: true });
      report.removedDirs.push(n);
    }
  }
  const keep = new Set<string>();
  for (const id of containerIds(ctx.root)) {
    const files = containerFiles(ctx.root, id);
    const paths = containerPaths(ctx.root, id);
    // Before tryLock: creating the lock file would reset the directory's age.
    const dirStat = fs.statSync(paths.dir, { throwIfNoEntry: false });
    if (!dirStat) continue;
    // A create holds the lock from just after mkdir until its record exists; only the instant
    // before it takes the lock needs the grace period.
    if (!fs.existsSync(paths.state) && !fs.existsSync(files.removing) && !fs.existsSync(files.lock) && Date.now() - dirStat.mtimeMs < graceMs) {
      keep.add(id); // a create in progress, not yet locked
      continue;
    }
    const lock = tryLock(deps, files.lock);
    if (!lock) {
      keep.add(id); // busy: someone is changing it right now
      continue;
    }
    try {
      const rec = readContainer(ctx.root, id);
      if (!rec && !fs.existsSync(files.removing)) {
        unmountContainer(ctx, id);
        destroyContainerCgroups(ctx, id);
        discardContainerDir(ctx.root, id);
        report.removedDirs.push(id);
        continue;
      }
      // We hold the lock: a removing marker is an interrupted rm, finished here.
      if (!rec || fs.existsSync(files.removing)) {
        lock.release();
        if (rec) await removeContainer(ctx, readLive(ctx, rec, locator), { force: true, network: opts.network ?? true });
        else {
          unmountContainer(ctx, id);
          destroyContainerCgroups(ctx, id);
          discardContainerDir(ctx.root, id);
        }
        report.removedDirs.push(id);
        continue;
      }
      const c = readLive(ctx, rec, locator);
      keep.add(id);
      if (c.state.Running) continue;
      const leftovers =
        locator.allDirs(id, rec.cgroupPath).some((d) => fs.existsSync(d)) || mountsUnder(containerPaths(ctx.root, id).dir).length > 0 || c.state.stale;
      if (!leftovers) continue;
      await teardownContainer(ctx, rec, { network: opts.network ?? true });
      report.tornDown.push(id);
      if (rec.autoRemove) {
        discardContainerDir(ctx.root, id);
        keep.delete(id);
      }
    } finally {
      lock.release();
    }
  }
  // Cgroups and mounts named after containers that do not exist, in this root nor in another
  // root of this host (owners.ts): tinydock/<id> is one namespace for every root. An id no root
  // claims may still be a running container of a root that predates the claims: its processes are
  // killed only when this root left a trace of it (a removed directory, an interrupted rm or
  // create); otherwise only an empty cgroup goes.
  // Under a --cgroup-parent: named by the pending record of a run killed before its record existed.
  for (const p of stalePendingCgroups(ctx)) {
    if (keep.has(p.id) || readContainer(ctx.root, p.id)) continue;
    report.cgroups.push(...destroyContainerCgroups(ctx, p.id, p.dirs));
    p.done();
  }
  const foreign = foreignIds(ctx);
  const traces = new Set(report.removedDirs.map((n) => /[a-f0-9]{64}/.exec(n)?.[0]).filter((id): id is string => !!id));
  const parents = new Set(locator.dirs("x").map((d) => path.dirname(d)));
  const cgroupIds = new Set<string>();
  for (const p of parents) for (const id of childCgroups(p)) cgroupIds.add(id);
  for (const id of cgroupIds) {
    if (keep.has(id) || foreign.has(id) || !/^[a-f0-9]{64}$/.test(id)) continue;
    if (!traces.has(id) && locator.allDirs(id).some((d) => fs.existsSync(d) && pidsBelow(d).length > 0)) continue;
    report.cgroups.push(...destroyContainerCgroups(ctx, id));
  }
  for (const m of mountsUnder(dir).sort((a, b) => b.length - a.length)) {
    const id = path.relative(dir, m).split("/")[0]!;
    if (keep.has(id)) continue;
    try {
      ctx.sys.umount(m, MNT_DETACH);
      report.mounts.push(m);
    } catch {}
  }
  for (const entry of staleScratch(storeLayout(ctx.root).tmpDir)) {
    for (const m of mountsUnder(entry).sort((a, b) => b.length - a.length)) {
      try {
        ctx.sys.umount(m, MNT_DETACH);
        report.mounts.push(m);
      } catch {}
    }
    // A mount that would not go keeps its directory: rm would walk into what is mounted there.
    if (mountsUnder(entry).length > 0) continue;
    fs.rmSync(entry, { recursive: true, force: true });
    report.scratch.push(entry);
  }
  if (opts.network ?? true) report.network = await reconcileNetwork(ctx, keep);
  return report;
}

/** Bytes under a directory (what rm of a container reclaims: its upper dir, logs…). */
export function diskUsage(p: string): number {
  let total = 0;
  const walk = (q: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(q);
    } catch {
      return;
    }
    total += st.isDirectory() ? 0 : st.size;
    if (st.isDirectory()) for (const n of fs.readdirSync(q)) walk(path.join(q, n));
  };
  walk(p);
  return total;
}

/** `container prune`: every stopped container (exited, created, dead) removed; ids and bytes. */
export async function pruneContainers(ctx: Ctx, keep: (rec: ContainerRecord) => boolean = () => false): Promise<{ deleted: string[]; bytes: number }> {
  const deleted: string[] = [];
  let bytes = 0;
  const locator = cgroupLocator(ctx.cgroupRoot);
  for (const id of containerIds(ctx.root)) {
    const rec = readContainer(ctx.root, id);
    // A stopped pod's infra is the pod's: pod rm removes it.
    if (!rec || isInfraContainer(rec) || keep(rec)) continue;
    const c = readLive(ctx, rec, locator);
    if (c.state.Running || c.state.Status === "removing") continue;
    const size = diskUsage(containerPaths(ctx.root, id).dir);
    try {
      await removeContainer(ctx, c, { force: c.state.Status === "dead" });
      deleted.push(id);
      bytes += size;
    } catch (err) {
      ctx.log.warn(`Cannot remove container ${id}: ${(err as Error).message}`);
    }
  }
  return { deleted, bytes };
}
