// The NAT and filter rules that publish a container's ports, as data, and their two renderings:
// `iptables-restore --noflush` text (iptables-legacy and iptables-nft read the same text) and
// `nft -f` text (a table of our own). Pure: firewall.ts reads the live state and applies the text.
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
/** nft backend: our own table, so `nft delete table` removes everything at once. */
export const NFT_TABLE = "tinydock";
export const COMMENT_PREFIX = "tinydock:";

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

// ---- iptables ----------------------------------------------------------------------------------

const withMask = (a: string): string => (a.includes("/") ? a : `${a}/32`);

/** The rule as iptables arguments after `-A <chain>`, in the order iptables-save prints them. */
export function iptablesArgs(r: PortRule): string[] {
  const a: string[] = [];
  if (r.src) a.push("-s", withMask(r.src));
  if (r.notSrc) a.push("!", "-s", withMask(r.notSrc));
  if (r.dst) a.push("-d", withMask(r.dst));
  if (r.inIface) a.push("-i", r.inIface);
  if (r.outIface) a.push("-o", r.outIface);
  if (r.protocol) a.push("-p", r.protocol, "-m", r.protocol);
  if (r.sport !== undefined) a.push("--sport", String(r.sport));
  if (r.dport !== undefined) a.push("--dport", String(r.dport));
  if (r.ctstate?.startsWith("!")) a.push("-m", "conntrack", "!", "--ctstate", r.ctstate.slice(1));
  else if (r.ctstate) a.push("-m", "conntrack", "--ctstate", r.ctstate);
  a.push("-m", "comment", "--comment", `"${commentFor(r.id)}"`);
  if (typeof r.target === "object") a.push("-j", "DNAT", "--to-destination", r.target.dnat);
  else a.push("-j", r.target);
  return a;
}

/** What iptables-save says exists: chains per table, and every rule line ("-A CHAIN ...") per table. */
export interface IptablesState {
  chains: Record<Table, Set<string>>;
  rules: Record<Table, string[]>;
}

/** Reads `iptables-save` output (only the nat and filter tables matter here). */
export function parseIptablesSave(text: string): IptablesState {
  const state: IptablesState = { chains: { nat: new Set(), filter: new Set() }, rules: { nat: [], filter: [] } };
  let table: Table | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("*")) {
      const name = line.slice(1);
      table = name === "nat" || name === "filter" ? name : undefined;
    } else if (!table || line === "" || line.startsWith("#") || line === "COMMIT") {
      continue;
    } else if (line.startsWith(":")) {
      state.chains[table].add(line.slice(1).split(/\s+/)[0]!);
    } else if (line.startsWith("-A ")) {
      state.rules[table].push(line);
    }
  }
  return state;
}

function jumpLine(j: Jump): string {
  return [j.from, ...j.match, "-j", j.to].join(" ");
}

function hasJump(state: IptablesState, j: Jump): boolean {
  return state.rules[j.table].includes(`-A ${jumpLine(j)}`);
}

function tableText(sections: Record<Table, string[]>): string {
  let out = "";
  for (const t of ["nat", "filter"] as const) {
    if (sections[t].length > 0) out += `*${t}\n${sections[t].join("\n")}\n` + "COMMIT\n";
  }
  return out;
}

/**
 * `iptables-restore --noflush` input adding a container's rules, and our chains and jumps where the
 * live state lacks them. A `:CHAIN` line would flush an existing chain under --noflush, so only
 * missing chains are declared.
 */
export function iptablesPublishText(rules: PortRule[], state: IptablesState): string {
  const sections: Record<Table, string[]> = { nat: [], filter: [] };
  if (rules.length === 0) return "";
  for (const c of OWN_CHAINS) if (!state.chains[c.table].has(c.chain)) sections[c.table].push(`:${c.chain} - [0:0]`);
  for (const j of JUMPS) {
    if (!hasJump(state, j)) sections[j.table].push(j.insert ? `-I ${j.from} 1 ${[...j.match, "-j", j.to].join(" ")}` : `-A ${jumpLine(j)}`);
  }
  for (const r of rules) sections[r.table].push(`-A ${r.chain} ${iptablesArgs(r).join(" ")}`);
  return tableText(sections);
}

/** True when an iptables-save rule line carries the container's comment. */
function lineHasId(line: string, id: string): boolean {
  const m = /--comment "?(tinydock:[^"\s]+)"?/.exec(line);
  return m !== null && m[1] === commentFor(id);
}

