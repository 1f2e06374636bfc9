// Services (service-rules.ts) applied to the kernel: one iptables-restore --noflush batch on top of
// what iptables-save shows, or one nft -f transaction on the service's own table where there is no
// iptables (masquerade.ts's choice of backend). The caller holds lockHostNet.
import { UnavailableError } from "../errors.ts";
import { localHost, type Host } from "./firewall.ts";
import { parseIptablesSave } from "./iptables-rules.ts";
import { firewallBackend, type FirewallBackend } from "./masquerade.ts";
import { nftServiceTable, nftServiceText, serviceRemoveText, serviceRules, type ServiceSpec } from "./service-rules.ts";

function must(host: Host, argv: string[], input: string | undefined, what: string): string {
  const r = host.run(argv, input);
  if (r.code !== 0) throw new UnavailableError(`Cannot ${what}: ${argv[0]}: ${(r.stderr || r.stdout).trim().split("\n")[0] ?? `exit status ${r.code}`}`);
  return r.stdout;
}

const natState = (host: Host) => parseIptablesSave(["nat", "filter"].map((t) => must(host, ["iptables-save", "-t", t], undefined, "read the firewall")).join("\n"));

/** Makes the kernel DNAT the service to `endpoints` (its first apply, or its endpoints changing), all at once. */
export function applyService(svc: ServiceSpec, clusterIp: string, endpoints: string[], backend: FirewallBackend = firewallBackend(), host: Host = localHost): void {
  const what = `apply Service "${svc.name}"`;
  if (backend === "nft") must(host, ["nft", "-f", "-"], nftServiceText(svc, clusterIp, endpoints), what);
  else must(host, ["iptables-restore", "--noflush"], serviceRules(svc, clusterIp, endpoints, natState(host)).text, what);
}

/** Takes the service's rules and chains away (the shared ones too once no service is left). */
export function removeService(svc: ServiceSpec, backend: FirewallBackend = firewallBackend(), host: Host = localHost): void {
  const what = `remove Service "${svc.name}"`;
  if (backend === "nft") {
    const r = host.run(["nft", "delete", "table", "ip", nftServiceTable(svc)]);
    if (r.code !== 0 && !/No such file or directory|does not exist/i.test(r.stderr)) must(host, ["nft", "delete", "table", "ip", nftServiceTable(svc)], undefined, what);
    return;
  }
  const text = serviceRemoveText(svc, natState(host));
  if (text) must(host, ["iptables-restore", "--noflush"], text, what);
}
