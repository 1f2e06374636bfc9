// A Service as kube-proxy writes it, for iptables-restore and for nft. Pure: text only.
// iptables (kube-proxy's iptables mode): a chain per service port that marks the packet for
// masquerading and picks one endpoint with `-m statistic --mode random --probability 1/(n-i)` and
// DNATs to it, entered from TINYDOCK-KUBE-SERVICES (jumped to from nat PREROUTING and OUTPUT) by the
// ClusterIP and, for a NodePort Service, by the node port on any local address. nft (its nftables
// mode): a table per Service holding the same, `numgen random mod n vmap` picking the endpoint.
// Every service packet is masqueraded (kube-proxy's masquerade-all): a client on the endpoints'
// own bridge, or the endpoint itself (hairpin), would otherwise get the reply straight from the
// pod's address, which its connection does not know.
import crypto from "node:crypto";
import type { IptablesState } from "./iptables-rules.ts";

export interface ServicePort {
  name?: string;
  port: number;
  targetPort: number;
  nodePort?: number;
  protocol: "tcp" | "udp";
}

/** What the kernel needs of a Service: its name (chain names, comments), type and ports. */
export interface ServiceSpec {
  name: string;
  type: "ClusterIP" | "NodePort";
  ports: ServicePort[];
}

export const SERVICES_CHAIN = "TINYDOCK-KUBE-SERVICES";
export const POSTROUTING_CHAIN = "TINYDOCK-KUBE-POSTROUTING";
/** kube-proxy's masquerade bit. */
export const MASQ_MARK = "0x4000";
const JUMPS: readonly { hook: string; chain: string }[] = [
  { hook: "PREROUTING", chain: SERVICES_CHAIN },
  { hook: "OUTPUT", chain: SERVICES_CHAIN },
  { hook: "POSTROUTING", chain: POSTROUTING_CHAIN },
];

export function serviceComment(name: string): string {
  return `tinydock-kube-svc ${name}`;
}

/** The chain of one service port: 26 characters, under iptables' 28. */
export function portChain(name: string, port: number, protocol: string): string {
  const h = crypto.createHash("sha256").update(`${name}/${port}/${protocol}`).digest("hex").slice(0, 8).toUpperCase();
  return `TINYDOCK-KUBE-SVC-${h}`;
}

/** A ClusterIP for a service in 10.96.0.0/16 from its name (kube's default service range starts there). */
export function clusterIpOf(name: string): string {
  const h = crypto.createHash("sha256").update(name).digest();
  return `10.96.${h[0]!}.${Math.max(1, Math.min(254, h[1]!))}`;
}

/** kube-proxy's probability of rule i of n: 1/(n-i), printed with 10 decimals. */
export function probability(i: number, n: number): string {
  return (1 / (n - i)).toFixed(10);
}

export interface ServiceRules {
  chains: string[];
  /** The lines for `iptables-restore --noflush` (nat table). */
  text: string;
}

function hasServiceEntries(state: IptablesState, name: string): boolean {
  return state.rules.nat.some((l) => l.startsWith(`-A ${SERVICES_CHAIN} `) && l.includes(`"${serviceComment(name)}"`));
}

/**
 * The rules of one service over `endpoints` (pod IPs), for `iptables-restore --noflush` on top of
 * `state`. Its port chains are declared, i.e. flushed and refilled in the one batch: applied again
 * with other endpoints, the service switches over at once. The shared chains, their jumps and the
 * service's entries go in only where `state` lacks them. Without endpoints the port chains just
 * return (nothing answers).
 */
