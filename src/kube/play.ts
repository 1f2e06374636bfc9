// `play kube`: the plan translate.ts made, run — a pod per KubePod (its infra holding the ports),
// its containers detached and named <pod>-<container>, volumes made under the root's kube/
// directory, Services as DNAT rules (service.ts). What a failing play made so far is removed.
// `--down` removes what the same file made, found by the names the plan gives them.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { isKind } from "../errors.ts";
import { runDetached } from "../lifecycle/run.ts";
import type { RunRequest } from "../lifecycle/run/request.ts";
import { DEFAULT_NAMESPACE_MODES } from "../lifecycle/run/namespaces.ts";
import { podModes } from "../pod/join.ts";
import { createPod, findPod, removePod } from "../pod/pods.ts";
import { podDataDir, type PodRecord } from "../pod/store.ts";
import { mountPodTmpfs } from "../pod/tmpfs.ts";
import { mountPodSubPath, subPathMountPoint } from "../pod/subpaths.ts";
import type { VolumeSpec } from "../runtime/volumes.ts";
import type { KubeContainer, KubePlan, KubePod } from "./translate.ts";
import { hostAddress, podUid, podFieldRefs, readsPodFields, withPodFields, type PodStatusFields } from "./downward.ts";
import { readContainer } from "../store/containers.ts";
import { checkHostPath } from "./hostpath.ts";

export interface Played {
  pods: { id: string; name: string; containers: string[] }[];
}

export function kubeVolumeDir(root: string, podId: string): string {
  return path.join(podDataDir(root, podId), "volumes");
}

/**
 * The container's request (pure but for nothing: every value comes from the plan and the pod).
 * `subPaths`: the mount point each subPath mount's was bound on (subpaths.ts), by mount index.
 */
export function kubeRunRequest(c: KubeContainer, p: KubePod, pod: PodRecord, volumes: Map<string, string>, subPaths: (string | undefined)[] = []): RunRequest {
  const req: RunRequest = {
    image: c.image,
    name: `${p.name}-${c.name}`,
    labels: { ...p.labels },
    process: { args: c.args, env: c.env, groupAdd: [], tty: false, interactive: false, init: false, stopTimeout: p.gracePeriod },
    volumes: c.mounts.map((m, i): VolumeSpec => ({ type: "bind", source: m.subPath ? subPathSource(subPaths[i], m.subPath) : volumes.get(m.volume)!, target: m.target, readonly: m.readOnly })),
    network: { mode: "bridge", aliases: [], dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [] },
    ports: { publish: [], publishAll: false, expose: c.expose },
    // The kubelet waits between restarts (10 s doubling to 5 min), not Docker's restart manager.
    lifetime: { detach: true, rm: false, restart: { name: p.restart, maximumRetryCount: 0, backoff: "kubelet" } },
    resources: {
      limits: {
        ...(c.memory !== undefined ? { memory: c.memory } : {}),
        ...(c.cpuQuota !== undefined ? { cpuQuota: c.cpuQuota, cpuPeriod: c.cpuPeriod! } : {}),
        ...(c.cpuShares !== undefined ? { cpuShares: c.cpuShares } : {}),
      },
      ulimits: [],
      devices: [],
    },
    namespaces: { ...DEFAULT_NAMESPACE_MODES },
    security: { privileged: c.privileged, capAdd: c.capAdd, capDrop: c.capDrop, noNewPrivileges: c.noNewPrivileges, seccomp: true, readOnly: c.readOnly },
    pull: c.pull,
    ...(c.probes.length ? { probes: c.probes } : {}),
  };
  if (c.entrypoint !== undefined) req.process.entrypoint = c.entrypoint;
  if (c.workdir !== undefined) req.process.workdir = c.workdir;
  if (c.user !== undefined) req.process.user = c.user;
  if (c.imageUser !== undefined) req.process.imageUser = c.imageUser;
  podModes(req, pod);
  return req;
}

/** Never the volume's path joined with the subPath: the host would follow what the container planted there. */
function subPathSource(at: string | undefined, sub: string): string {
  if (at === undefined) throw new Error(`subPath "${sub}" was not bound`);
  return at;
}

/** Each subPath mount of the container bound under the pod's data directory, by mount index. */
function bindSubPaths(ctx: Ctx, pod: PodRecord, c: KubeContainer, volumes: Map<string, string>): (string | undefined)[] {
  return c.mounts.map((m, i) => (m.subPath ? mountPodSubPath(ctx, pod, volumes.get(m.volume)!, m.subPath, subPathMountPoint(ctx.root, pod.id, c.name, i)) : undefined));
}

/**
 * A memory-backed emptyDir's size, as the kubelet computes it: the pod's memory limit (the sum of
 * its containers' limits), or the node's memory when it has none; sizeLimit when smaller.
 */
