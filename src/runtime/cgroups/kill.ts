// Killing what is inside a cgroup, and nothing outside it. A pid read from cgroup.procs names that
// process only while it lives: once it exits, a host process may take the pid, and a kill(pid)
// after the read would hit it. So (as runc and crun do): v2's cgroup.kill when the kernel has it
// (Linux ≥ 5.14, atomic, forks included); else freeze, read the pids, bind a pidfd to each, read the
// pids again, signal through the pidfds only those still inside, thaw. A frozen task cannot exit,
// so its pid cannot be recycled; and where the freeze does not settle in time (a task in D state),
// the second read still holds: a pidfd bound before it names the process the pid had then, and if
// that one was still alive and inside at the second read, the pidfd signals it or, gone since,
// nobody (ESRCH).
import fs from "node:fs";
import { errnoCode } from "../../errors.ts";
import type { Sys } from "../../sys/sys.ts";
import { DEFAULT_SETTLE_MS } from "./cgroup.ts";
import { exists, waitFor, writeControl } from "./cgroupfs.ts";

const SIGKILL = 9;
/** pidfds open at once in a round. */
const PIDFD_BATCH = 256;

/** How long a teardown waits for a freeze to settle before it goes on without (ms). */
export const FREEZE_WAIT_MS = 1_000;

/** The cgroup's freezer: v1 <dir>/freezer.state, v2 <dir>/cgroup.freeze. */
export interface Freezer {
  version: 1 | 2;
  file: string;
  dir: string;
}

/** v1 freezer.state settled in FROZEN/THAWED, v2 cgroup.events "frozen 1/0"; at most budgetMs. */
export function freezerSettled(f: Freezer, frozen: boolean, budgetMs: number): boolean {
  const read = () => {
    try {
      return fs.readFileSync(f.version === 1 ? f.file : `${f.dir}/cgroup.events`, "utf8");
    } catch {
      return undefined;
    }
  };
  if (f.version === 1) return waitFor(read, (v) => v?.trim() === (frozen ? "FROZEN" : "THAWED"), budgetMs);
  return waitFor(read, (v) => v === undefined || new RegExp(`^frozen ${frozen ? 1 : 0}$`, "m").test(v), budgetMs);
}

export function writeFreezer(f: Freezer, frozen: boolean): void {
  writeControl(f.file, f.version === 1 ? (frozen ? "FROZEN" : "THAWED") : frozen ? "1" : "0");
}

/** What killCgroup kills: the pids inside (every hierarchy, cgroups below included), its freezer, v2's cgroup.kill. */
export interface KillTarget {
  pids(): number[];
  freezer?: Freezer;
  /** v2: <dir>/cgroup.kill of each directory; used when every one exists. */
  killFiles?: string[];
}

/** Signals through pidfds; without (a test's manager, no Sys), a checked kill(2). */
export type PidfdSys = Pick<Sys, "pidfdOpen" | "pidfdSendSignal">;

/** The pidfd calls of a manager's Sys, when it has them. */
export function pidfdSys(options: { sys?: Partial<PidfdSys> }): PidfdSys | undefined {
  const s = options.sys;
  return s?.pidfdOpen && s.pidfdSendSignal ? (s as PidfdSys) : undefined;
}

/**
 * SIGKILL to everything in the cgroup, repeated until it is empty or budgetMs is up; returns the
 * pids left. Never signals a process that is not inside at the time of the signal (see the top).
 */
export function killCgroup(t: KillTarget, sys: PidfdSys | undefined, budgetMs = DEFAULT_SETTLE_MS): number[] {
  const killFiles = t.killFiles ?? [];
  const useKill = killFiles.length > 0 && killFiles.every(exists);
  for (const k of useKill ? killFiles : []) writeControl(k, "1");
  const deadline = Date.now() + budgetMs;
  // One wait for the freezer in all: a freeze that a task in D state holds up is not waited out
  // again every round.
  const freezeDeadline = Date.now() + FREEZE_WAIT_MS;
  for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
    // The kernel drops exited tasks from cgroup.procs; the liveness check only matters on a plain
    // directory standing in for cgroupfs, where nothing updates the file.
    const left = t.pids().filter(alive);
    if (left.length === 0 || Date.now() >= deadline) return left;
    // cgroup.kill reaches every task, forks included: what is left is still dying.
    if (!useKill) killRound(t, sys, freezeDeadline);
    Bun.sleepSync(delay);
  }
}

/** One freeze, read, bind, re-read, signal, thaw. */
function killRound(t: KillTarget, sys: PidfdSys | undefined, freezeDeadline: number): void {
  const f = t.freezer && exists(t.freezer.file) ? t.freezer : undefined;
  let frozen = false;
  if (f) {
    try {
      writeFreezer(f, true);
      frozen = freezerSettled(f, true, Math.max(0, freezeDeadline - Date.now()));
    } catch {}
  }
  try {
    const first = t.pids();
    // In batches, so that a cgroup of thousands never holds more fds open than the limit allows.
    for (let i = 0; i < first.length; i += PIDFD_BATCH) signalBatch(t, sys, first.slice(i, i + PIDFD_BATCH));
  } finally {
    // A v1 frozen task takes its SIGKILL when thawed; a paused container is thawed to die too.
    if (f) {
      try {
        writeFreezer(f, false);
      } catch (err) {
        if (frozen) throw err;
      }
    }
  }
}

/** pidfds bound to `pids`, the cgroup read again, SIGKILL through those still inside. */
function signalBatch(t: KillTarget, sys: PidfdSys | undefined, pids: number[]): void {
  const fds: [number, number][] = [];
  try {
    let pidfds = sys !== undefined;
    for (const pid of pids) {
      if (!pidfds) break;
      try {
        fds.push([pid, sys!.pidfdOpen(pid)]);
      } catch (err) {
        const code = errnoCode(err);
        if (code === "ENOSYS") pidfds = false;
        else if (code !== "ESRCH") throw err;
      }
    }
    const inside = new Set(t.pids());
    if (pidfds) {
      for (const [pid, fd] of fds) if (inside.has(pid)) ignoreEsrch(() => sys!.pidfdSendSignal(fd, SIGKILL));
    } else {
      // No pidfds (Linux < 5.3, or no Sys): a frozen pid cannot change hands; else the re-read
      // narrows the window to the two syscalls between it and the kill.
      for (const pid of pids) if (inside.has(pid)) ignoreEsrch(() => process.kill(pid, SIGKILL));
    }
  } finally {
    for (const [, fd] of fds) fs.closeSync(fd);
  }
}

function ignoreEsrch(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (errnoCode(err) !== "ESRCH") throw err;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
