// A stopping pod leaves its Services before its containers get their stop signal, as kube-proxy
// drops a terminating pod's endpoints first: no new connection goes to a pod that is shutting down,
// while the connections it has can finish. The mark names the process doing the stop; a stop that
// fails or is interrupted (SIGINT, SIGTERM, SIGHUP) takes the mark back and restores the endpoints
// of whatever still runs, and a mark whose process is gone (a stop killed outright) counts for
// nothing, so no pod is left out of its Services for good.
import type { Ctx } from "../context.ts";
import { processStartTime, sameProcess } from "../lifecycle/liveness.ts";
import { listPods, savePod, type PodRecord } from "./store.ts";

/** Whether the pod is being stopped now, by a process that still runs. */
export function isDraining(pod: PodRecord): boolean {
  return pod.terminating !== undefined && sameProcess(pod.terminating.pid, pod.terminating.startTime);
}

/** The pod's record as it is now, with `terminating` set or cleared (a pod removed meanwhile is left alone). */
function mark(root: string, id: string, terminating: PodRecord["terminating"]): void {
  const now = listPods(root).find((p) => p.id === id);
  if (!now) return;
  const { terminating: _, ...rest } = now;
  savePod(root, terminating ? { ...rest, terminating } : rest);
}

const CANCELS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs `stop` (which signals the pod's containers) with the pod out of every Service; the
 * endpoints are synced once before and once after, whatever the outcome. `sync` is syncServices.
 */
export async function whileDrained<T>(ctx: Ctx, pod: PodRecord, sync: (ctx: Ctx) => Promise<void>, stop: () => Promise<T>): Promise<T> {
  mark(ctx.root, pod.id, { pid: process.pid, startTime: processStartTime(process.pid) });
  const undo = async () => {
    mark(ctx.root, pod.id, undefined);
    await sync(ctx);
  };
  // Interrupted: the endpoints of what still runs come back, then the signal does what it would have.
  const handlers = CANCELS.map((sig) => {
    const fn = () => {
      for (const [s, h] of handlers) process.off(s, h);
      void undo().finally(() => process.kill(process.pid, sig));
    };
    process.on(sig, fn);
    return [sig, fn] as const;
  });
  try {
    await sync(ctx);
    return await stop();
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
    await undo();
  }
}
