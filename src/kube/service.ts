// play kube's Services: recorded under the root (pod/services.ts, which keeps their endpoints equal
// to the selected pods afterwards) and applied to the kernel (network/services.ts), so that --down
// and a later play know which rules are theirs. Their names carry the root's owner key and their
// ClusterIPs are unique among every root's Services in the network namespace (allocated under its
// host-wide lock): two roots playing the same YAML neither collide nor remove each other's.
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import { lockHostNet } from "../network/hostnet.ts";
import { clusterIpOf } from "../network/service-rules.ts";
import { applyService, removeService } from "../network/services.ts";
import { bridgesOf, currentNetns, deleteServiceRecord, ownerOf, readService, saveService, selectedEndpoints, syncGuards, takenClusterIps, takenNodePorts, type ServiceRecord } from "../pod/services.ts";
import { registerRoot } from "../store/owners.ts";
import type { KubeService } from "./translate.ts";

export async function applyServices(ctx: Ctx, services: KubeService[]): Promise<void> {
  for (const svc of services) {
    if (readService(ctx.root, svc.name)) throw new InvalidArgumentError(`Cannot play Service "${svc.name}": it exists (use --replace or --down)`);
  }
  const owner = ownerOf(ctx);
  // Known to the other roots (their ClusterIPs and node ports skip this root's) even with no pod.
  registerRoot(ctx);
  const lock = await lockHostNet(ctx);
  try {
    const taken = takenClusterIps(ctx);
    const netns = currentNetns();
    const ports = takenNodePorts(ctx, netns);
    for (const svc of services) {
      for (const p of svc.ports) {
        const by = p.nodePort !== undefined ? ports.get(`${p.nodePort}/${p.protocol}`) : undefined;
        if (by) throw new InvalidArgumentError(`Cannot play Service "${svc.name}": nodePort ${p.nodePort}/${p.protocol.toUpperCase()} is taken by ${by}`);
      }
    }
    for (const svc of services) {
      const spec = { ...svc, owner };
      const clusterIp = clusterIpOf(spec, taken);
      taken.add(clusterIp);
      const eps = selectedEndpoints(ctx, svc.selector);
      const endpoints = eps.map((e) => e.ip);
      // Recorded first: an apply cut short leaves a record for --down to clean up after.
      const rec: ServiceRecord = { ...spec, clusterIp, endpoints, bridges: bridgesOf(eps), netns };
      saveService(ctx.root, rec);
      try {
        applyService(rec, clusterIp, endpoints);
      } catch (err) {
        deleteServiceRecord(ctx.root, svc.name); // the batch is one transaction: nothing of it went in
        throw err;
      }
    }
    await syncGuards(ctx);
  } finally {
    lock.release();
  }
}

export async function removeServices(ctx: Ctx, services: KubeService[]): Promise<string[]> {
  const removed: string[] = [];
  const lock = await lockHostNet(ctx);
  try {
    for (const svc of services) {
      const rec = readService(ctx.root, svc.name);
      if (!rec) continue;
      removeService(rec);
      deleteServiceRecord(ctx.root, svc.name);
      removed.push(svc.name);
    }
    if (removed.length > 0) await syncGuards(ctx);
  } finally {
    lock.release();
  }
  return removed;
}
