// A container's address on a bridge network: the root's own lease (ipam.ts) and, with it, the
// host-wide claim on the bridge (hostnet.ts), so a root sharing a bridge (tinydock0) never hands
// out an address another root's container has.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { containersDir } from "../store/containers.ts";
import { claimAddress, lockHostNet, lockHostNetSync, releaseAddress } from "./hostnet.ts";
import { allocate, reconcileLeases, release, type AllocateRequest, type Lease } from "./ipam.ts";
import { networkPaths, type NetworkRecord } from "./networks.ts";

/** Whether a lease's holder still exists: its container directory does. */
export const alive = (root: string) => (id: string) => /^[a-f0-9]{64}$/.test(id) && fs.existsSync(path.join(containersDir(root), id));

/** allocate() with the address also claimed host-wide on the network's bridge. */
export async function allocateShared(ctx: Ctx, net: NetworkRecord, leases: string, req: AllocateRequest): Promise<string> {
  const lock = await lockHostNet(ctx);
  try {
    return allocate(leases, { ...req, claim: (ip) => claimAddress(ctx, net.bridge!, ip, ctx.root, req.lease.id) });
  } finally {
    lock.release();
  }
}

/** release() and the host-wide claim with it. */
export function releaseShared(ctx: Ctx, net: NetworkRecord, leases: string, ip: string, id: string): void {
  release(leases, ip, id);
  if (!net.bridge) return;
  const lock = lockHostNetSync(ctx);
  try {
    releaseAddress(ctx, net.bridge, ip, id);
  } finally {
    lock.release();
  }
}

/** Containers holding a lease on the network (stale leases dropped first). */
export function networkMembers(ctx: Ctx, net: NetworkRecord): Lease[] {
  return reconcileLeases(networkPaths(ctx.root, net.name).leases, alive(ctx.root));
}
