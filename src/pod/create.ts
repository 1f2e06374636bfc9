// `pod create`: the pod's record, then its infra (network attached, pause process started). Apart
// from pods.ts so that creating a pod loads the infra's modules only, not every pod verb's
// (lifecycle start/stop/remove/live): the removal is loaded on the failure path alone.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import { servicesDir } from "../network/service-rules.ts";
import { newContainerId, readContainer, withNamesLock } from "../store/containers.ts";
import { createInfra, startInfra, stopInfra } from "./infra.ts";
import { checkPodNameFree, deletePod, podFile, podsDir, savePod, type PodRecord } from "./store.ts";

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
    savePod(ctx.root, pod, false);
  });
  try {
    const infra = await createInfra(ctx, pod);
    // The pod's record is synced with the infra's, by the pause process once we have exited.
    await startInfra(ctx, infra, [podFile(ctx.root, pod.id), podsDir(ctx.root)]);
  } catch (err) {
    await removeInfraQuietly(ctx, pod);
    deletePod(ctx.root, pod.id);
    throw err;
  }
  await syncServicesIfAny(ctx);
  return pod;
}

/** syncServices, its modules loaded only when the root has a Service (most pods are in none). */
async function syncServicesIfAny(ctx: Ctx): Promise<void> {
  let any = false;
  try {
    any = fs.readdirSync(servicesDir(ctx.root)).length > 0;
  } catch {}
  if (any) await (await import("./services.ts")).syncServices(ctx);
}

/** The infra stopped and removed, a failure warned about (the caller is undoing or removing the pod). */
export async function removeInfraQuietly(ctx: Ctx, pod: PodRecord): Promise<void> {
  const rec = readContainer(ctx.root, pod.infraId);
  if (!rec) return;
  try {
    await stopInfra(ctx, rec);
    const [{ removeContainer }, { readLive }] = await Promise.all([import("../lifecycle/remove.ts"), import("../lifecycle/live.ts")]);
    await removeContainer(ctx, readLive(ctx, rec), { force: true });
  } catch (err) {
    ctx.log.warn(`cleanup of pod ${pod.name}: ${(err as Error).message}`);
  }
}

