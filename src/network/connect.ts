// `network connect` / `network disconnect`: one more endpoint (eth1, eth2…) in a running
// container's netns file, or one less. The container's own netns file makes this cheap: the veth's
// peer is created straight into it, and it dies with it.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.ts";
import { containerPaths, findContainer, lockContainer, saveContainer } from "../store/containers.ts";
import type { NetworkConnect } from "../store/network-record.ts";
import { alive, allocateShared, releaseShared } from "./addresses.ts";
import { addLinkLocalIps, ipamConfigOf } from "./attach.ts";
import { hostsForContainer, rewriteInPlace, rewriteMembersHosts } from "./hosts.ts";
import type { EndpointRecord } from "./local.ts";
import { readLeases } from "./ipam.ts";
import { RouteSocket, withRouteSocket } from "./link.ts";
import { formatMac, macForIp } from "./netlink.ts";
import { isMountedNetns, netnsPath } from "./netns.ts";
import { findNetwork, lockNetwork, networkPaths } from "./networks.ts";
import { parseCidr } from "./subnet.ts";
import { createEndpointLink, endpointRecord } from "./veth.ts";
import { runUndo } from "../undo.ts";

/** Host end of an extra endpoint: td + 11 hex of a hash of container and network (15 chars max). */
export function extraVethName(id: string, networkId: string): string {
  return `tx${new Bun.CryptoHasher("sha256").update(`${id}/${networkId}`).digest("hex").slice(0, 11)}`;
}

type ConnectOptions = { aliases?: string[]; ip?: string; linkLocalIps?: string[] };

/**
 * One more endpoint in a running container's netns, or, for one not running (created, exited: no
 * netns of its own until its start), the network recorded for its next start as Docker does;
 * undefined then. Either way kept in networkOptions.connects for the starts after.
 */
export async function connectNetwork(ctx: Ctx, ref: string, network: string, opts: ConnectOptions = {}): Promise<EndpointRecord | undefined> {
  const c = findContainer(ctx.root, ref);
  const net = findNetwork(ctx, network);
  if (net.driver !== "bridge") throw new FailedPreconditionError(`container cannot be disconnected from host network or connected to host network`);
  const nsFile = netnsPath(ctx.root, c.id);
  const mode = c.networkOptions?.mode ?? c.network?.mode;
  const ownNetns = mode !== undefined && !["host", "none"].includes(mode) && !mode.startsWith("container:");
  if (!isMountedNetns(nsFile)) {
    if (!ownNetns) throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} is not running on a bridge network: its network namespace cannot take another endpoint`);
    await connectAtStart(ctx, c.id, net, opts);
    return undefined;
  }
  const np = networkPaths(ctx.root, net.name);
  const { subnet } = parseCidr(net.subnet!);
  const lock = await lockNetwork(ctx, net.name);
  const undo: (() => void)[] = [];
  try {
    if (readLeases(np.leases).some((l) => l.id === c.id)) throw new AlreadyExistsError(`endpoint with name ${c.name} already exists in network ${net.name}`);
    const ip = await allocateShared(ctx, net, np.leases, {
      subnet,
      gateway: parseCidr(`${net.gateway}/${subnet.prefixLen}`).ip,
      lease: { id: c.id, name: c.name, hostname: c.hostname, aliases: opts.aliases ?? [] },
      ...(opts.ip !== undefined ? { ip: opts.ip } : {}),
      alive: alive(ctx.root),
    });
    undo.push(() => releaseShared(ctx, net, np.leases, ip, c.id));
    const veth = extraVethName(c.id, net.id);
    const mac = macForIp(ip);
    const iface = withRouteSocket(ctx.sys, nsFile, (s) => {
      const names = new Set(s.links().map((l) => l.name));
      for (let i = 1; i < 100; i++) if (!names.has(`eth${i}`)) return `eth${i}`;
      throw new InvalidArgumentError("too many network interfaces");
    });
    await createEndpointLink(ctx, net, nsFile, { veth, iface, mac, mtu: ctx.config.mtu }, undo);
    withRouteSocket(ctx.sys, nsFile, (s) => {
      const index = s.index(iface);
      s.addAddress(index, iface, ip, subnet.prefixLen);
      addLinkLocalIps(s, index, iface, opts.linkLocalIps);
      s.setUp(index, iface);
    });
    const text = hostsForContainer(ctx, c.id);
    if (text !== null) rewriteInPlace(containerPaths(ctx.root, c.id).hosts, text);
    rewriteMembersHosts(ctx, net, readLeases(np.leases), c.id);
    const ep = { ...endpointRecord(net, { ip, prefixLen: subnet.prefixLen, mac, veth, aliases: opts.aliases ?? [] }), ...ipamConfigOf(opts.ip, opts.linkLocalIps) };
    if (c.network) c.network.extraEndpoints = [...(c.network.extraEndpoints ?? []), ep];
    if (c.networkOptions && !c.networkOptions.connects?.some((x) => x.network === net.name)) {
      c.networkOptions.connects = [...(c.networkOptions.connects ?? []), connectOf(net, opts)];
    }
    if (c.network || c.networkOptions) saveContainer(ctx.root, c);
    return ep;
  } catch (err) {
    runUndo(undo, ctx.log.warn, `undo network connect of ${c.id.slice(0, 12)}`);
    throw err;
  } finally {
    lock.release();
  }
}

function connectOf(net: { name: string; id: string }, opts: ConnectOptions): NetworkConnect {
  return { network: net.name, networkId: net.id, aliases: opts.aliases ?? [], ...(opts.ip !== undefined ? { ip: opts.ip } : {}), ...(opts.linkLocalIps?.length ? { linkLocalIps: opts.linkLocalIps } : {}) };
}

/** A container not running: the network recorded, under its lock (a start may be reading it). */
async function connectAtStart(ctx: Ctx, id: string, net: { name: string; id: string }, opts: ConnectOptions): Promise<void> {
  const lock = await lockContainer(ctx, id);
  try {
    const c = findContainer(ctx.root, id);
    if (isMountedNetns(netnsPath(ctx.root, c.id))) throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} was started meanwhile: connect it again`);
    const o = c.networkOptions!;
    if (o.mode === net.name || o.connects?.some((x) => x.network === net.name)) throw new AlreadyExistsError(`endpoint with name ${c.name} already exists in network ${net.name}`);
    o.connects = [...(o.connects ?? []), connectOf(net, opts)];
    saveContainer(ctx.root, c);
  } finally {
    lock.release();
  }
}

