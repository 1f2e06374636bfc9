// A container's network, from `--network` to a configured namespace: netns file, bridge, veth
// pair, lease, /etc/hosts and /etc/resolv.conf; and the way back. The lifecycle calls
// attachNetwork (run), detachNetwork (stop, rm, cleanup) and reconcileNetworks (reconcile); the
// other exports serve `network rm/prune/inspect` and connect.ts.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { errnoCode, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionError } from "../errors.ts";
import { containerPaths, containersDir, findContainer, listContainers } from "../store/containers.ts";
import { containerResolvConf, hostsFile, parseExtraHost, type ExtraHost, type HostsPeer } from "./dns.ts";
import { runUndo } from "../undo.ts";
import { foreignIds } from "../store/owners.ts";
import { addressClaims, claimAddress, forgetBridge, lockHostNet, lockHostNetSync, recordBridge, recordedBridges, releaseAddress } from "./hostnet.ts";
import { allocate, readLeases, reconcileLeases, release, type AllocateRequest, type Lease } from "./ipam.ts";
import { RouteSocket, withRouteSocket } from "./link.ts";
import { applyMasquerade, enableIpForward, type BridgeNet } from "./masquerade.ts";
import { attachLocal, readHostFile, type AttachRequest, type EndpointRecord, type NetworkSettingsRecord } from "./local.ts";
import { parseNetworkMode } from "./mode.ts";
import { formatMac, macForIp } from "./netlink.ts";
import { createNetns, listNetnsFiles, netnsPath, removeNetns } from "./netns.ts";
import { findNetwork, lockNetwork, lockNetworkSync, networkPaths, networksDir, PREDEFINED, type NetworkRecord } from "./networks.ts";
import { parseCidr } from "./subnet.ts";

export type { AttachRequest, EndpointRecord, NetworkSettingsRecord } from "./local.ts";


export function hostVethName(id: string): string {
  return `td${id.slice(0, 11)}`;
}

export const alive = (root: string) => (id: string) => /^[a-f0-9]{64}$/.test(id) && fs.existsSync(path.join(containersDir(root), id));


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

/** Whether containers on this network see each other by name (user networks, as Docker). */
const resolvesNames = (net: NetworkRecord) => net.name !== "bridge";

function peerNames(l: Lease): string[] {
  return [l.name, ...l.aliases, l.id.slice(0, 12)];
}

interface LeaseBody {
  id: string;
  name: string;
  hostname: string;
  aliases: string[];
  extraHosts: ExtraHost[];
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
    const rec = readNetworkRecord(ctx.root, name);
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

function readNetworkRecord(root: string, name: string): NetworkRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(networkPaths(root, name).record, "utf8")) as NetworkRecord;
  } catch {
    return undefined;
  }
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

/**
 * The bridges of this netns, every root's (recorded host-wide before they come up), for the NAT
 * chains: a root rewriting them from its own networks alone would cut off another root's.
 */
function activeBridges(ctx: Ctx): BridgeNet[] {
  return withRouteSocket(ctx.sys, null, (s) => recordedBridges(ctx, (b) => s.link(b) !== null));
}

/** NAT chains rewritten by one process at a time (two bridges coming up at once, in any root). */
async function syncNatRules(ctx: Ctx): Promise<void> {
  const lock = await lockHostNet(ctx);
  try {
    applyMasquerade(activeBridges(ctx));
  } finally {
    lock.release();
  }
}

const IFF_UP = 1;

/** Makes the network's bridge (with address, NAT and forwarding) unless it is up already. */
export async function ensureBridge(ctx: Ctx, sock: RouteSocket, net: NetworkRecord): Promise<number> {
  const name = net.bridge!;
  const have = sock.link(name);
  if (have && have.flags & IFF_UP) return have.index;
  const { subnet } = parseCidr(net.subnet!);
  sock.createBridge({ name, gateway: net.gateway!, prefixLen: subnet.prefixLen, mtu: ctx.config.mtu });
  recordBridge(ctx, name, net.subnet!);
  await syncNatRules(ctx);
  enableIpForward();
  const index = sock.index(name);
  sock.setUp(index, name);
  return index;
}

