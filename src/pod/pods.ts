// Pods (podman's verbs): create makes the record and its infra; the other verbs act on the pod's
// containers through the lifecycle's own functions, the infra first on the way up and last on the
// way down, so the containers always have namespaces to join.
import type { Ctx } from "../context.ts";
import { FailedPreconditionError } from "../errors.ts";
import { listLive, readLive, rereadLive, type LiveContainer } from "../lifecycle/live.ts";
import { removeContainer } from "../lifecycle/remove.ts";
import { startContainer } from "../lifecycle/start.ts";
import { killContainer, stopContainer } from "../lifecycle/stop.ts";
import { readContainer } from "../store/containers.ts";
import { whileDrained } from "./drain.ts";
import { remountPodTmpfs, unmountPodData } from "./tmpfs.ts";
import { remountPodSubPaths } from "./subpaths.ts";
import { syncServices } from "./services.ts";
import { infraRunning, startInfra, stopInfra } from "./infra.ts";
import { deletePod, findPod, listPods, type PodRecord } from "./store.ts";
import { removeInfraQuietly } from "./create.ts";

export { createPod, DEFAULT_SHARE, parseShare, type PodCreateRequest } from "./create.ts";

/** The pod's containers (not the infra), oldest first. */
export function podContainers(ctx: Ctx, pod: PodRecord, all: LiveContainer[] = listLive(ctx)): LiveContainer[] {
  return all.filter((c) => c.record.pod === pod.id && c.record.id !== pod.infraId).sort((a, b) => a.record.created.localeCompare(b.record.created));
}

export function podInfra(ctx: Ctx, pod: PodRecord): LiveContainer | undefined {
  const rec = readContainer(ctx.root, pod.infraId);
  return rec ? readLive(ctx, rec) : undefined;
}

/** podman's pod status: Created, Running, Degraded (some running), Exited. */
export function podStatus(ctx: Ctx, pod: PodRecord, members: LiveContainer[]): string {
  const running = members.filter((c) => c.state.Running).length;
  if (members.length === 0) return infraRunning(ctx, pod.infraId) ? "Running" : "Exited";
  if (running === members.length) return "Running";
  if (running > 0) return "Degraded";
  return members.every((c) => c.state.Status === "created") ? "Created" : "Exited";
}

export async function startPod(ctx: Ctx, ref: string): Promise<PodRecord> {
  const pod = findPod(ctx.root, ref);
  const infra = readContainer(ctx.root, pod.infraId);
  if (!infra) throw new FailedPreconditionError(`Cannot start pod "${pod.name}": its infra container is gone`);
  remountPodTmpfs(ctx, pod);
  remountPodSubPaths(ctx, pod);
  await startInfra(ctx, infra);
  // Each member's start joins the infra's namespaces of now (lifecycle/start.ts rejoinDonors).
  for (const c of podContainers(ctx, pod)) {
    if (c.state.Running) continue;
    await startContainer(ctx, c.record.id);
  }
  await syncServices(ctx);
  return pod;
}

/** The pod leaves its Services first (drain.ts), then its containers stop, then its infra. */
export async function stopPod(ctx: Ctx, ref: string, timeout?: number): Promise<PodRecord> {
  const pod = findPod(ctx.root, ref);
  await whileDrained(ctx, pod, syncServices, async () => {
    await Promise.all(podContainers(ctx, pod).filter((c) => c.state.Running).map((c) => stopContainer(ctx, c, timeout !== undefined ? { timeoutS: timeout } : {})));
    const infra = readContainer(ctx.root, pod.infraId);
    if (infra) await stopInfra(ctx, infra);
  });
  return pod;
}

export async function killPod(ctx: Ctx, ref: string, signal = "KILL"): Promise<PodRecord> {
  const pod = findPod(ctx.root, ref);
  const running = podContainers(ctx, pod).filter((c) => c.state.Running);
  if (running.length === 0) throw new FailedPreconditionError(`Cannot kill pod "${pod.name}": no container in it is running`);
  await Promise.all(running.map((c) => killContainer(ctx, c, signal)));
  return pod;
}

/** rm: refused while a container runs, unless force (drained first then); the containers, then the infra, then the record. */
export async function removePod(ctx: Ctx, ref: string, opts: { force?: boolean } = {}): Promise<PodRecord> {
  const pod = findPod(ctx.root, ref);
  const members = podContainers(ctx, pod);
  if (!opts.force && members.some((c) => c.state.Running)) {
    throw new FailedPreconditionError(`Cannot remove pod "${pod.name}": it has running containers (stop the pod or use -f)`);
  }
  const removeAll = async () => {
    for (const c of members) {
      const now = rereadLive(ctx, c.record.id);
      if (now) await removeContainer(ctx, now, { force: true, volumes: true });
    }
    await removeInfraQuietly(ctx, pod);
  };
  // A running pod leaves its Services before its containers are killed, as a stop does.
  if (members.some((c) => c.state.Running)) await whileDrained(ctx, pod, syncServices, removeAll);
  else await removeAll();
  if (readContainer(ctx.root, pod.infraId)) throw new FailedPreconditionError(`Cannot remove pod "${pod.name}": its infra container could not be removed`);
  unmountPodData(ctx, pod);
  deletePod(ctx.root, pod.id);
  await syncServices(ctx);
  return pod;
}

export { findPod, listPods };