export async function disconnectNetwork(ctx: Ctx, ref: string, network: string): Promise<void> {
  const c = findContainer(ctx.root, ref);
  const net = findNetwork(ctx, network);
  const np = networkPaths(ctx.root, net.name);
  const lock = await lockNetwork(ctx, net.name);
  try {
    const mine = readLeases(np.leases).filter((l) => l.id === c.id);
    const recorded = c.networkOptions?.connects?.some((x) => x.network === net.name) === true;
    if (recorded) c.networkOptions!.connects = c.networkOptions!.connects!.filter((x) => x.network !== net.name);
    if (!mine.length && recorded) {
      // Not running: no endpoint to delete, the released one's name goes from inspect.
      if (c.network) c.network.extraEndpoints = (c.network.extraEndpoints ?? []).filter((e) => e.networkName !== net.name);
      return void saveContainer(ctx.root, c);
    }
    if (!mine.length) throw new NotFoundError(`container ${c.id} is not connected to network ${net.name}`);
    const primary = c.network?.endpoint?.networkName === net.name;
    withRouteSocket(ctx.sys, null, (s) => s.deleteLink(primary ? c.network!.endpoint!.hostVeth : extraVethName(c.id, net.id)));
    for (const l of mine) releaseShared(ctx, net, np.leases, l.ip, c.id);
    const text = hostsForContainer(ctx, c.id);
    if (text !== null) rewriteInPlace(containerPaths(ctx.root, c.id).hosts, text);
    rewriteMembersHosts(ctx, net, readLeases(np.leases));
    if (c.network) {
      if (primary) delete c.network.endpoint;
      c.network.extraEndpoints = (c.network.extraEndpoints ?? []).filter((e) => e.networkName !== net.name);
    }
    if (c.network || recorded) saveContainer(ctx.root, c);
  } finally {
    lock.release();
  }
}