/** The localnet guards in the live state: (container id, bridge) of each TINYDOCK-INPUT rule. */
export function iptablesGuards(state: IptablesState): { id: string; bridge: string }[] {
  const out: { id: string; bridge: string }[] = [];
  for (const line of state.rules.filter) {
    if (!line.startsWith(`-A ${CHAIN_INPUT} `)) continue;
    const id = /--comment "?tinydock:([^"\s]+)"?/.exec(line)?.[1];
    const bridge = / -i (\S+)/.exec(line)?.[1];
    if (id && bridge) out.push({ id, bridge });
  }
  return out;
}

/** Container ids named by our comments in the live state. */
export function iptablesIds(state: IptablesState): Set<string> {
  const ids = new Set<string>();
  for (const t of ["nat", "filter"] as const) {
    for (const line of state.rules[t]) {
      const m = /--comment "?tinydock:([^"\s]+)"?/.exec(line);
      if (m) ids.add(m[1]!);
    }
  }
  return ids;
}

/**
 * Deletes every rule commented with one of `ids` (the lines exactly as iptables-save printed them,
 * -A turned into -D), and our chains and jumps when no other rule is left in them. "" when nothing
 * is there.
 */
export function iptablesRemoveText(state: IptablesState, ids: Iterable<string>): string {
  const remove = [...ids];
  const sections: Record<Table, string[]> = { nat: [], filter: [] };
  const left: Record<string, number> = {};
  for (const t of ["nat", "filter"] as const) {
    for (const line of state.rules[t]) {
      const chain = line.split(/\s+/)[1]!;
      if (remove.some((id) => lineHasId(line, id))) sections[t].push(`-D${line.slice(2)}`);
      else left[`${t}:${chain}`] = (left[`${t}:${chain}`] ?? 0) + 1;
    }
  }
  const any = sections.nat.length + sections.filter.length > 0;
  const ownLeft = OWN_CHAINS.some((c) => (left[`${c.table}:${c.chain}`] ?? 0) > 0);
  const ownPresent = OWN_CHAINS.some((c) => state.chains[c.table].has(c.chain));
  if (!ownLeft && ownPresent) {
    for (const j of JUMPS) if (hasJump(state, j)) sections[j.table].push(`-D ${jumpLine(j)}`);
    for (const c of OWN_CHAINS) if (state.chains[c.table].has(c.chain)) sections[c.table].push(`-X ${c.chain}`);
  } else if (!any) {
    return "";
  }
  return tableText(sections);
}

// ---- nft ---------------------------------------------------------------------------------------

/** The rule as an nft rule body (after `add rule ip tinydock <chain>`). */
export function nftExpr(r: PortRule): string {
  const a: string[] = [];
  if (r.src) a.push("ip", "saddr", r.src.endsWith("/32") ? r.src.slice(0, -3) : r.src);
  if (r.notSrc) a.push("ip", "saddr", "!=", r.notSrc);
  if (r.dst) a.push("ip", "daddr", r.dst.endsWith("/32") ? r.dst.slice(0, -3) : r.dst);
  if (r.inIface) a.push("iifname", `"${r.inIface}"`);
  if (r.outIface) a.push("oifname", `"${r.outIface}"`);
  if (r.protocol && r.sport === undefined && r.dport === undefined) a.push("meta", "l4proto", r.protocol);
  if (r.protocol && r.sport !== undefined) a.push(r.protocol, "sport", String(r.sport));
  if (r.protocol && r.dport !== undefined) a.push(r.protocol, "dport", String(r.dport));
  if (r.ctstate === "DNAT") a.push("ct", "status", "dnat");
  if (r.ctstate === "RELATED,ESTABLISHED") a.push("ct", "state", "established,related");
  if (r.ctstate === "!RELATED,ESTABLISHED,DNAT") a.push("ct", "state", "!=", "{", "established,", "related", "}", "ct", "status", "!=", "dnat");
  if (typeof r.target === "object") a.push("dnat", "to", r.target.dnat);
  else a.push(r.target === "MASQUERADE" ? "masquerade" : r.target === "DROP" ? "drop" : "accept");
  a.push("comment", `"${commentFor(r.id)}"`);
  return a.join(" ");
}

