// A Service as kube-proxy writes it, for iptables-restore and for nft. Pure: text only.
// iptables (kube-proxy's iptables mode): a chain per service port that marks the packet for
// masquerading and picks one endpoint with `-m statistic --mode random --probability 1/(n-i)` and
// DNATs to it, entered from TINYDOCK-KUBE-SERVICES (jumped to from nat PREROUTING and OUTPUT) by the
// ClusterIP and, for a NodePort Service, by the node port on any local address. nft (its nftables
// mode): a table per Service holding the same, `numgen random mod n vmap` picking the endpoint.
// Every service packet is masqueraded (kube-proxy's masquerade-all): a client on the endpoints'
// own bridge, or the endpoint itself (hairpin), would otherwise get the reply straight from the
// pod's address, which its connection does not know.
// A Service without endpoints is rejected (filter table: icmp port-unreachable, which a TCP client
// reads as "connection refused"), as kube-proxy's "has no endpoints" rules do: clients fail at once
// instead of waiting for a SYN nobody answers.
// Every name (chains, comments, nft tables) carries the owner, the key of the root that made the
// Service: two roots on one host playing the same YAML never touch each other's objects.
import path from "node:path";
import { FailedPreconditionError, InvalidArgumentError } from "../errors.ts";
import type { IptablesState } from "./iptables-rules.ts";
import { isIPv4 } from "./portspec.ts";

export interface ServicePort {
  name?: string;
  port: number;
  targetPort: number;
  nodePort?: number;
  protocol: "tcp" | "udp";
}

/** What the kernel needs of a Service: its owner and name (chain names, comments), type and ports. */
export interface ServiceSpec {
  /** serviceOwner() of the root that made it. */
  owner: string;
  name: string;
  type: "ClusterIP" | "NodePort";
  ports: ServicePort[];
}

/** A lowercase RFC 1123 label, as the API requires of a Service's (pod's, container's) name. */
export const RFC1123_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Every value the rule text carries checked again where the text is made, whatever checked it
 * before (the YAML's reader, a record read back from the root): a name with a quote, a newline, a
 * ";" or a "}" would otherwise end the comment or the statement and start a rule of its own.
 */
function checkRenderable(svc: ServiceSpec, clusterIp?: string, endpoints: readonly string[] = []): void {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`Cannot write the rules of Service ${JSON.stringify(svc.name)}: ${why}`);
  };
  if (typeof svc.name !== "string" || !RFC1123_LABEL.test(svc.name)) fail("its name is not a lowercase RFC 1123 name");
  if (typeof svc.owner !== "string" || !/^[0-9a-f]{1,12}$/.test(svc.owner)) fail(`owner ${JSON.stringify(svc.owner)} is not a root's key`);
  if (svc.type !== "ClusterIP" && svc.type !== "NodePort") fail(`type ${JSON.stringify(svc.type)} is not ClusterIP or NodePort`);
  const port = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
  for (const p of svc.ports) {
    if (!port(p.port) || !port(p.targetPort) || (p.nodePort !== undefined && !port(p.nodePort))) fail("a port is not a number from 1 to 65535");
    if (p.protocol !== "tcp" && p.protocol !== "udp") fail(`protocol ${JSON.stringify(p.protocol)} is not tcp or udp`);
  }
  for (const ip of clusterIp === undefined ? endpoints : [clusterIp, ...endpoints]) if (typeof ip !== "string" || !isIPv4(ip)) fail(`${JSON.stringify(ip)} is not an IPv4 address`);
}

export const SERVICES_CHAIN = "TINYDOCK-KUBE-SERVICES";
export const POSTROUTING_CHAIN = "TINYDOCK-KUBE-POSTROUTING";
/** filter: the REJECTs of Services without endpoints, entered for new connections. */
export const REJECT_CHAIN = "TINYDOCK-KUBE-REJECT";
/** kube-proxy's masquerade bit. */
export const MASQ_MARK = "0x4000";
const JUMPS: readonly { hook: string; chain: string }[] = [
  { hook: "PREROUTING", chain: SERVICES_CHAIN },
  { hook: "OUTPUT", chain: SERVICES_CHAIN },
  { hook: "POSTROUTING", chain: POSTROUTING_CHAIN },
];
const FILTER_HOOKS = ["INPUT", "FORWARD", "OUTPUT"] as const;
const filterJump = (hook: string) => `${hook} -m conntrack --ctstate NEW -j ${REJECT_CHAIN}`;