export function memoryVolumeSize(sizeLimit: number | undefined, containers: Pick<KubeContainer, "memory">[], nodeMemory: number): number {
  const podLimit = containers.reduce((sum, c) => sum + (c.memory ?? 0), 0);
  const size = podLimit > 0 ? podLimit : nodeMemory;
  return sizeLimit !== undefined && sizeLimit > 0 && sizeLimit < size ? sizeLimit : size;
}

/** The pod's volumes on the host: hostPath as given, emptyDir (a tmpfs for medium Memory) and ConfigMap/Secret files made under kube/<pod id>/. */
function makeVolumes(ctx: Ctx, pod: PodRecord, p: KubePod): Map<string, string> {
  const out = new Map<string, string>();
  const base = kubeVolumeDir(ctx.root, pod.id);
  for (const v of p.volumes) {
    if (v.source.kind === "hostPath") {
      checkHostPath(v.name, v.source);
      out.set(v.name, v.source.path);
      continue;
    }
    const dir = path.join(base, v.name);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    if (v.source.kind === "emptyDir" && v.source.memory) mountPodTmpfs(ctx, pod, dir, memoryVolumeSize(v.source.memory.sizeLimit, p.containers, os.totalmem()));
    if (v.source.kind === "files") {
      for (const [rel, text] of Object.entries(v.source.files)) {
        const f = path.join(dir, rel);
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, text, { mode: 0o600 });
        // The kubelet's modes (defaultMode, an item's mode), not the umask's.
        fs.chmodSync(f, v.source.modes?.[rel] ?? v.source.mode);
      }
    }
    out.set(v.name, dir);
  }
  return out;
}

/** What the downward API reads of the pod once its infra's network is attached. */
function podStatusFields(ctx: Ctx, pod: PodRecord): PodStatusFields {
  const podIP = readContainer(ctx.root, pod.infraId)?.network?.endpoint?.ipAddress ?? "";
  return { podIP, hostIP: hostAddress(), nodeName: os.hostname().toLowerCase(), uid: podUid(pod.id) };
}

export async function playKube(ctx: Ctx, plan: KubePlan, pullOut: (line: string) => void): Promise<Played> {
  const played: Played = { pods: [] };
  const made: PodRecord[] = [];
  try {
    for (const p of plan.pods) {
      const pod = await createPod(ctx, {
        name: p.name,
        hostname: p.hostname || os.hostname(),
        labels: p.labels,
        // In the host's network a hostPort is the container's own port: nothing to publish.
        publish: p.hostNetwork ? [] : p.containers.flatMap((c) => c.publish),
        kubeOwner: p.owner,
        ...(p.hostNetwork ? { network: "host" } : {}),
      });
      made.push(pod);
      const volumes = makeVolumes(ctx, pod, p);
      const status = p.containers.some(readsPodFields) ? podStatusFields(ctx, pod) : undefined;
      const ids: string[] = [];
      for (const c of p.containers) {
        const req = kubeRunRequest(status ? withPodFields(c, status) : c, p, pod, volumes, bindSubPaths(ctx, pod, c, volumes));
        const fieldRefs = podFieldRefs(c);
        if (fieldRefs) req.fieldRefs = fieldRefs;
        const d = await runDetached(ctx, req, { pullOut, stdin: -1, stdout: -1, stderr: -1, consoleSocket: -1 });
        ids.push(d.id);
      }
      played.pods.push({ id: pod.id, name: pod.name, containers: ids });
    }
    if (plan.services.length) {
      const { applyServices } = await import("./service.ts");
      await applyServices(ctx, plan.services);
    }
    return played;
  } catch (err) {
    for (const pod of made.reverse()) {
      try {
        await removePod(ctx, pod.id, { force: true });
      } catch (e) {
        ctx.log.warn(`cleanup of pod ${pod.name}: ${(e as Error).message}`);
      }
    }
    throw err;
  }
}

/** `--down`: the pods and Services the plan names, if there; returns the pods removed. */
export async function downKube(ctx: Ctx, plan: KubePlan): Promise<string[]> {
  const removed: string[] = [];
  if (plan.services.length) {
    const { removeServices } = await import("./service.ts");
    await removeServices(ctx, plan.services);
  }
  for (const p of plan.pods) {
    let pod: PodRecord;
    try {
      pod = findPod(ctx.root, p.name);
    } catch (err) {
      if (isKind(err, "NotFound")) continue;
      throw err;
    }
    if (pod.name !== p.name) continue; // an id prefix matched: not this plan's pod
    await removePod(ctx, pod.id, { force: true });
    removed.push(pod.id);
  }
  return removed;
}
