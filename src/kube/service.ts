// play kube's Services: recorded under the root (pod/services.ts, which keeps their endpoints equal
// to the selected pods afterwards) and applied to the kernel (network/services.ts), so that --down
// and a later play know which rules are theirs.
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import { lockHostNet } from "../network/hostnet.ts";
import { clusterIpOf } from "../network/service-rules.ts";
import { applyService, removeService } from "../network/services.ts";
import { deleteServiceRecord, endpointsOf, readService, saveService, type ServiceRecord } from "../pod/services.ts";
import type { KubeService } from "./translate.ts";

export async function applyServices(ctx: Ctx, services: KubeService[]): Promise<void> {
  for (const svc of services) {
    if (readService(ctx.root, svc.name)) throw new InvalidArgumentError(`Cannot play Service "${svc.name}": it exists (use --replace or --down)`);
  }
  const lock = await lockHostNet(ctx);
  try {
    for (const svc of services) {
      const clusterIp = clusterIpOf(svc.name);
      const endpoints = endpointsOf(ctx, svc.selector);
      // Recorded first: an apply cut short leaves a record for --down to clean up after.
      const rec: ServiceRecord = { ...svc, clusterIp, endpoints };
      saveService(ctx.root, rec);
      try {
        applyService(svc, clusterIp, endpoints);
      } catch (err) {
        deleteServiceRecord(ctx.root, svc.name); // the batch is one transaction: nothing of it went in
        throw err;
      }
    }
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
  } finally {
    lock.release();
  }
  return removed;
}
