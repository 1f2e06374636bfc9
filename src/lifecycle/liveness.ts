// Is the process run.json names still that process? A pid alone can be recycled; the pair (pid,
// start time in clock ticks since boot, field 22 of /proc/<pid>/stat) cannot.
import fs from "node:fs";

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
  try {
    const st = parseProcStat(fs.readFileSync(`${proc}/${pid}/stat`, "utf8"));
    // A zombie has exited: its start time stays, but it is no longer running anything.
    if (!st || st.state === "Z") return undefined;
    return st.startTime;
  } catch {
    return undefined;
  }
}

/** The process is alive and, when a start time is known, is the same one. */
export function sameProcess(pid: number | undefined, startTime: number | undefined, proc = "/proc"): boolean {
  if (!pid) return false;
  const now = processStartTime(pid, proc);
  if (now === undefined) return false;
  return startTime === undefined || startTime === now;
}
