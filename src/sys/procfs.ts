// A process named by a recorded pid, and only that one: a pid alone can be recycled; the pair (pid,
// start time in clock ticks since boot, field 22 of /proc/<pid>/stat) cannot. What acts on such a
// process opens it first (a pidfd, its /proc directory), then checks the start time, then acts
// through the fd and never through the pid again. Below every layer: the network layer joins a
// container's namespaces through it too.
import fs from "node:fs";
import { errnoCode } from "../errors.ts";
import { O_CLOEXEC, type Sys } from "./sys.ts";

const { O_RDONLY, O_DIRECTORY } = fs.constants;

/** "123 (comm with) spaces) S 1 …" → the fields after comm; comm may hold spaces and parens. */
export function parseProcStat(text: string): { ppid: number; state: string; utime: number; stime: number; startTime: number } | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  // f[0] is field 3 (state): field n is f[n - 3]. The kernel separates the fields with one space:
  // a plain split that stops at field 22 costs a third of a regex split into all ~50 (`ps` reads
  // this for every running container).
  const f = text.slice(close + 2).split(" ", 20);
  if (f.length < 20) return undefined;
  return { state: f[0]!, ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), startTime: Number(f[19]) };
}

/** Field 22 of /proc/<pid>/stat, or undefined when there is no such process. */
export function processStartTime(pid: number, proc = "/proc"): number | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return startTimeIn(`${proc}/${pid}`);
}

/** The start time of the process whose /proc directory `dir` is; undefined when gone or a zombie. */
function startTimeIn(dir: string): number | undefined {
  try {
    const st = parseProcStat(fs.readFileSync(`${dir}/stat`, "utf8"));
    // A zombie has exited: its start time stays, but it is no longer running anything.
    if (!st || st.state === "Z") return undefined;
    return st.startTime;
  } catch {
    return undefined;
  }
}

/** The path of an open fd of ours: through it, the kernel reaches the very object the fd holds. */
export function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/** The recorded process is the one now holding `pid`: a start time is known and is its, or none was recorded. */
export function isRecorded(now: number | undefined, startTime: number | undefined): boolean {
  return now !== undefined && (startTime === undefined || now === startTime);
}

/**
 * /proc/<pid> opened as a directory fd, and only then checked to be the process started at
 * `startTime`: the directory is bound to the process it was opened on (once that one exits, nothing
 * below it opens, whoever gets its pid next), so what is opened below fdPath(fd) (ns/net, root,
 * net/dev) is that process's or nothing. Undefined when the recorded process is gone.
 */
export function openProcess(pid: number, startTime: number | undefined): number | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let fd: number;
  try {
    fd = fs.openSync(`/proc/${pid}`, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } catch {
    return undefined;
  }
  if (isRecorded(startTimeIn(fdPath(fd)), startTime)) return fd;
  fs.closeSync(fd);
  return undefined;
}

/** fn with the recorded process's /proc directory (a path through a checked fd, openProcess); undefined when that process is gone. */
export function withProcess<T>(pid: number, startTime: number | undefined, fn: (dir: string) => T): T | undefined {
  const fd = openProcess(pid, startTime);
  if (fd === undefined) return undefined;
  try {
    return fn(fdPath(fd));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Sends `signal` to the recorded process and to no other: a pidfd is opened on the pid first, then
 * the start time checked (the pid still names the recorded process, so the pidfd does too: a process
 * that took the pid later would have started later), then the signal goes through the pidfd, which
 * never reaches a process that took the pid meanwhile. False when the recorded process is gone.
 * Before Linux 5.3 (no pidfd_open): checked, then kill(2).
 */
export function signalProcess(sys: Sys, pid: number, startTime: number | undefined, signal: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let pidfd: number;
  try {
    pidfd = sys.pidfdOpen(pid);
  } catch (err) {
    if (errnoCode(err) !== "ENOSYS") return false; // ESRCH: no such process
    if (!isRecorded(processStartTime(pid), startTime)) return false;
    return gone(() => process.kill(pid, signal));
  }
  try {
    if (!isRecorded(processStartTime(pid), startTime)) return false;
    return gone(() => sys.pidfdSendSignal(pidfd, signal));
  } finally {
    fs.closeSync(pidfd);
  }
}

/** fn's ESRCH is false (the process exited meanwhile); its other errors are thrown. */
function gone(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (errnoCode(err) === "ESRCH") return false;
    throw err;
  }
}

/** A recorded process: its pid and, when known, its start time. */
export interface ProcessRef {
  pid: number;
  startTime?: number;
}

/**
 * The path a container's init joins a namespace of a recorded process by, "/proc/<pid>/ns/<ns>@<start>":
 * the init opens it below an fd on /proc/<pid> once it has checked that start time (init/base.c
 * open_ns), so a pid handed on between this answer and the join is refused, never entered. Without
 * a start time, the plain path.
 */
export function nsJoinPath(p: number | ProcessRef, ns: string): string {
  const ref = typeof p === "number" ? { pid: p } : p;
  return `/proc/${ref.pid}/ns/${ns}${ref.startTime ? `@${ref.startTime}` : ""}`;
}