/** Where a root records its Services (pod/services.ts): the monitor of a pod's container looks here. */
export function servicesDir(root: string): string {
  return path.join(root, "kube", "services");
}

/** A root's short key (owners.ts rootKey's first 12 hex digits): what its Services' names carry. */
export function serviceOwner(rootKey: string): string {
  return rootKey.slice(0, 12);
}

export function serviceComment(svc: Pick<ServiceSpec, "owner" | "name">): string {
  return `tinydock-kube-svc ${svc.owner} ${svc.name}`;
}

// Bun's hasher, not node:crypto: loading that module (and the stream classes it brings) costs a
// detached `run` as much as its own work, and the monitor's module imports this one.
const sha256 = () => new Bun.CryptoHasher("sha256");

/** The chain of one service port: 26 characters, under iptables' 28. */
export function portChain(svc: Pick<ServiceSpec, "owner" | "name">, port: number, protocol: string): string {
  const h = sha256().update(`${svc.owner}/${svc.name}/${port}/${protocol}`).digest("hex").slice(0, 8).toUpperCase();
  return `TINYDOCK-KUBE-SVC-${h}`;
}

/**
 * A ClusterIP in 10.96.0.0/16 (kube's default service range starts there) from the owner and name,
 * the next candidate of the same hash when one is `taken` (every root's Services in this network
 * namespace: the caller holds the host-wide lock while it reads and records them).
 */
export function clusterIpOf(svc: Pick<ServiceSpec, "owner" | "name">, taken: ReadonlySet<string> = new Set()): string {
  for (let i = 0; i < 4096; i++) {
    const h = sha256().update(`${svc.owner}/${svc.name}/${i}`).digest();
    const ip = `10.96.${h[0]!}.${Math.max(1, Math.min(254, h[1]!))}`;
    if (!taken.has(ip)) return ip;
  }
  throw new FailedPreconditionError(`Cannot allocate a ClusterIP for Service "${svc.name}": 10.96.0.0/16 is full`);
}

/** kube-proxy's probability of rule i of n: 1/(n-i), printed with 10 decimals. */
export function probability(i: number, n: number): string {
  return (1 / (n - i)).toFixed(10);
}

export interface ServiceRules {
  chains: string[];
  /** The lines for `iptables-restore --noflush` (nat and filter tables). */
  text: string;
}

function hasServiceEntries(state: IptablesState, svc: ServiceSpec): boolean {
  return state.rules.nat.some((l) => l.startsWith(`-A ${SERVICES_CHAIN} `) && l.includes(`"${serviceComment(svc)}"`));
}

/** The service's REJECTs as iptables-save prints them: one per port and entry (ClusterIP, node port). */
export function rejectLines(svc: ServiceSpec, clusterIp: string): string[] {
  const comment = `-m comment --comment "${serviceComment(svc)}"`;
  const reject = "-j REJECT --reject-with icmp-port-unreachable";
  const out: string[] = [];
  for (const p of svc.ports) {
    out.push(`-A ${REJECT_CHAIN} -d ${clusterIp}/32 -p ${p.protocol} -m ${p.protocol} --dport ${p.port} ${comment} ${reject}`);
    if (svc.type === "NodePort" && p.nodePort !== undefined) {
      out.push(`-A ${REJECT_CHAIN} -p ${p.protocol} -m addrtype --dst-type LOCAL -m ${p.protocol} --dport ${p.nodePort} ${comment} ${reject}`);
    }
  }
  return out;
}

/** The filter section: the shared chain and its jumps where missing, this service's REJECTs replaced. */
function filterSection(svc: ServiceSpec, clusterIp: string, endpoints: string[], state?: IptablesState): string[] {
  const own = `"${serviceComment(svc)}"`;
  const lines: string[] = [];
  const rules: string[] = [];
  if (!state?.chains.filter.has(REJECT_CHAIN)) lines.push(`:${REJECT_CHAIN} - [0:0]`);
  for (const h of FILTER_HOOKS) if (!state?.rules.filter.includes(`-A ${filterJump(h)}`)) rules.push(`-I ${h} 1 -m conntrack --ctstate NEW -j ${REJECT_CHAIN}`);
  for (const l of state?.rules.filter ?? []) if (l.startsWith(`-A ${REJECT_CHAIN} `) && l.includes(own)) rules.push(`-D${l.slice(2)}`);
  if (endpoints.length === 0) rules.push(...rejectLines(svc, clusterIp));
  return [...lines, ...rules];
}