/** What state.json keeps of a container's endpoint on a bridge network. */
export function endpointRecord(
  net: NetworkRecord,
  e: { ip: string; prefixLen: number; mac: Uint8Array; veth: string; aliases: string[] },
): EndpointRecord {
  return {
    networkName: net.name,
    networkId: net.id,
    ipAddress: e.ip,
    prefixLen: e.prefixLen,
    subnet: net.subnet!,
    gateway: net.gateway!,
    macAddress: formatMac(e.mac),
    bridge: net.bridge!,
    hostVeth: e.veth,
    aliases: e.aliases,
  };
}

/**
 * A veth pair on the network's bridge (made if missing), its peer `iface` created straight in the
 * namespace of `nsFile`; its removal goes on `undo`.
 */
export async function createEndpointLink(
  ctx: Ctx,
  net: NetworkRecord,
  nsFile: string,
  link: { veth: string; iface: string; mac: Uint8Array; mtu: number },
  undo: (() => void)[],
): Promise<void> {
  const sock = new RouteSocket(ctx.sys, null);
  try {
    const master = await ensureBridge(ctx, sock, net);
    const nsFd = fs.openSync(nsFile, "r");
    try {
      sock.createVeth({ name: link.veth, mtu: link.mtu, master, up: true }, { name: link.iface, mtu: link.mtu, mac: link.mac, netnsFd: nsFd });
    } finally {
      fs.closeSync(nsFd);
    }
    undo.push(() => withRouteSocket(ctx.sys, null, (s) => s.deleteLink(link.veth)));
  } finally {
    sock.close();
  }
}

/** The live pid of a container, from run.json (the supervisor's) or the record. */
function containerPid(ctx: Ctx, id: string, recordPid: number): number {
  let pid = recordPid;
  try {
    const run = JSON.parse(fs.readFileSync(path.join(containerPaths(ctx.root, id).dir, "run.json"), "utf8")) as { status?: string; pid?: number };
    pid = run.status === "running" && run.pid ? run.pid : 0;
  } catch {}
  return pid > 0 && fs.existsSync(`/proc/${pid}/ns/net`) ? pid : 0;
}

export function isMountedNetns(file: string): boolean {
  try {
    return fs.statSync(file).ino !== 0 && fs.statfsSync(file).type === 0x6e736673; // NSFS_MAGIC
  } catch {
    return false;
  }
}

/**
 * Sets up the container's network and writes containers/<id>/hosts and resolv.conf. The
 * container directory must exist. On failure everything made here is undone.
 */
