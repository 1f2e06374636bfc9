// The NAT and filter rules that publish a container's ports, as data. Pure; rendered by
// iptables-rules.ts (`iptables-restore --noflush` text: iptables-legacy and iptables-nft read the
// same) and nft-rules.ts (`nft -f` text, a table of our own); firewall.ts reads the live state and
// applies the text.
//
// Chains (Docker's with userland-proxy=false, renamed):
//   nat PREROUTING, OUTPUT  -m addrtype --dst-type LOCAL -j TINYDOCK   (the host's own addresses,
//                           127.0.0.1 included: published ports answer there without a proxy)
//   nat TINYDOCK            per binding: [-d hostIp] -p P --dport H -j DNAT --to ip:C
//   nat POSTROUTING         -j TINYDOCK-POSTROUTING
//   nat TINYDOCK-POSTROUTING per binding: -s <bridge subnet> -d ip --dport C, DNAT'd → MASQUERADE
//                           (hairpin: a container reaching a published port through the host's
//                           address gets its answer back through the host), and -s 127.0.0.0/8
//                           -d ip -o bridge → MASQUERADE (127.0.0.1:H: the source must leave
//                           loopback; route_localnet=1 on the bridge lets the packet be routed)
//   filter FORWARD          -j TINYDOCK-FORWARD (first, so a DROP policy or rule below keeps out
//                           only what we did not publish)
//   filter TINYDOCK-FORWARD per binding: in to ip:C and its replies → ACCEPT
//   filter INPUT            -j TINYDOCK-INPUT (first)
//   filter TINYDOCK-INPUT   -i bridge ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m conntrack ! --ctstate
//                           RELATED,ESTABLISHED,DNAT → DROP: route_localnet=1 makes the host route
//                           what arrives on the bridge for 127.0.0.1, so without it a container
//                           (NET_RAW is a default capability) reaches services bound to the host's
//                           loopback (CVE-2020-8558). kube-proxy's "block incoming localnet
//                           connections" rule, tied to the bridge; replies of 127.0.0.1:H are
//                           ESTABLISHED. route_localnet is on only while such a rule is there.
// Every per-container rule carries the comment "tinydock:<id>": removal and reconcile find them by it.
import { InvalidArgumentError } from "../errors.ts";
import type { PortBinding, Protocol } from "./portspec.ts";

export const CHAIN_NAT = "TINYDOCK";
export const CHAIN_POSTROUTING = "TINYDOCK-POSTROUTING";
export const CHAIN_FORWARD = "TINYDOCK-FORWARD";
export const CHAIN_INPUT = "TINYDOCK-INPUT";
export const COMMENT_PREFIX = "tinydock:";
/** The ids of Services' localnet guards (ports.ts syncServiceGuards): "kube-<owner>-<bridge>". */
export const SERVICE_GUARD_PREFIX = "kube-";

export type Table = "nat" | "filter";
export type OwnChain = typeof CHAIN_NAT | typeof CHAIN_POSTROUTING | typeof CHAIN_FORWARD | typeof CHAIN_INPUT;

export interface PublishedContainer {
  id: string;
  /** The container's IPv4 address on the bridge. */
  ip: string;
  /** The host side: the bridge the container's veth is on (tinydock0). */
  bridge: string;
  /** The bridge's subnet (CIDR): the sources masqueraded for hairpin. Default: the container's ip/32. */
  subnet?: string;
  /** Concrete bindings (host ports allocated). */
  bindings: PortBinding[];
}

/** One rule, backend-neutral. */
export interface PortRule {
  table: Table;
  chain: OwnChain;
  id: string;
  protocol?: Protocol;
  src?: string;
  /** Any source but this one (! -s). */
  notSrc?: string;
  dst?: string;
  inIface?: string;
  outIface?: string;
  dport?: number;
  sport?: number;
  /** Conntrack: only DNAT'd connections, or the replies of accepted ones. */
  ctstate?: "DNAT" | "RELATED,ESTABLISHED" | "!RELATED,ESTABLISHED,DNAT";
  target: { dnat: string } | "MASQUERADE" | "ACCEPT" | "DROP";
}

/** The jumps from the built-in chains into ours: present while any container publishes a port. */
export interface Jump {
  table: Table;
  from: "PREROUTING" | "OUTPUT" | "POSTROUTING" | "FORWARD" | "INPUT";
  to: OwnChain;
  /** iptables arguments between the chain and -j. */
  match: string[];
  /** FORWARD is inserted first; the nat jumps are appended as Docker's are. */
  insert: boolean;
}

export const JUMPS: readonly Jump[] = [
  { table: "nat", from: "PREROUTING", to: CHAIN_NAT, match: ["-m", "addrtype", "--dst-type", "LOCAL"], insert: false },
  { table: "nat", from: "OUTPUT", to: CHAIN_NAT, match: ["-m", "addrtype", "--dst-type", "LOCAL"], insert: false },
  { table: "nat", from: "POSTROUTING", to: CHAIN_POSTROUTING, match: [], insert: false },
  { table: "filter", from: "FORWARD", to: CHAIN_FORWARD, match: [], insert: true },
  { table: "filter", from: "INPUT", to: CHAIN_INPUT, match: [], insert: true },
];