/** Our table's skeleton: base chains on the hooks, jumping to the chains the rules go in. */
export function nftTableText(): string {
  const t = NFT_TABLE;
  return [
    `table ip ${t} {`,
    `\tchain ${CHAIN_NAT} {`,
    "\t}",
    `\tchain ${CHAIN_POSTROUTING} {`,
    "\t}",
    `\tchain ${CHAIN_FORWARD} {`,
    "\t}",
    `\tchain ${CHAIN_INPUT} {`,
    "\t}",
    "\tchain prerouting {",
    "\t\ttype nat hook prerouting priority -100; policy accept;",
    `\t\tfib daddr type local jump ${CHAIN_NAT}`,
    "\t}",
    "\tchain output {",
    "\t\ttype nat hook output priority -100; policy accept;",
    `\t\tfib daddr type local jump ${CHAIN_NAT}`,
    "\t}",
    "\tchain postrouting {",
    "\t\ttype nat hook postrouting priority 100; policy accept;",
    `\t\tjump ${CHAIN_POSTROUTING}`,
    "\t}",
    "\tchain forward {",
    "\t\ttype filter hook forward priority 0; policy accept;",
    `\t\tjump ${CHAIN_FORWARD}`,
    "\t}",
    "\tchain input {",
    "\t\ttype filter hook input priority 0; policy accept;",
    `\t\tjump ${CHAIN_INPUT}`,
    "\t}",
    "}",
    "",
  ].join("\n");
}

/** `nft -f` input adding a container's rules; the table is declared first when it is missing. */
export function nftPublishText(rules: PortRule[], tableExists: boolean): string {
  if (rules.length === 0) return "";
  let out = tableExists ? "" : nftTableText();
  for (const r of rules) out += `add rule ip ${NFT_TABLE} ${r.chain} ${nftExpr(r)}\n`;
  return out;
}

/** One rule of our table as `nft -j -a list table` shows it. */
export interface NftRuleRef {
  chain: string;
  handle: number;
  comment?: string;
  /** The `iifname` it matches, if any (the localnet guards'). */
  iifname?: string;
}

/** Reads `nft -j -a list table ip tinydock` output: whether the table exists and its rules. */
export function parseNftJson(text: string): { tableExists: boolean; rules: NftRuleRef[] } {
  let doc: { nftables?: Record<string, unknown>[] };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    return { tableExists: false, rules: [] };
  }
  let tableExists = false;
  const rules: NftRuleRef[] = [];
  for (const item of doc.nftables ?? []) {
    const table = item.table as { family?: string; name?: string } | undefined;
    if (table && table.family === "ip" && table.name === NFT_TABLE) tableExists = true;
    const rule = item.rule as { family?: string; table?: string; chain?: string; handle?: number; comment?: string; expr?: unknown[] } | undefined;
    if (rule && rule.family === "ip" && rule.table === NFT_TABLE && typeof rule.handle === "number") {
      const iifname = nftIifname(rule.expr);
      rules.push({ chain: rule.chain ?? "", handle: rule.handle, comment: rule.comment, ...(iifname ? { iifname } : {}) });
    }
  }
  return { tableExists, rules };
}

/** The right side of an `iifname == "x"` match in a rule's JSON expression list. */
function nftIifname(expr: unknown[] | undefined): string | undefined {
  for (const e of expr ?? []) {
    const m = (e as { match?: { op?: string; left?: { meta?: { key?: string } }; right?: unknown } }).match;
    if (m?.op === "==" && m.left?.meta?.key === "iifname" && typeof m.right === "string") return m.right;
  }
  return undefined;
}

/** The localnet guards of our table: (container id, bridge). */
export function nftGuards(rules: NftRuleRef[]): { id: string; bridge: string }[] {
  return rules
    .filter((r) => r.chain === CHAIN_INPUT && r.iifname && r.comment?.startsWith(COMMENT_PREFIX))
    .map((r) => ({ id: r.comment!.slice(COMMENT_PREFIX.length), bridge: r.iifname! }));
}

export function nftIds(rules: NftRuleRef[]): Set<string> {
  const ids = new Set<string>();
  for (const r of rules) if (r.comment?.startsWith(COMMENT_PREFIX)) ids.add(r.comment.slice(COMMENT_PREFIX.length));
  return ids;
}

/**
 * `nft -f` input deleting the containers' rules by handle, or the whole table when no other
 * container's rule would be left.
 */
export function nftRemoveText(listing: { tableExists: boolean; rules: NftRuleRef[] }, ids: Iterable<string>): string {
  if (!listing.tableExists) return "";
  const comments = new Set([...ids].map(commentFor));
  const ours = listing.rules.filter((r) => r.comment !== undefined && comments.has(r.comment));
  const others = listing.rules.filter((r) => r.comment?.startsWith(COMMENT_PREFIX) && !comments.has(r.comment));
  if (others.length === 0) return `delete table ip ${NFT_TABLE}\n`;
  return ours.map((r) => `delete rule ip ${NFT_TABLE} ${r.chain} handle ${r.handle}\n`).join("");
}
