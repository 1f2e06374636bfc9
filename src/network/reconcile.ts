// What containers that no longer exist left behind in the network stage: netns files, td… veths
// and leases (with their host-wide claims and the peers' hosts files).
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { containersDir } from "../store/containers.ts";
import { foreignIds } from "../store/owners.ts";
import { alive, releaseShared } from "./addresses.ts";
import { rewriteMembersHosts } from "./hosts.ts";
import { readLeases, reconcileLeases } from "./ipam.ts";
import { withRouteSocket } from "./link.ts";
import { listNetnsFiles, netnsPath, removeNetns } from "./netns.ts";
import { lockNetwork, networkNames, networkPaths, readNetworkRecord } from "./networks.ts";

export interface ReconcileReport {
  netns: string[];
  veths: string[];
  leases: string[];
}

/** Removes what containers that no longer exist left behind: netns files, td… veths, leases. */
export async function reconcileNetworks(ctx: Ctx, keep?: ReadonlySet<string>): Promise<ReconcileReport> {
  // Alive: in `keep` (the lifecycle's reconcile knows), else: its container directory exists.
  const isAlive = keep ? (id: string) => keep.has(id) : alive(ctx.root);
  const report: ReconcileReport = { netns: [], veths: [], leases: [] };
  // veths first: removing a netns file lets the kernel delete its veth on its own, later.
  let ids: string[] = [];
  try {
    ids = fs.readdirSync(containersDir(ctx.root));
  } catch {}
  // Another root's containers have td… veths in the same netns: theirs to remove.
  const foreign = [...foreignIds(ctx)];
  withRouteSocket(ctx.sys, null, (s) => {
    for (const l of s.links()) {
      const m = /^td([a-f0-9]{11})$/.exec(l.name);
      if (!m || ids.some((id) => id.startsWith(m[1]!) && isAlive(id)) || foreign.some((id) => id.startsWith(m[1]!))) continue;
      if (s.deleteLink(l.name)) report.veths.push(l.name);
    }
  });
  for (const id of listNetnsFiles(ctx.root)) {
    if (isAlive(id)) continue;
    removeNetns(ctx.sys, netnsPath(ctx.root, id));
    report.netns.push(id);
  }
  for (const name of networkNames(ctx.root)) {
    const np = networkPaths(ctx.root, name);
    const before = readLeases(np.leases);
    if (before.every((l) => l.id && isAlive(l.id))) continue;
    const lock = await lockNetwork(ctx, name);
    try {
      const kept = reconcileLeases(np.leases, isAlive);
      const net = readNetworkRecord(ctx.root, name);
      if (!net) continue; // removed while this waited for its lock
      for (const l of before) {
        if (kept.some((k) => k.ip === l.ip)) continue;
        report.leases.push(`${name}/${l.ip}`);
        if (net.bridge) releaseShared(ctx, net, np.leases, l.ip, l.id);
      }
      rewriteMembersHosts(ctx, net, kept);
    } finally {
      lock.release();
    }
  }
  return report;
}
