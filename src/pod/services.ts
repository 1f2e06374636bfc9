// Services over pods: their records under the root's kube/services/ (play kube makes them), the
// endpoints a selector picks, and the kernel's DNAT rules kept equal to them. There is no daemon:
// every verb that changes a pod's life (create, start, stop, rm) calls syncServices when it is
// done, as natsync.ts rewrites the NAT chains when a bridge comes or goes; and the monitor of a
// pod's container runs `kube sync-services` (hidden) when the container starts or ends, or its
// readiness flips (lifecycle/monitor.ts servicesHook).
import fs from "node:fs";
import path from "node:path";
import { readJson, writeFileAtomic } from "../atomic.ts";
import type { Ctx } from "../context.ts";
import { listLive, type LiveContainer } from "../lifecycle/live.ts";
import { lockHostNet } from "../network/hostnet.ts";
import { SERVICE_GUARD_PREFIX } from "../network/rules.ts";
import { serviceOwner, servicesDir, type ServiceSpec } from "../network/service-rules.ts";
import { otherRoots, rootKey } from "../store/owners.ts";
import { isDraining } from "./drain.ts";
import { listPods, type PodRecord } from "./store.ts";

export { servicesDir };

export interface ServiceRecord extends ServiceSpec {
  selector: Record<string, string>;
  clusterIp: string;
  /** The pod addresses the rules DNAT to now. */
  endpoints: string[];
  /** The bridges those pods are on: a NodePort Service guards them to answer on 127.0.0.1. */
  bridges?: string[];
  /** The network namespace its rules are in (/proc/self/ns/net's link): where its node ports are taken. */
  netns?: string;
}

/** One pod taking traffic: its address, and the bridge it is on. */
export interface Endpoint {
  ip: string;
  bridge: string;
}

function recordFile(root: string, name: string): string {
  return path.join(servicesDir(root), `${name}.json`);
}

export function readService(root: string, name: string): ServiceRecord | undefined {
  return readJson<ServiceRecord>(recordFile(root, name));
}

export function saveService(root: string, rec: ServiceRecord): void {
  fs.mkdirSync(servicesDir(root), { recursive: true, mode: 0o700 });
  writeFileAtomic(recordFile(root, rec.name), `${JSON.stringify(rec)}\n`);
}

export function deleteServiceRecord(root: string, name: string): void {
  fs.rmSync(recordFile(root, name), { force: true });
}

export function serviceNames(root: string): string[] {
  try {
    return fs.readdirSync(servicesDir(root)).filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -".json".length)).sort();
  } catch {
    return [];
  }
}

/** This root's owner key: what its Services' chains, comments, tables and guards are named by. */
export function ownerOf(ctx: Pick<Ctx, "root">): string {
  return serviceOwner(rootKey(ctx.root));
}

/** The ClusterIPs every root on the host has recorded (the caller holds lockHostNet). */
export function takenClusterIps(ctx: Pick<Ctx, "root" | "execRoot">): Set<string> {
  const out = new Set<string>();
  for (const root of [ctx.root, ...otherRoots(ctx)]) {
    for (const name of serviceNames(root)) {
      try {
        const ip = readService(root, name)?.clusterIp;
        if (ip) out.add(ip);
      } catch {
        // torn or foreign: it names no address
      }
    }
  }
  return out;
}

/** The network namespace this process's rules go into. */
export function currentNetns(): string {
  return fs.readlinkSync("/proc/self/ns/net");
}

/**
 * The node ports ("30080/tcp") the Services of every root have taken in the network namespace
 * `netns`, each with who took it (the caller holds lockHostNet): a second rule for one port would
 * take the first root's traffic.
 */
export function takenNodePorts(ctx: Pick<Ctx, "root" | "execRoot">, netns: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const root of [ctx.root, ...otherRoots(ctx)]) {
    for (const name of serviceNames(root)) {
      let rec: ServiceRecord | undefined;
      try {
        rec = readService(root, name);
      } catch {
        continue; // torn or foreign: it takes no port
      }
      if (rec?.type !== "NodePort" || rec.netns !== netns) continue;
      for (const p of rec.ports) if (p.nodePort !== undefined) out.set(`${p.nodePort}/${p.protocol}`, `Service "${name}"${root === ctx.root ? "" : " of another root"}`);
    }
  }
  return out;
}