export function serviceRules(svc: ServiceSpec, clusterIp: string, endpoints: string[], state?: IptablesState): ServiceRules {
  const comment = `-m comment --comment "${serviceComment(svc.name)}"`;
  const lines: string[] = ["*nat"];
  const rules: string[] = [];
  const chains: string[] = [];
  for (const c of [SERVICES_CHAIN, POSTROUTING_CHAIN]) if (!state?.chains.nat.has(c)) lines.push(`:${c} - [0:0]`);
  if (!state?.chains.nat.has(POSTROUTING_CHAIN)) rules.push(`-A ${POSTROUTING_CHAIN} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j MASQUERADE`);
  for (const j of JUMPS) if (!state?.rules.nat.includes(`-A ${j.hook} -j ${j.chain}`)) rules.push(`-I ${j.hook} 1 -j ${j.chain}`);
  const entries = !state || !hasServiceEntries(state, svc.name);
  for (const p of svc.ports) {
    const chain = portChain(svc.name, p.port, p.protocol);
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
  return { chains, text: `${[...lines, ...rules, "COMMIT"].join("\n")}\n` };
}

/**
 * `iptables-restore --noflush` input removing the service from `state`: its entries, its port
 * chains, and the shared chains and jumps once no other service's entry is left. "" when nothing of
 * it is there.
 */
export function serviceRemoveText(svc: ServiceSpec, state: IptablesState): string {
  const comment = `"${serviceComment(svc.name)}"`;
  const chains = svc.ports.map((p) => portChain(svc.name, p.port, p.protocol));
  const entries = state.rules.nat.filter((l) => l.startsWith(`-A ${SERVICES_CHAIN} `));
  const ours = entries.filter((l) => l.includes(comment));
  const own = chains.filter((c) => state.chains.nat.has(c));
  const out: string[] = ours.map((l) => `-D${l.slice(2)}`);
  for (const c of own) out.push(`:${c} - [0:0]`, `-X ${c}`);
  if (ours.length === entries.length) {
    for (const j of JUMPS) if (state.rules.nat.includes(`-A ${j.hook} -j ${j.chain}`)) out.push(`-D ${j.hook} -j ${j.chain}`);
    for (const c of [SERVICES_CHAIN, POSTROUTING_CHAIN]) if (state.chains.nat.has(c)) out.push(`:${c} - [0:0]`, `-X ${c}`);
  }
  return out.length > 0 ? `*nat\n${out.join("\n")}\nCOMMIT\n` : "";
}

/** The service's own nft table (`nft delete table` takes all of it). */
export function nftServiceTable(name: string): string {
  return `tinydock-kube-${name}`;
}

/**
 * `nft -f` input making the service's table hold exactly its rules over `endpoints`: declared,
 * deleted and made again in one transaction, so a second apply switches the endpoints at once.
 */
export function nftServiceText(svc: ServiceSpec, clusterIp: string, endpoints: string[]): string {
  const t = `table ip ${nftServiceTable(svc.name)}`;
  const out = [t, `delete ${t}`, `${t} {`];
  const chain = (name: string, body: string[]) => out.push(`\tchain ${name} {`, ...body.map((b) => `\t\t${b}`), "\t}");
  chain("prerouting", ["type nat hook prerouting priority -100; policy accept;", "jump services"]);
  chain("output", ["type nat hook output priority -100; policy accept;", "jump services"]);
  chain("postrouting", ["type nat hook postrouting priority 100; policy accept;", `meta mark & ${MASQ_MARK} == ${MASQ_MARK} masquerade`]);
  const entries: string[] = [];
  svc.ports.forEach((p, i) => {
    entries.push(`ip daddr ${clusterIp} ${p.protocol} dport ${p.port} jump port-${i}`);
    if (svc.type === "NodePort" && p.nodePort !== undefined) entries.push(`fib daddr type local ${p.protocol} dport ${p.nodePort} jump port-${i}`);
  });
  chain("services", entries);
  svc.ports.forEach((p, i) => {
    const eps = endpoints.map((_ip, j) => `${j} : jump ep-${i}-${j}`).join(", ");
    chain(`port-${i}`, endpoints.length ? [`meta mark set meta mark | ${MASQ_MARK}`, `numgen random mod ${endpoints.length} vmap { ${eps} }`] : []);
    endpoints.forEach((ip, j) => chain(`ep-${i}-${j}`, [`meta l4proto ${p.protocol} dnat to ${ip}:${p.targetPort}`]));
  });
  out.push("}");
  return `${out.join("\n")}\n`;
}
