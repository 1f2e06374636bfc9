// Services over pods: their records under the root's kube/services/ (play kube makes them), the
// endpoints a selector picks, and the kernel's DNAT rules kept equal to them. There is no daemon:
// every verb that changes a pod's life (create, start, stop, rm) calls syncServices when it is
// done, as natsync.ts rewrites the NAT chains when a bridge comes or goes.
import fs from "node:fs";
import path from "node:path";
import { readJson, writeFileAtomic } from "../atomic.ts";
import type { Ctx } from "../context.ts";
import { listLive, type LiveContainer } from "../lifecycle/live.ts";
import { lockHostNet } from "../network/hostnet.ts";
import type { ServiceSpec } from "../network/service-rules.ts";
import { listPods, type PodRecord } from "./store.ts";

export interface ServiceRecord extends ServiceSpec {
  selector: Record<string, string>;
  clusterIp: string;
  /** The pod addresses the rules DNAT to now. */
  endpoints: string[];
}

export function servicesDir(root: string): string {
  return path.join(root, "kube", "services");
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

function serviceNames(root: string): string[] {
  try {
    return fs.readdirSync(servicesDir(root)).filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -".json".length)).sort();
  } catch {
    return [];
  }
}

/** Which pods a selector picks: every label of it, equal. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * Whether a selected pod takes traffic, and at which address: the one place endpoints are chosen.
 * Now: its infra runs (the pod has its network). A readiness check (probes) belongs here too.
 */
export function podEndpoint(pod: PodRecord, live: LiveContainer[]): string | undefined {
  const infra = live.find((c) => c.record.id === pod.infraId);
  return infra?.state.Running ? infra.record.network?.endpoint?.ipAddress : undefined;
}

/** The addresses of the pods the selector picks that take traffic, sorted. */
export function endpointsOf(ctx: Ctx, selector: Record<string, string>, live: LiveContainer[] = listLive(ctx)): string[] {
  const out: string[] = [];
  for (const pod of listPods(ctx.root)) {
    if (!selects(selector, pod.labels)) continue;
    const ip = podEndpoint(pod, live);
    if (ip) out.push(ip);
  }
  return out.sort();
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
    for (const name of serviceNames(ctx.root)) {
      const rec = readService(ctx.root, name);
      if (!rec) continue;
      const endpoints = endpointsOf(ctx, rec.selector, live);
      if (endpoints.join(",") === rec.endpoints.join(",")) continue;
      try {
        applyService(rec, rec.clusterIp, endpoints);
        rec.endpoints = endpoints;
        saveService(ctx.root, rec);
      } catch (err) {
        ctx.log.warn(`Service ${name} keeps its old endpoints: ${(err as Error).message}`);
      }
    }
  } finally {
    lock.release();
  }
}
