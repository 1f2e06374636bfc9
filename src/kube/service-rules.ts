// A Service as kube-proxy's iptables mode writes it: a chain per service port that picks one
// endpoint with `-m statistic --mode random --probability 1/(n-i)` and DNATs to it, entered from
// TINYDOCK-KUBE-SERVICES (jumped to from nat PREROUTING and OUTPUT) by the ClusterIP and, for a
// NodePort Service, by the node port on any local address. Pure: text for iptables-restore.
import crypto from "node:crypto";
import type { KubeService } from "./translate.ts";

export const SERVICES_CHAIN = "TINYDOCK-KUBE-SERVICES";

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

/** The rules of one service over `endpoints` (pod IPs). Without endpoints: REJECT-free, the chain just returns (nothing answers). */
export function serviceRules(svc: KubeService, clusterIp: string, endpoints: string[]): ServiceRules {
  const comment = `-m comment --comment "${serviceComment(svc.name)}"`;
  const lines: string[] = ["*nat", `:${SERVICES_CHAIN} - [0:0]`];
  const rules: string[] = [];
  const chains: string[] = [];
  for (const p of svc.ports) {
    const chain = portChain(svc.name, p.port, p.protocol);
    chains.push(chain);
    lines.push(`:${chain} - [0:0]`);
    endpoints.forEach((ip, i) => {
      const stat = i < endpoints.length - 1 ? ` -m statistic --mode random --probability ${probability(i, endpoints.length)}` : "";
      rules.push(`-A ${chain} -p ${p.protocol} ${comment}${stat} -j DNAT --to-destination ${ip}:${p.targetPort}`);
    });
    rules.push(`-A ${SERVICES_CHAIN} -d ${clusterIp}/32 -p ${p.protocol} -m ${p.protocol} --dport ${p.port} ${comment} -j ${chain}`);
    if (svc.type === "NodePort" && p.nodePort !== undefined) {
      rules.push(`-A ${SERVICES_CHAIN} -p ${p.protocol} -m addrtype --dst-type LOCAL -m ${p.protocol} --dport ${p.nodePort} ${comment} -j ${chain}`);
    }
  }
  return { chains, text: `${[...lines, ...rules, "COMMIT"].join("\n")}\n` };
}

/** Which pods a selector picks: every label of it, equal. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