/**
 * The rules of one service over `endpoints` (pod IPs), for `iptables-restore --noflush` on top of
 * `state`. Its port chains are declared, i.e. flushed and refilled in the one batch: applied again
 * with other endpoints, the service switches over at once. The shared chains, their jumps and the
 * service's entries go in only where `state` lacks them. Without endpoints the port chains just
 * return and the filter table rejects the service's new connections.
 */
export function serviceRules(svc: ServiceSpec, clusterIp: string, endpoints: string[], state?: IptablesState): ServiceRules {
  checkRenderable(svc, clusterIp, endpoints);
  const comment = `-m comment --comment "${serviceComment(svc)}"`;
  const lines: string[] = ["*nat"];
  const rules: string[] = [];
  const chains: string[] = [];
  for (const c of [SERVICES_CHAIN, POSTROUTING_CHAIN]) if (!state?.chains.nat.has(c)) lines.push(`:${c} - [0:0]`);
  if (!state?.chains.nat.has(POSTROUTING_CHAIN)) rules.push(`-A ${POSTROUTING_CHAIN} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j MASQUERADE`);
  for (const j of JUMPS) if (!state?.rules.nat.includes(`-A ${j.hook} -j ${j.chain}`)) rules.push(`-I ${j.hook} 1 -j ${j.chain}`);
  const entries = !state || !hasServiceEntries(state, svc);
  for (const p of svc.ports) {
    const chain = portChain(svc, p.port, p.protocol);
    chains.push(chain);
    lines.push(`:${chain} - [0:0]`);
    if (endpoints.length > 0) rules.push(`-A ${chain} ${comment} -j MARK --set-xmark ${MASQ_MARK}/${MASQ_MARK}`);
    endpoints.forEach((ip, i) => {
      const stat = i < endpoints.length - 1 ? ` -m statistic --mode random --probability ${probability(i, endpoints.length)}` : "";
      rules.push(`-A ${chain} -p ${p.protocol} ${comment}${stat} -j DNAT --to-destination ${ip}:${p.targetPort}`);
    });
    if (!entries) continue;
    rules.push(`-A ${SERVICES_CHAIN} -d ${clusterIp}/32 -p ${p.protocol} -m ${p.protocol} --dport ${p.port} ${comment} -j ${chain}`);
    if (svc.type === "NodePort" && p.nodePort !== undefined) {
      rules.push(`-A ${SERVICES_CHAIN} -p ${p.protocol} -m addrtype --dst-type LOCAL -m ${p.protocol} --dport ${p.nodePort} ${comment} -j ${chain}`);
    }
  }
  const filter = ["*filter", ...filterSection(svc, clusterIp, endpoints, state)];
  return { chains, text: `${[...lines, ...rules, "COMMIT", ...filter, "COMMIT"].join("\n")}\n` };
}

/**
 * `iptables-restore --noflush` input removing the service from `state`: its entries, its port
 * chains, its REJECTs, and the shared chains and jumps once no other service's entry is left (any
 * root's). "" when nothing of it is there.
 */