export async function attachNetwork(ctx: Ctx, req: AttachRequest): Promise<NetworkSettingsRecord> {
  const mode = parseNetworkMode(req.mode);
  const paths = containerPaths(ctx.root, req.id);
  const dnsOpts = { servers: req.dns ?? [], search: req.dnsSearch ?? [], options: req.dnsOptions ?? [] };
  const hostResolv = readHostFile("/etc/resolv.conf");
  const aliases = req.aliases ?? [];
  const userAliases = aliases.length > 0;

  if (mode.kind === "none" || mode.kind === "host") return attachLocal(ctx, req);

  if (mode.kind === "container") {
    if (userAliases) throw new InvalidArgumentError("network-scoped alias is supported only for containers in user defined networks");
    if ((req.extraHosts ?? []).length || dnsOpts.servers.length || dnsOpts.search.length || dnsOpts.options.length) {
      throw new InvalidArgumentError("conflicting options: custom DNS and --add-host cannot be used with --network container:");
    }
    const target = findContainer(ctx.root, mode.ref);
    if (target.id === req.id) throw new InvalidArgumentError("cannot join own network");
    const file = netnsPath(ctx.root, target.id);
    let join: string;
    if (isMountedNetns(file)) join = file;
    else {
      const pid = containerPid(ctx, target.id, target.state?.pid ?? 0);
      if (!pid) throw new FailedPreconditionError(`cannot join network of a non running container: ${target.id}`);
      join = `/proc/${pid}/ns/net`;
    }
    // The very files of the container whose network this is (Docker shares them too): symlinks,
    // which the bind mount resolves, so this container sees the in-place rewrites as peers come and go.
    const tp = containerPaths(ctx.root, target.id);
    for (const [mine, theirs] of [
      [paths.hosts, tp.hosts],
      [paths.resolvConf, tp.resolvConf],
    ] as const) {
      fs.rmSync(mine, { force: true });
      fs.symlinkSync(theirs, mine);
    }
    return { mode: `container:${target.id}`, netns: "join", joinNamespaces: [{ ns: "net", path: join }] };
  }

  const net = findNetwork(ctx, mode.name);
  if (net.driver !== "bridge") return attachNetwork(ctx, { ...req, mode: net.driver === "host" ? "host" : "none" });
  if (userAliases && !resolvesNames(net)) {
    throw new InvalidArgumentError("network-scoped alias is supported only for containers in user defined networks");
  }
  if (req.ip !== undefined && !resolvesNames(net)) throw new InvalidArgumentError("user specified IP address is supported on user defined networks only");
  const extraHosts = (req.extraHosts ?? []).map((h) => parseExtraHost(h, net.gateway));
  const np = networkPaths(ctx.root, net.name);
  const { subnet } = parseCidr(net.subnet!);
  const undo: (() => void)[] = [];
  const lock = await lockNetwork(ctx, net.name);
  try {
    // The network may have been removed while this waited for its lock.
    if (!fs.existsSync(np.record)) throw new NotFoundError(`network ${net.name} not found`);
    const body: LeaseBody = { id: req.id, name: req.name, hostname: req.hostname, aliases, extraHosts };
    const ip = await allocateShared(ctx, net, np.leases, {
      subnet,
      gateway: parseCidr(`${net.gateway}/${subnet.prefixLen}`).ip,
      lease: body,
      ...(req.ip !== undefined ? { ip: req.ip } : {}),
      alive: alive(ctx.root),
    });
    undo.push(() => releaseShared(ctx, net, np.leases, ip, req.id));

    const nsFile = createNetns(ctx.sys, ctx.root, req.id);
    undo.push(() => removeNetns(ctx.sys, nsFile));
    const veth = hostVethName(req.id);
    const mac = macForIp(ip);
    const mtu = ctx.config.mtu;

    await createEndpointLink(ctx, net, nsFile, { veth, iface: "eth0", mac, mtu }, undo);

    withRouteSocket(ctx.sys, nsFile, (s) => {
      s.setUp(1, "lo");
      const eth0 = s.index("eth0");
      s.addAddress(eth0, "eth0", ip, subnet.prefixLen);
      s.setUp(eth0, "eth0");
      s.addDefaultRoute(net.gateway!);
    });

    const leases = readLeases(np.leases);
    fs.writeFileSync(paths.hosts, hostsForContainer(ctx, req.id) ?? hostsFile(req.hostname, { ip, extraHosts }), { mode: 0o644 });
    fs.writeFileSync(paths.resolvConf, containerResolvConf(hostResolv, dnsOpts), { mode: 0o644 });
    rewriteMembersHosts(ctx, net, leases, req.id);

    return {
      mode: net.name,
      netns: "join",
      joinNamespaces: [{ ns: "net", path: nsFile }],
      netnsPath: nsFile,
      endpoint: endpointRecord(net, { ip, prefixLen: subnet.prefixLen, mac, veth, aliases }),
      ...(extraHosts.length ? { extraHosts } : {}),
    };
  } catch (err) {
    runUndo(undo, ctx.log.warn, `undo network setup of ${req.id.slice(0, 12)}`);
    throw err;
  } finally {
    lock.release();
  }
}

/**
 * Undoes attachNetwork: veth, netns file, lease, and the peers' hosts files. Idempotent; without
 * a record (a run killed before it saved one) it finds what the id left behind.
 */
