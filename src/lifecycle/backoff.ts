// The restart back-off schedules, as data. The monitor (src/sys/monitor/run.c) gets one as
// `-B RESET,D0,D1,…` (ms) and only looks it up: the nth restart of a streak waits D[min(n, last)]
// after the container's end, and a run of RESET ms or longer starts a new streak. Pure.
//
// docker: the restart manager of `run --restart` (daemon/restartmanager): 100 ms doubling to 1 min,
//   back to 100 ms after a run of 10 s.
// kubelet: a pod's restartPolicy (kuberuntime doBackOff over flowcontrol.Backoff): the first end
//   of a streak restarts at once (no back-off entry yet), then 10 s doubling to 5 min, and a run of
//   10 min (twice the cap) starts afresh. Meanwhile the pod shows the container as CrashLoopBackOff.

export type BackoffName = "docker" | "kubelet";

export interface BackoffSchedule {
  /** The waits before the 1st, 2nd, … restart of a streak (ms); the last repeats. */
  delaysMs: readonly number[];
  /** A run at least this long (ms) starts a new streak. */
  resetAfterMs: number;
}

/** first, first·2, first·4, … up to and including cap. */
export function doubling(firstMs: number, capMs: number): number[] {
  const out: number[] = [];
  for (let d = firstMs; ; d *= 2) {
    if (d >= capMs) return [...out, capMs];
    out.push(d);
  }
}

export const SCHEDULES: Record<BackoffName, BackoffSchedule> = {
  docker: { delaysMs: doubling(100, 60_000), resetAfterMs: 10_000 },
  kubelet: { delaysMs: [0, ...doubling(10_000, 300_000)], resetAfterMs: 600_000 },
};

/** The monitor's -B value. */
export function backoffArg(s: BackoffSchedule): string {
  return [s.resetAfterMs, ...s.delaysMs].map((n) => String(Math.round(n))).join(",");
}

/** The wait before restart number `streak` (0-based) of a streak: what run.c's next_delay looks up. */
export function delayAt(s: BackoffSchedule, streak: number): number {
  return s.delaysMs[Math.min(streak, s.delaysMs.length - 1)]!;
}

/**
 * When a container that always ends after `runMs` is started again within `horizonMs` of its first
 * start (ms from it): the schedule played forward, as the monitor plays it.
 */
export function restartTimes(s: BackoffSchedule, runMs: number, horizonMs: number): number[] {
  const out: number[] = [];
  let t = 0;
  for (let streak = 0; ; ) {
    if (runMs >= s.resetAfterMs) streak = 0;
    t += runMs + delayAt(s, streak++);
    if (t > horizonMs) return out;
    out.push(t);
  }
}

/** kubectl's wording of a wait: "10s", "5m0s", "2m40s". */
export function goDuration(ms: number): string {
  const sec = Math.round(ms / 1000);
  return sec < 60 ? `${sec}s` : `${Math.floor(sec / 60)}m${sec % 60}s`;
}

export interface CrashLoop {
  Reason: "CrashLoopBackOff";
  /** The kubelet's: "back-off 20s restarting failed container=web pod=demo". */
  Message: string;
}

/**
 * The kubelet's Waiting state of a container that waits out a back-off under the kubelet's
 * schedule (a pod's from `play kube`); undefined otherwise (Docker's schedule, running, a restart
 * due at once).
 */
export function crashLoop(policy: { backoff?: BackoffName } | undefined, s: { Status: string; nextRestart?: { delayMs: number } }, container: string, pod: string): CrashLoop | undefined {
  if (policy?.backoff !== "kubelet" || s.Status !== "restarting" || !s.nextRestart?.delayMs) return undefined;
  const name = container.startsWith(`${pod}-`) ? container.slice(pod.length + 1) : container;
  return { Reason: "CrashLoopBackOff", Message: `back-off ${goDuration(s.nextRestart.delayMs)} restarting failed container=${name} pod=${pod}` };
}