/** Which pods a selector picks: every label of it, equal. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * Whether a selected pod takes traffic, and where: the one place endpoints are chosen. As
 * Kubernetes' Ready condition: its infra runs (the pod has its network) and every container of it
 * runs and is ready (its readiness probe passed; one without a probe is ready while it runs),
 * and it is not being stopped.
 */
export function podEndpoint(pod: PodRecord, live: LiveContainer[]): Endpoint | undefined {
  // Terminating (kube-proxy's word): out of the Service before its containers get the stop signal.
  if (isDraining(pod)) return undefined;
  const infra = live.find((c) => c.record.id === pod.infraId);
  const ep = infra?.state.Running ? infra.record.network?.endpoint : undefined;
  if (!ep?.ipAddress) return undefined;
  const members = live.filter((c) => c.record.pod === pod.id && c.record.id !== pod.infraId);
  // Running stays true while a container waits out its restart's back-off (Docker's); ready does not.
  if (!members.every((c) => c.state.Running && !c.state.Restarting && c.ready === true)) return undefined;
  return { ip: ep.ipAddress, bridge: ep.bridge };
}

/** The pods the selector picks that take traffic, sorted by address. */
export function selectedEndpoints(ctx: Ctx, selector: Record<string, string>, live: LiveContainer[] = listLive(ctx)): Endpoint[] {
  const out: Endpoint[] = [];
  for (const pod of listPods(ctx.root)) {
    if (!selects(selector, pod.labels)) continue;
    const ep = podEndpoint(pod, live);
    if (ep) out.push(ep);
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip));
}

/** The addresses of the pods the selector picks that take traffic, sorted. */
export function endpointsOf(ctx: Ctx, selector: Record<string, string>, live?: LiveContainer[]): string[] {
  return selectedEndpoints(ctx, selector, live).map((e) => e.ip);
}

export const bridgesOf = (eps: Endpoint[]): string[] => [...new Set(eps.map((e) => e.bridge))].sort();

/**
 * The localnet guards of this root's NodePort Services: one per bridge their endpoints are on,
 * none once no NodePort Service has endpoints (the caller holds lockHostNet).
 */
export async function syncGuards(ctx: Ctx): Promise<void> {
  const bridges = new Set<string>();
  for (const name of serviceNames(ctx.root)) {
    const rec = readService(ctx.root, name);
    if (rec?.type === "NodePort" && rec.endpoints.length > 0) for (const b of rec.bridges ?? []) bridges.add(b);
  }
  const { syncServiceGuards } = await import("../network/ports.ts");
  syncServiceGuards(ctx, `${SERVICE_GUARD_PREFIX}${ownerOf(ctx)}-`, [...bridges].sort());
}

/**
 * Every Service of the root DNATs to the endpoints its selector picks now: a rule set whose
 * endpoints changed is rewritten (one batch each). Nothing to read, no lock taken, when the root
 * has no Service. A failure is warned about: the pod verb that called it did its work.
 */
export async function syncServices(ctx: Ctx): Promise<void> {
  if (serviceNames(ctx.root).length === 0) return;
  const { applyService } = await import("../network/services.ts");
  const lock = await lockHostNet(ctx);
  try {
    const live = listLive(ctx);
    let changed = false;
    for (const name of serviceNames(ctx.root)) {
      const rec = readService(ctx.root, name);
      if (!rec) continue;
      const eps = selectedEndpoints(ctx, rec.selector, live);
      const endpoints = eps.map((e) => e.ip);
      const bridges = bridgesOf(eps);
      if (endpoints.join(",") === rec.endpoints.join(",") && bridges.join(",") === (rec.bridges ?? []).join(",")) continue;
      try {
        applyService(rec, rec.clusterIp, endpoints);
        Object.assign(rec, { endpoints, bridges });
        saveService(ctx.root, rec);
        changed = true;
      } catch (err) {
        ctx.log.warn(`Service ${name} keeps its old endpoints: ${(err as Error).message}`);
      }
    }
    if (changed) await syncGuards(ctx).catch((err) => ctx.log.warn(`Services' 127.0.0.1 guards: ${(err as Error).message}`));
  } finally {
    lock.release();
  }
}