export function detachNetwork(ctx: Ctx, id: string, record?: NetworkSettingsRecord): void {
  if (record && record.netns !== "join") return;
  if (record && !record.endpoint && !record.netnsPath) return; // container: mode owns nothing
  const veth = record?.endpoint?.hostVeth ?? hostVethName(id);
  const nsFile = record?.netnsPath ?? netnsPath(ctx.root, id);
  const names = networkNames(ctx.root); // network connect may have added leases on others
  // Deleting a veth waits for the kernel (15-40 ms measured here); once the netns file is gone and
  // the container's processes with it, the kernel deletes the pair on its own, in the background.
  // A netns something else still holds (an exec, a container: sharer) keeps its veth until then;
  // reconcileNetworks deletes orphans for good.
  const mounted = fs.existsSync(nsFile);
  removeNetns(ctx.sys, nsFile);
  if (!mounted) withRouteSocket(ctx.sys, null, (s) => s.deleteLink(veth));
  for (const name of names) {
    const np = networkPaths(ctx.root, name);
    if (!fs.existsSync(np.record)) continue;
    const mine = readLeases(np.leases).filter((l) => l.id === id || (!l.id && record?.endpoint?.ipAddress === l.ip));
    if (!mine.length) continue;
    const lock = lockNetworkSync(ctx, name);
    try {
      const net = JSON.parse(fs.readFileSync(np.record, "utf8")) as NetworkRecord;
      for (const l of mine) releaseShared(ctx, net, np.leases, l.ip, id);
      rewriteMembersHosts(ctx, net, readLeases(np.leases));
    } finally {
      lock.release();
    }
  }
}

/**
 * allocate() with the address also claimed host-wide on the network's bridge (hostnet.ts), so a
 * root sharing the bridge (tinydock0) never hands out an address another root's container has.
 */
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

export function networkNames(root: string): string[] {
  try {
    return fs.readdirSync(networksDir(root)).filter((n) => fs.existsSync(networkPaths(root, n).record));
  } catch {
    return [];
  }
}

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
      const net = JSON.parse(fs.readFileSync(np.record, "utf8")) as NetworkRecord;
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

/** Containers holding a lease on the network (stale leases dropped first). */
export function networkMembers(ctx: Ctx, net: NetworkRecord): Lease[] {
  return reconcileLeases(networkPaths(ctx.root, net.name).leases, alive(ctx.root));
}

/**
 * `network rm`: refused while a container uses it; removes its bridge and NAT rules. With
 * `teardownDefault` (network prune) the default bridge goes as well when unused: its device, its
 * rules and its record (re-made from `bip` on the next run).
 */
export async function removeNetwork(ctx: Ctx, ref: string, opts: { teardownDefault?: boolean } = {}): Promise<NetworkRecord> {
  const net = findNetwork(ctx, ref);
  const isPredefined = (PREDEFINED as readonly string[]).includes(net.name);
  if (isPredefined && !opts.teardownDefault) throw new PermissionError(`${net.name} is a pre-defined network and cannot be removed`);
  const lock = await lockNetwork(ctx, net.name);
  try {
    const members = networkMembers(ctx, net);
    if (members.length) {
      const eps = members.map((m) => `name:"${m.name}" id:"${m.id.slice(0, 12)}"`).join(", ");
      throw new FailedPreconditionError(`error while removing network: network ${net.name} has active endpoints (${eps})`);
    }
    if (net.bridge) {
      const hl = await lockHostNet(ctx);
      try {
        // tinydock0 is every root's: it stays while another root's container holds an address on it.
        if (!addressClaims(ctx, net.bridge).some((c) => c.root !== ctx.root)) {
          withRouteSocket(ctx.sys, null, (s) => s.deleteLink(net.bridge!));
          forgetBridge(ctx, net.bridge);
        }
        // Always: the chains may outlive the records (a root removed or reset while its bridge was up).
        applyMasquerade(activeBridges(ctx));
      } finally {
        hl.release();
      }
    }
    // The default bridge's record goes too, so the next run reads `bip` again (as dockerd at start).
    if (!isPredefined || net.driver === "bridge") fs.rmSync(networkPaths(ctx.root, net.name).dir, { recursive: true, force: true });
    return net;
  } finally {
    lock.release();
  }
}

