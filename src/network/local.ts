// The networks that need no bridge: `none` (a fresh netns with lo only) and `host` (the host's).
// Kept apart from attach.ts so a `--network none` run never loads netlink, IPAM or NAT code.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import { containerPaths } from "../store/containers.ts";
import { containerResolvConf, hostsFile, parseExtraHost, type ExtraHost } from "./dns.ts";
import { parseNetworkMode } from "./mode.ts";

/** The container's end of a bridge network (Docker's NetworkSettings.Networks[name]). */
export interface EndpointRecord {
  networkName: string;
  networkId: string;
  ipAddress: string;
  prefixLen: number;
  /** The network's subnet (CIDR): what port publishing masquerades for hairpin. */
  subnet: string;
  gateway: string;
  macAddress: string;
  bridge: string;
  /** The host end of the veth pair, td<first 11 hex of the container id>. */
  hostVeth: string;
  aliases: string[];
}

/** What state.json keeps under `network`, and what the run plan needs. */
export interface NetworkSettingsRecord {
  /** "none", "host", "bridge", "container:<id>" or a user network's name. */
  mode: string;
  /**
   * new: the plan unshares a fresh netns (only lo: --network none); join: the plan does not
   * unshare "net" but joins `joinNamespaces`; host: neither.
   */
  netns: "new" | "join" | "host";
  joinNamespaces: { ns: "net"; path: string }[];
  /** The nsfs file this container owns (removed by detachNetwork). */
  netnsPath?: string;
  endpoint?: EndpointRecord;
  /** Added by `network connect` (eth1, eth2…); they go with the netns file. */
  extraEndpoints?: EndpointRecord[];
  /** --add-host entries, kept to rewrite the hosts file when peers come and go. */
  extraHosts?: ExtraHost[];
}

export interface AttachRequest {
  id: string;
  name: string;
  hostname: string;
  /** --network as given ("bridge" when absent). */
  mode?: string;
  /** --network-alias. */
  aliases?: string[];
  /** --ip. */
  ip?: string;
  /** --mac-address ("92:d0:c6:0a:29:33") for eth0; else one derived from the address. */
  macAddress?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** --add-host host:ip. */
  extraHosts?: string[];
}

export function readHostFile(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** True for the modes attachLocal handles. */
export function isLocalMode(mode: string | undefined): boolean {
  const kind = parseNetworkMode(mode).kind;
  return kind === "none" || kind === "host";
}

/** --network none or host: the container's hosts and resolv.conf, nothing in the kernel. */
export function attachLocal(ctx: Ctx, req: AttachRequest): NetworkSettingsRecord {
  const mode = parseNetworkMode(req.mode);
  if (mode.kind !== "none" && mode.kind !== "host") throw new InvalidArgumentError(`Cannot attach network "${req.mode}" without a bridge`);
  if ((req.aliases ?? []).length) throw new InvalidArgumentError("network-scoped alias is supported only for containers in user defined networks");
  const paths = containerPaths(ctx.root, req.id);
  const dnsOpts = { servers: req.dns ?? [], search: req.dnsSearch ?? [], options: req.dnsOptions ?? [] };
  const hostResolv = readHostFile("/etc/resolv.conf");
  const extraHosts = (req.extraHosts ?? []).map((h) => parseExtraHost(h));
  if (mode.kind === "host") {
    // The host's own files: the container lives in the host's network.
    const hosts = readHostFile("/etc/hosts");
    const extra = extraHosts.map((h) => `${h.ip}\t${h.host}\n`).join("");
    fs.writeFileSync(paths.hosts, `${hosts}${hosts && !hosts.endsWith("\n") ? "\n" : ""}${extra}`, { mode: 0o644 });
    const custom = dnsOpts.servers.length || dnsOpts.search.length || dnsOpts.options.length;
    fs.writeFileSync(paths.resolvConf, custom ? containerResolvConf(hostResolv, dnsOpts) : hostResolv, { mode: 0o644 });
    return { mode: "host", netns: "host", joinNamespaces: [], ...(extraHosts.length ? { extraHosts } : {}) };
  }
  fs.writeFileSync(paths.hosts, hostsFile(req.hostname, { extraHosts }), { mode: 0o644 });
  fs.writeFileSync(paths.resolvConf, containerResolvConf(hostResolv, dnsOpts), { mode: 0o644 });
  return { mode: "none", netns: "new", joinNamespaces: [], ...(extraHosts.length ? { extraHosts } : {}) };
}
