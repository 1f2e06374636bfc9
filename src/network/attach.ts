// A container's network, from `--network` to a configured namespace: netns file, bridge, veth
// pair, lease, /etc/hosts and /etc/resolv.conf; and the way back. The lifecycle calls
// attachNetwork (run) and detachNetwork (stop, rm, cleanup).
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.ts";
import { containerPaths, findContainer } from "../store/containers.ts";
import { nsJoinPath, withProcess, type ProcessRef } from "../sys/procfs.ts";
import { runUndo } from "../undo.ts";
import { alive, allocateShared, releaseShared } from "./addresses.ts";
import { containerResolvConf, hostsFile, parseExtraHost, type ExtraHost } from "./dns.ts";
import { hostsForContainer, resolvesNames, rewriteMembersHosts } from "./hosts.ts";
import { readLeases } from "./ipam.ts";
import { withRouteSocket, type RouteSocket } from "./link.ts";
import { attachLocal, readHostFile, type AttachRequest, type EndpointRecord, type NetworkSettingsRecord } from "./local.ts";
import { parseNetworkMode } from "./mode.ts";
import { macForIp } from "./netlink.ts";
import { createNetns, isMountedNetns, netnsPath, removeNetns } from "./netns.ts";
import { findNetwork, lockNetwork, lockNetworkSync, networkNames, networkPaths, readNetworkRecord } from "./networks.ts";
import { parseLinkLocalIp } from "./portspec.ts";
import { parseCidr } from "./subnet.ts";
import { createEndpointLink, endpointRecord, hostVethName } from "./veth.ts";

export type { AttachRequest, EndpointRecord, NetworkSettingsRecord } from "./local.ts";

interface LeaseBody {
  id: string;
  name: string;
  hostname: string;
  aliases: string[];
  extraHosts: ExtraHost[];
}

/**
 * The live process of a container, from run.json (the supervisor's) or the record: only while its
 * supervisor and the very process it recorded (pid and start time) are alive, never a pid that
 * another process took after the container's end.
 */
function containerPid(ctx: Ctx, id: string, recordPid: number): ProcessRef | undefined {
  let pid = recordPid;
  let startTime: number | undefined;
  try {
    const run = JSON.parse(fs.readFileSync(path.join(containerPaths(ctx.root, id).dir, "run.json"), "utf8")) as RunFacts;
    const supervised = !run.monitorPid || withProcess(run.monitorPid, run.monitorStartTime, () => true) === true;
    pid = run.status === "running" && run.pid && supervised ? run.pid : 0;
    startTime = run.pidStartTime;
  } catch {}
  return pid > 0 && withProcess(pid, startTime, (dir) => fs.existsSync(`${dir}/ns/net`)) === true ? { pid, startTime } : undefined;
}

interface RunFacts {
  status?: string;
  pid?: number;
  pidStartTime?: number;
  monitorPid?: number;
  monitorStartTime?: number;
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
    if (req.linkLocalIps?.length) throw new InvalidArgumentError(`Cannot use --link-local-ip with --network ${req.mode}: the container has no interface of its own`);
    if ((req.extraHosts ?? []).length || dnsOpts.servers.length || dnsOpts.search.length || dnsOpts.options.length) {
      throw new InvalidArgumentError("conflicting options: custom DNS and --add-host cannot be used with --network container:");
    }
    const target = findContainer(ctx.root, mode.ref);
    if (target.id === req.id) throw new InvalidArgumentError("cannot join own network");
    const file = netnsPath(ctx.root, target.id);
    // Docker's refusal of a container that is not running, whether or not its netns file is left.
    const pid = containerPid(ctx, target.id, target.state?.pid ?? 0);
    if (!pid) {
      // Never started: no run.json (its run record); else it has run and ended.
      const state = fs.existsSync(path.join(containerPaths(ctx.root, target.id).dir, "run.json")) ? "exited" : "created";
      throw new FailedPreconditionError(`cannot join network namespace of a non running container: container ${target.name} is ${state}`);
    }
    const join = isMountedNetns(file) ? file : nsJoinPath(pid, "net");
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
  const extraHosts = [...(req.extraHosts ?? []).map((h) => parseExtraHost(h, net.gateway)), ...(req.links ?? [])];
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
    const mac = req.macAddress ? Uint8Array.from(req.macAddress.split(":"), (b) => parseInt(b, 16)) : macForIp(ip);
    const mtu = ctx.config.mtu;

    await createEndpointLink(ctx, net, nsFile, { veth, iface: "eth0", mac, mtu }, undo);

    withRouteSocket(ctx.sys, nsFile, (s) => {
      s.setUp(1, "lo");
      const eth0 = s.index("eth0");
      s.addAddress(eth0, "eth0", ip, subnet.prefixLen);
      addLinkLocalIps(s, eth0, "eth0", req.linkLocalIps);
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
      endpoint: { ...endpointRecord(net, { ip, prefixLen: subnet.prefixLen, mac, veth, aliases }), ...ipamConfigOf(req.ip, req.linkLocalIps) },
      ...(extraHosts.length ? { extraHosts } : {}),
    };
  } catch (err) {
    runUndo(undo, ctx.log.warn, `undo network setup of ${req.id.slice(0, 12)}`);
    throw err;
  } finally {
    lock.release();
  }
}

/** --link-local-ip's addresses on an interface, with libnetwork's link-local prefixes. */
export function addLinkLocalIps(s: RouteSocket, index: number, iface: string, ips: readonly string[] | undefined): void {
  for (const text of ips ?? []) {
    const { address, prefixLen } = parseLinkLocalIp(text);
    s.addAddress(index, iface, address, prefixLen);
  }
}

/** Docker's IPAMConfig of an endpoint: what --ip and --link-local-ip asked for. */
export function ipamConfigOf(ip: string | undefined, linkLocalIps: readonly string[] | undefined): Pick<EndpointRecord, "ipamConfig"> {
  if (ip === undefined && !linkLocalIps?.length) return {};
  return { ipamConfig: { ...(ip !== undefined ? { IPv4Address: ip } : {}), ...(linkLocalIps?.length ? { LinkLocalIPs: [...linkLocalIps] } : {}) } };
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
      const net = readNetworkRecord(ctx.root, name);
      if (!net) continue; // removed while this waited for its lock
      for (const l of mine) releaseShared(ctx, net, np.leases, l.ip, id);
      rewriteMembersHosts(ctx, net, readLeases(np.leases));
    } finally {
      lock.release();
    }
  }
}
