// The /etc/hosts and /etc/resolv.conf a container gets, as Docker writes them. Pure.
import { ParseError } from "../errors.ts";
import type { ExtraHost } from "../store/network-record.ts";
export type { ExtraHost } from "../store/network-record.ts";

/** Another container on the same user network: listed by name, aliases and short id. */
export interface HostsPeer {
  ip: string;
  names: string[];
}

export interface HostsOptions {
  /** The container's own address (absent with --network none/host). */
  ip?: string;
  /** More names for the own address (container name, --network-alias). */
  aliases?: string[];
  /** --add-host entries, in order. */
  extraHosts?: ExtraHost[];
  /** The other containers of a user network. */
  peers?: HostsPeer[];
}

const uniq = (xs: string[]) => [...new Set(xs.filter(Boolean))];

export function hostsFile(hostname: string, extra: HostsOptions = {}): string {
  const lines = [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
  ];
  for (const h of extra.extraHosts ?? []) lines.push(`${h.ip}\t${h.host}`);
  if (extra.ip) lines.push(`${extra.ip}\t${uniq([hostname, ...(extra.aliases ?? [])]).join(" ")}`);
  for (const p of extra.peers ?? []) if (p.ip !== extra.ip) lines.push(`${p.ip}\t${uniq(p.names).join(" ")}`);
  return `${lines.join("\n")}\n`;
}

/** `--add-host host:ip` (or host=ip); "host-gateway" stands for `gateway`. */
export function parseExtraHost(text: string, gateway?: string): ExtraHost {
  const sep = text.search(/[:=]/);
  const host = sep > 0 ? text.slice(0, sep) : "";
  let ip = sep > 0 ? text.slice(sep + 1) : "";
  if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
  if (!host || !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(host)) throw new ParseError(`Cannot parse --add-host "${text}": expected host:ip`);
  if (ip === "host-gateway") {
    if (!gateway) throw new ParseError(`Cannot parse --add-host "${text}": host-gateway has no address on this network`);
    ip = gateway;
  }
  const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && ip.split(".").every((p) => Number(p) <= 255);
  const v6 = /^[0-9a-fA-F:.]+$/.test(ip) && ip.includes(":");
  if (!v4 && !v6) throw new ParseError(`Cannot parse --add-host "${text}": invalid IP address "${ip}"`);
  return { host, ip };
}

const DEFAULT_NAMESERVERS = ["8.8.8.8", "8.8.4.4"];

export interface DnsOptions {
  /** --dns: replaces the host's nameservers. */
  servers?: string[];
  /** --dns-search: replaces the search list ("." alone: none). */
  search?: string[];
  /** --dns-option: replaces the options. */
  options?: string[];
}

/**
 * The host's resolv.conf minus loopback nameservers (unreachable from the container's netns),
 * with --dns, --dns-search and --dns-option applied as Docker does.
 */
export function containerResolvConf(host: string, dns: DnsOptions = {}): string {
  const out: string[] = [];
  let nameservers = 0;
  const servers = dns.servers?.length ? dns.servers : undefined;
  const search = dns.search?.length ? dns.search : undefined;
  const options = dns.options?.length ? dns.options : undefined;
  for (const line of host.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) {
      if (servers) continue;
      const ip = m[1]!;
      if (ip.startsWith("127.") || ip === "::1" || ip === "0.0.0.0") continue;
      nameservers++;
    }
    if (search && /^\s*(search|domain)\s/.test(line)) continue;
    if (options && /^\s*options\s/.test(line)) continue;
    if (line.trim()) out.push(line.trimEnd());
  }
  if (servers) for (const ns of servers) out.push(`nameserver ${ns}`);
  else if (nameservers === 0) for (const ns of DEFAULT_NAMESERVERS) out.push(`nameserver ${ns}`);
  if (search && !(search.length === 1 && search[0] === ".")) out.push(`search ${search.join(" ")}`);
  if (options) out.push(`options ${options.join(" ")}`);
  return `${out.join("\n")}\n`;
}
