// A stopping pod leaves its Services before its containers get their stop signal, as kube-proxy
// drops a terminating pod's endpoints first: no new connection goes to a pod that is shutting down,
// while the connections it has can finish. Each stop under way adds itself to the pod's record and
// takes itself out when it ends, so two stops of one pod (or a stop and an rm -f) keep the pod out
// until the last of them ends; a stop that fails or is interrupted (SIGINT, SIGTERM, SIGHUP) takes
// itself out and restores the endpoints of whatever still runs, and an entry whose process is gone
// (a stop killed outright) counts for nothing, so no pod is left out of its Services for good.
import path from "node:path";
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { processStartTime, sameProcess } from "../lifecycle/liveness.ts";
import { randomHex } from "../random.ts";
import { lockSync } from "../store/lock.ts";
import { listPods, savePod, type PodRecord, type Stopper } from "./store.ts";

const stoppers = (pod: PodRecord): Stopper[] => (pod.terminating === undefined ? [] : Array.isArray(pod.terminating) ? pod.terminating : [pod.terminating]);
const alive = (s: Stopper) => sameProcess(s.pid, s.startTime);

/** Whether the pod is being stopped now, by a process that still runs. */
export function isDraining(pod: PodRecord): boolean {
  return stoppers(pod).some(alive);
}

/**
 * The pod's record as it is now with `change` applied to its stoppers (those of gone processes
 * dropped), under a lock: two stops must not write over each other's entry. A pod removed
 * meanwhile is left alone.
 */
function update(ctx: Ctx, id: string, change: (list: Stopper[]) => Stopper[]): void {
  const locks = path.join(ctx.root, "locks");
  fs.mkdirSync(locks, { recursive: true, mode: 0o700 });
  const lock = lockSync(ctx, path.join(locks, "pod-drain.lock"));
  try {
    const now = listPods(ctx.root).find((p) => p.id === id);
    if (!now) return;
    const { terminating: _, ...rest } = now;
    const next = change(stoppers(now).filter(alive));
    savePod(ctx.root, next.length ? { ...rest, terminating: next } : rest);
  } finally {
    lock.release();
  }
}

const CANCELS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs `stop` (which signals the pod's containers) with the pod out of every Service; the
 * endpoints are synced once before and once after, whatever the outcome. `sync` is syncServices.
 */
export async function whileDrained<T>(ctx: Ctx, pod: PodRecord, sync: (ctx: Ctx) => Promise<void>, stop: () => Promise<T>): Promise<T> {
  const me: Stopper = { pid: process.pid, startTime: processStartTime(process.pid), token: randomHex(8) };
  update(ctx, pod.id, (list) => [...list, me]);
  const undo = async () => {
    update(ctx, pod.id, (list) => list.filter((s) => s.token !== me.token));
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