export function serviceRemoveText(svc: ServiceSpec, state: IptablesState): string {
  checkRenderable(svc);
  const comment = `"${serviceComment(svc)}"`;
  const chains = svc.ports.map((p) => portChain(svc, p.port, p.protocol));
  const entries = state.rules.nat.filter((l) => l.startsWith(`-A ${SERVICES_CHAIN} `));
  const ours = entries.filter((l) => l.includes(comment));
  const own = chains.filter((c) => state.chains.nat.has(c));
  const nat: string[] = ours.map((l) => `-D${l.slice(2)}`);
  for (const c of own) nat.push(`:${c} - [0:0]`, `-X ${c}`);
  const rejects = state.rules.filter.filter((l) => l.startsWith(`-A ${REJECT_CHAIN} `));
  const filter: string[] = rejects.filter((l) => l.includes(comment)).map((l) => `-D${l.slice(2)}`);
  if (ours.length === entries.length && filter.length === rejects.length) {
    for (const j of JUMPS) if (state.rules.nat.includes(`-A ${j.hook} -j ${j.chain}`)) nat.push(`-D ${j.hook} -j ${j.chain}`);
    for (const c of [SERVICES_CHAIN, POSTROUTING_CHAIN]) if (state.chains.nat.has(c)) nat.push(`:${c} - [0:0]`, `-X ${c}`);
    for (const h of FILTER_HOOKS) if (state.rules.filter.includes(`-A ${filterJump(h)}`)) filter.push(`-D ${filterJump(h)}`);
    if (state.chains.filter.has(REJECT_CHAIN)) filter.push(`-X ${REJECT_CHAIN}`);
  }
  let out = "";
  if (nat.length > 0) out += `*nat\n${nat.join("\n")}\nCOMMIT\n`;
  if (filter.length > 0) out += `*filter\n${filter.join("\n")}\nCOMMIT\n`;
  return out;
}

/** The service's own nft table (`nft delete table` takes all of it). */
export function nftServiceTable(svc: Pick<ServiceSpec, "owner" | "name">): string {
  // An argv word of `nft delete table`, and the table name of nftServiceText (checked there).
  if (!RFC1123_LABEL.test(svc.name) || !/^[0-9a-f]{1,12}$/.test(svc.owner)) throw new InvalidArgumentError(`Cannot name the table of Service ${JSON.stringify(svc.name)}: not a lowercase RFC 1123 name of a root's key`);
  return `tinydock-kube-${svc.owner}-${svc.name}`;
}

/**
 * `nft -f` input making the service's table hold exactly its rules over `endpoints`: declared,
 * deleted and made again in one transaction, so a second apply switches the endpoints at once.
 * Without endpoints, filter chains on input, forward and output reject its new connections.
 */
export function nftServiceText(svc: ServiceSpec, clusterIp: string, endpoints: string[]): string {
  checkRenderable(svc, clusterIp, endpoints);
  const t = `table ip ${nftServiceTable(svc)}`;
  const out = [t, `delete ${t}`, `${t} {`];
  const chain = (name: string, body: string[]) => out.push(`\tchain ${name} {`, ...body.map((b) => `\t\t${b}`), "\t}");
  chain("prerouting", ["type nat hook prerouting priority -100; policy accept;", "jump services"]);
  chain("output", ["type nat hook output priority -100; policy accept;", "jump services"]);
  chain("postrouting", ["type nat hook postrouting priority 100; policy accept;", `meta mark & ${MASQ_MARK} == ${MASQ_MARK} masquerade`]);
  const entries: string[] = [];
  const rejects: string[] = [];
  svc.ports.forEach((p, i) => {
    entries.push(`ip daddr ${clusterIp} ${p.protocol} dport ${p.port} jump port-${i}`);
    rejects.push(`ip daddr ${clusterIp} ${p.protocol} dport ${p.port} reject`);
    if (svc.type === "NodePort" && p.nodePort !== undefined) {
      entries.push(`fib daddr type local ${p.protocol} dport ${p.nodePort} jump port-${i}`);
      rejects.push(`fib daddr type local ${p.protocol} dport ${p.nodePort} reject`);
    }
  });
  chain("services", entries);
  svc.ports.forEach((p, i) => {
    const eps = endpoints.map((_ip, j) => `${j} : jump ep-${i}-${j}`).join(", ");
    chain(`port-${i}`, endpoints.length ? [`meta mark set meta mark | ${MASQ_MARK}`, `numgen random mod ${endpoints.length} vmap { ${eps} }`] : []);
    endpoints.forEach((ip, j) => chain(`ep-${i}-${j}`, [`meta l4proto ${p.protocol} dnat to ${ip}:${p.targetPort}`]));
  });
  if (endpoints.length === 0) {
    for (const hook of ["input", "forward", "output"]) chain(`reject-${hook}`, [`type filter hook ${hook} priority 0; policy accept;`, "ct state new jump no-endpoints"]);
    chain("no-endpoints", rejects);
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}
