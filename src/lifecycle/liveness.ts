// Is the process run.json names still that process? (sys/procfs.ts opens and checks it.)
import { isRecorded, processStartTime } from "../sys/procfs.ts";

export { fdPath, openProcess, parseProcStat, processStartTime, signalProcess, withProcess } from "../sys/procfs.ts";

/** The process is alive and, when a start time is known, is the same one. */
export function sameProcess(pid: number | undefined, startTime: number | undefined, proc = "/proc"): boolean {
  if (!pid) return false;
  return isRecorded(processStartTime(pid, proc), startTime);
}

