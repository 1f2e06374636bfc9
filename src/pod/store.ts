// Pod records: pods/<id>.json under the root. A pod is its name, its infra container (which holds
// the shared namespaces) and the containers whose record names the pod; nothing else is kept here.
import fs from "node:fs";
import path from "node:path";
import { dirNames, readJson, writeFileAtomic } from "../atomic.ts";
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from "../errors.ts";
import { mountsUnder } from "../rootfs/mount.ts";

export interface PodRecord {
  id: string;
  name: string;
  created: string;
  hostname: string;
  labels: Record<string, string>;
  /** The namespaces the containers join: net, ipc, uts (podman's --share). */
  share: ("net" | "ipc" | "uts")[];
  /** --network of the infra: bridge or a user network. */
  network: string;
  /** -p, as given; published on the infra container. */
  publish: string[];
  /** The infra container's id. */
  infraId: string;
  /** Memory-backed directories under the pod's data directory (tmpfs.ts), with their size in bytes. */
  tmpfs?: { dir: string; size: number }[];
  /** Volume subPaths bound under the pod's data directory (subpaths.ts): the host directory of the volume, the subPath, the mount point. */
  subPaths?: { volume: string; sub: string; at: string }[];
  /** Set by play kube: the YAML object this pod was made for ("Deployment/web"). */
  kubeOwner?: string;
  /**
   * The stops under way (drain.ts), one entry each: while one of their processes lives, the pod is
   * no Service's endpoint. A record written before there could be several holds one object.
   */
  terminating?: Stopper[] | Stopper;
}

/** One stop of the pod: its process (checked by start time) and a token telling two stops of one process apart. */
export interface Stopper {
  pid: number;
  startTime?: number;
  token?: string;
}

export function podsDir(root: string): string {
  return path.join(root, "pods");
}

export function podFile(root: string, id: string): string {
  if (!/^[a-f0-9]{64}$/.test(id)) throw new NotFoundError(`No such pod: ${id}`);
  return path.join(podsDir(root), `${id}.json`);
}

/** Files that belong to the pod (play kube's volumes): removed with it. */
export function podDataDir(root: string, id: string): string {
  return `${podFile(root, id).slice(0, -".json".length)}.d`;
}

/** durable false: the caller has the file and podsDir synced later (pod create: by the infra's pause process). */
export function savePod(root: string, pod: PodRecord, durable = true): void {
  fs.mkdirSync(podsDir(root), { recursive: true, mode: 0o700 });
  writeFileAtomic(podFile(root, pod.id), `${JSON.stringify(pod, null, 2)}\n`, 0o600, durable);
}

export function deletePod(root: string, id: string): void {
  // A mount left under it (a subPath bound from a hostPath, a tmpfs) would be emptied by the removal.
  const left = mountsUnder(podDataDir(root, id));
  if (left.length) throw new FailedPreconditionError(`Cannot remove pod ${id.slice(0, 12)}'s files: ${left[0]} is still mounted`);
  fs.rmSync(podDataDir(root, id), { recursive: true, force: true });
  fs.rmSync(podFile(root, id), { force: true });
}

export function listPods(root: string): PodRecord[] {
  const names = dirNames(podsDir(root));
  const out: PodRecord[] = [];
  for (const n of names.sort()) {
    if (!/^[a-f0-9]{64}\.json$/.test(n)) continue;
    try {
      const pod = readJson<PodRecord>(path.join(podsDir(root), n));
      if (pod) out.push(pod);
    } catch {}
  }
  return out;
}

/** By full name, full id or a unique id prefix, as containers are found. */
export function findPod(root: string, ref: string): PodRecord {
  const all = listPods(root);
  const byName = all.find((p) => p.name === ref);
  if (byName) return byName;
  const byId = all.filter((p) => p.id.startsWith(ref));
  if (ref.length > 0 && byId.length === 1) return byId[0]!;
  if (byId.length > 1) throw new FailedPreconditionError(`Cannot find pod "${ref}": more than one pod has an id starting with it`);
  throw new NotFoundError(`no pod with name or ID ${ref} found: no such pod`);
}

/** Names as containers': [a-zA-Z0-9][a-zA-Z0-9_.-]*, unique among pods. */
export function checkPodNameFree(root: string, name: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new FailedPreconditionError(`Invalid pod name "${name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (listPods(root).some((p) => p.name === name)) throw new AlreadyExistsError(`Cannot create pod "${name}": the name is already in use`);
}
