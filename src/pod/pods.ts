// Pods (podman's verbs): create makes the record and its infra; the other verbs act on the pod's
// containers through the lifecycle's own functions, the infra first on the way up and last on the
// way down, so the containers always have namespaces to join.
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, InvalidArgumentError } from "../errors.ts";
import { listLive, readLive, rereadLive, type LiveContainer } from "../lifecycle/live.ts";
import { removeContainer } from "../lifecycle/remove.ts";
import { startContainer } from "../lifecycle/start.ts";
import { killContainer, stopContainer } from "../lifecycle/stop.ts";
import { newContainerId, readContainer } from "../store/containers.ts";
import { withNamesLock } from "../store/containers.ts";
import { whileDrained } from "./drain.ts";
import { rejoinInfra } from "./rejoin.ts";
import { remountPodTmpfs, unmountPodData } from "./tmpfs.ts";
import { syncServices } from "./services.ts";
import { createInfra, infraRunning, startInfra, stopInfra } from "./infra.ts";
import { checkPodNameFree, deletePod, findPod, listPods, savePod, type PodRecord } from "./store.ts";

export interface PodCreateRequest {
  name?: string;
  hostname?: string;
  labels?: Record<string, string>;
  publish?: string[];
  share?: string;
  network?: string;
  kubeOwner?: string;
}

export const DEFAULT_SHARE: PodRecord["share"] = ["net", "ipc", "uts"];

/** `--share net,ipc,uts`: net is always shared (the pod's one address). */
export function parseShare(input: string | undefined): PodRecord["share"] {
  if (input === undefined || input === "") return DEFAULT_SHARE;
  const out = new Set<PodRecord["share"][number]>(["net"]);
  for (const w of input.split(",")) {
    const n = w.trim();
    if (n !== "net" && n !== "ipc" && n !== "uts") throw new InvalidArgumentError(`Cannot parse --share "${input}": "${n}" is not one of net, ipc, uts`);
    out.add(n);
  }
  return [...out];
}

/** A pod and its infra (running): the pause process holds its namespaces from now on. */
export async function createPod(ctx: Ctx, req: PodCreateRequest): Promise<PodRecord> {
  const id = newContainerId();
  const name = req.name ?? `pod-${id.slice(0, 8)}`;
  const share = parseShare(req.share);
  const { parsePortSpecs } = await import("../network/portspec.ts");
  parsePortSpecs(req.publish ?? []);
  const pod: PodRecord = {
    id,
    name,
    created: new Date(ctx.clock()).toISOString(),
    hostname: req.hostname ?? name,
    labels: req.labels ?? {},
    share,
    network: req.network ?? "bridge",
    publish: req.publish ?? [],
    infraId: newContainerId(),
    ...(req.kubeOwner ? { kubeOwner: req.kubeOwner } : {}),
  };
  await withNamesLock(ctx, async () => {
    checkPodNameFree(ctx.root, name);
    savePod(ctx.root, pod);
  });
  try {
    const infra = await createInfra(ctx, pod);
    await startInfra(ctx, infra);
  } catch (err) {
    await removeInfraQuietly(ctx, pod);
    deletePod(ctx.root, pod.id);
    throw err;
  }
  await syncServices(ctx);
  return pod;
}

async function removeInfraQuietly(ctx: Ctx, pod: PodRecord): Promise<void> {
  const rec = readContainer(ctx.root, pod.infraId);
  if (!rec) return;
  try {
    await stopInfra(ctx, rec);
    await removeContainer(ctx, readLive(ctx, rec), { force: true });
  } catch (err) {
    ctx.log.warn(`cleanup of pod ${pod.name}: ${(err as Error).message}`);
  }
}

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
  const pid = await startInfra(ctx, infra);
  for (const c of podContainers(ctx, pod)) {
    if (c.state.Running) continue;
    rejoinInfra(ctx, c.record, pod.infraId, pid);
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
