// The /etc/hosts of containers on bridge networks, built from the networks' leases: each
// container's own addresses and names and, on user networks, its peers by name, alias and short id.
// Rewritten in place whenever a member comes or goes.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { errnoCode } from "../errors.ts";
import { containerPaths } from "../store/containers.ts";
import { hostsFile, type HostsPeer } from "./dns.ts";
import { readLeases, type Lease } from "./ipam.ts";
import { networkNames, networkPaths, readNetworkRecord, type NetworkRecord } from "./networks.ts";

/** Whether containers on this network see each other by name (user networks, as Docker). */
export const resolvesNames = (net: NetworkRecord) => net.name !== "bridge";

/** Truncate and write, keeping the inode: the file is bind-mounted into a running container. */
export function rewriteInPlace(file: string, text: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, "r+");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return; // its container is being removed
    throw err;
  }
  try {
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, text, 0);
  } finally {
    fs.closeSync(fd);
  }
}

function peerNames(l: Lease): string[] {
  return [l.name, ...l.aliases, l.id.slice(0, 12)];
}

/**
 * A container's hosts file from every network it is on: its own address (the first network's) with
 * its names, and on user networks the other members by name, alias and short id.
 */
export function hostsForContainer(ctx: Ctx, id: string): string | null {
  const own: Lease[] = [];
  const leasedAt = new Map<Lease, number>();
  const peers: HostsPeer[] = [];
  let named = false;
  for (const name of networkNames(ctx.root)) {
    let rec: NetworkRecord | undefined;
    try {
      rec = readNetworkRecord(ctx.root, name);
    } catch {
      continue; // a predefined record still being written (O_EXCL, no rename) holds no lease yet
    }
    if (!rec) continue;
    const leases = readLeases(networkPaths(ctx.root, name).leases);
    const mine = leases.find((l) => l.id === id);
    if (!mine) continue;
    own.push(mine);
    leasedAt.set(mine, fs.statSync(path.join(networkPaths(ctx.root, name).leases, mine.ip), { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if (!resolvesNames(rec)) continue;
    named = true;
    for (const o of leases) if (o.id && o.id !== id) peers.push({ ip: o.ip, names: peerNames(o) });
  }
  // The first network it joined (its eth0) comes first.
  own.sort((a, b) => leasedAt.get(a)! - leasedAt.get(b)!);
  const first = own[0];
  if (!first) return null;
  const aliases = named ? [first.name, ...own.flatMap((l) => l.aliases)] : [];
  // More addresses of its own (network connect): listed under its names too.
  const more = own.slice(1).map((l) => ({ ip: l.ip, names: [first.hostname, l.name, ...l.aliases] }));
  return hostsFile(first.hostname, { ip: first.ip, aliases, extraHosts: first.extraHosts ?? [], peers: [...more, ...peers] });
}

/** Every member's hosts file, rewritten from the leases (under the network's lock). */
export function rewriteMembersHosts(ctx: Ctx, net: NetworkRecord, leases: Lease[], except?: string): void {
  if (!resolvesNames(net)) return;
  for (const l of leases) {
    if (l.id === except || !l.id) continue;
    const text = hostsForContainer(ctx, l.id);
    if (text !== null) rewriteInPlace(containerPaths(ctx.root, l.id).hosts, text);
  }
}
