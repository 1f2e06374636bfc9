// The networks that need no bridge: `none` (a fresh netns with lo only) and `host` (the host's).
// Kept apart from attach.ts so a `--network none` run never loads netlink, IPAM or NAT code.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import { containerPaths } from "../store/containers.ts";
import { containerResolvConf, hostsFile, parseExtraHost, type ExtraHost } from "./dns.ts";
import { parseNetworkMode } from "./mode.ts";
import type { EndpointRecord, NetworkSettingsRecord } from "../store/network-record.ts";
export type { EndpointRecord, NetworkSettingsRecord } from "../store/network-record.ts";


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
  /** --link's hosts lines (after --add-host's, as Docker writes them). */
  links?: ExtraHost[];
  /** --link-local-ip. */
  linkLocalIps?: string[];
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
  if (req.linkLocalIps?.length) throw new InvalidArgumentError(`Cannot use --link-local-ip with --network ${mode.kind}: the container has no interface of its own`);
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