export const OWN_CHAINS: readonly { table: Table; chain: OwnChain }[] = [
  { table: "nat", chain: CHAIN_NAT },
  { table: "nat", chain: CHAIN_POSTROUTING },
  { table: "filter", chain: CHAIN_FORWARD },
  { table: "filter", chain: CHAIN_INPUT },
];

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function commentFor(id: string): string {
  return `${COMMENT_PREFIX}${id}`;
}

function checkContainer(c: PublishedContainer): void {
  if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(c.id)) throw new InvalidArgumentError(`Cannot publish ports of "${c.id}": not a container id`);
  if (!IPV4.test(c.ip)) throw new InvalidArgumentError(`Cannot publish ports to "${c.ip}": not an IPv4 address`);
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(c.bridge)) throw new InvalidArgumentError(`Cannot publish ports on bridge "${c.bridge}": not an interface name`);
  if (c.subnet !== undefined) {
    const [net, len] = c.subnet.split("/");
    if (!net || !IPV4.test(net) || !/^\d{1,2}$/.test(len ?? "") || Number(len) > 32) {
      throw new InvalidArgumentError(`Cannot publish ports on subnet "${c.subnet}": not an IPv4 CIDR`);
    }
  }
  for (const b of c.bindings) {
    if (b.hostIp.includes(":")) {
      throw new InvalidArgumentError(`Cannot publish port "[${b.hostIp}]:${b.hostPort}:${b.containerPort}": IPv6 port publishing is not supported`);
    }
    if (b.hostIp !== "" && !IPV4.test(b.hostIp)) throw new InvalidArgumentError(`Cannot publish port on "${b.hostIp}": not an IPv4 address`);
    if (!(b.hostPort >= 1 && b.hostPort <= 65535) || b.hostPortEnd !== undefined) {
      throw new InvalidArgumentError(`Cannot publish port ${b.containerPort}/${b.protocol}: host port not allocated`);
    }
  }
}

/** The rules of one container, in the order they are added. */
export function containerRules(c: PublishedContainer): PortRule[] {
  checkContainer(c);
  const rules: PortRule[] = [];
  const id = c.id;
  const seen = new Set<string>();
  const once = (r: PortRule) => {
    const key = JSON.stringify(r);
    if (!seen.has(key)) {
      seen.add(key);
      rules.push(r);
    }
  };
  for (const b of c.bindings) {
    once({
      table: "nat", chain: CHAIN_NAT, id, protocol: b.protocol, dst: b.hostIp || undefined, dport: b.hostPort,
      target: { dnat: `${c.ip}:${b.containerPort}` },
    });
  }
  for (const b of c.bindings) {
    once({
      table: "nat", chain: CHAIN_POSTROUTING, id, protocol: b.protocol, src: c.subnet ?? `${c.ip}/32`, dst: `${c.ip}/32`,
      dport: b.containerPort, ctstate: "DNAT", target: "MASQUERADE",
    });
  }
  if (c.bindings.length > 0) {
    once({ table: "nat", chain: CHAIN_POSTROUTING, id, src: "127.0.0.0/8", dst: `${c.ip}/32`, outIface: c.bridge, target: "MASQUERADE" });
    once(localnetGuard(id, c.bridge));
  }
  for (const b of c.bindings) {
    once({ table: "filter", chain: CHAIN_FORWARD, id, protocol: b.protocol, dst: `${c.ip}/32`, outIface: c.bridge, dport: b.containerPort, target: "ACCEPT" });
    once({
      table: "filter", chain: CHAIN_FORWARD, id, protocol: b.protocol, src: `${c.ip}/32`, inIface: c.bridge, sport: b.containerPort,
      ctstate: "RELATED,ESTABLISHED", target: "ACCEPT",
    });
  }
  return rules;
}

/** The drop that must exist while route_localnet is on for `bridge` (one per publishing container). */
export function localnetGuard(id: string, bridge: string): PortRule {
  return {
    table: "filter", chain: CHAIN_INPUT, id, inIface: bridge, notSrc: "127.0.0.0/8", dst: "127.0.0.0/8",
    ctstate: "!RELATED,ESTABLISHED,DNAT", target: "DROP",
  };
}

/**
 * The bridges whose last localnet guard goes with `ids`: route_localnet must be turned off there.
 * `guards` are the live guard rules as (container id, bridge).
 */
export function bridgesLosingGuard(guards: { id: string; bridge: string }[], ids: Iterable<string>): string[] {
  const gone = new Set(ids);
  const losing = new Set(guards.filter((g) => gone.has(g.id)).map((g) => g.bridge));
  for (const g of guards) if (!gone.has(g.id)) losing.delete(g.bridge);
  return [...losing].sort();
}
