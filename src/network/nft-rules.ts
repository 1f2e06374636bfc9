// The port rules (rules.ts) as `nft -f` text in a table of our own, and the live table as
// `nft -j -a list` shows it: rules found by their comment, deleted by handle. Pure.
import { CHAIN_FORWARD, CHAIN_INPUT, CHAIN_NAT, CHAIN_POSTROUTING, COMMENT_PREFIX, commentFor, OWN_CHAINS, type PortRule } from "./rules.ts";

/** Our own table, so `nft delete table` removes everything at once. */
export const NFT_TABLE = "tinydock";

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

/** The base chains of our table, on the hooks, each jumping to the chain the rules go in. */
const NFT_BASE_CHAINS: readonly { name: string; hook: string; jump: string }[] = [
  { name: "prerouting", hook: "type nat hook prerouting priority -100; policy accept;", jump: `fib daddr type local jump ${CHAIN_NAT}` },
  { name: "output", hook: "type nat hook output priority -100; policy accept;", jump: `fib daddr type local jump ${CHAIN_NAT}` },
  { name: "postrouting", hook: "type nat hook postrouting priority 100; policy accept;", jump: `jump ${CHAIN_POSTROUTING}` },
  { name: "forward", hook: "type filter hook forward priority 0; policy accept;", jump: `jump ${CHAIN_FORWARD}` },
  { name: "input", hook: "type filter hook input priority 0; policy accept;", jump: `jump ${CHAIN_INPUT}` },
];

/** Our table's skeleton: the chains the rules go in, and the base chains jumping to them. */
export function nftTableText(): string {
  const lines = [`table ip ${NFT_TABLE} {`];
  for (const c of OWN_CHAINS) lines.push(`\tchain ${c.chain} {`, "\t}");
  for (const b of NFT_BASE_CHAINS) lines.push(`\tchain ${b.name} {`, `\t\t${b.hook}`, `\t\t${b.jump}`, "\t}");
  lines.push("}", "");
  return lines.join("\n");
}

/**
 * `nft -f` input adding what an existing table lacks of the skeleton (a table made by an older
 * version, before a chain was added to it): its own chains first, then each missing base chain
 * with its jump. "" when nothing is missing, so publishing twice adds nothing twice.
 */
export function nftMissingChainsText(chains: ReadonlySet<string>): string {
  let out = "";
  for (const c of OWN_CHAINS) if (!chains.has(c.chain)) out += `add chain ip ${NFT_TABLE} ${c.chain}\n`;
  for (const b of NFT_BASE_CHAINS) {
    if (chains.has(b.name)) continue;
    out += `add chain ip ${NFT_TABLE} ${b.name} { ${b.hook} }\n`;
    out += `add rule ip ${NFT_TABLE} ${b.name} ${b.jump}\n`;
  }
  return out;
}

/**
 * `nft -f` input adding a container's rules; the table is declared first when it is missing, and
 * an existing one gets the chains it lacks (`chains`: those it has; omitted, it has them all).
 */
export function nftPublishText(rules: PortRule[], tableExists: boolean, chains?: ReadonlySet<string>): string {
  if (rules.length === 0) return "";
  let out = !tableExists ? nftTableText() : chains ? nftMissingChainsText(chains) : "";
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

/** What `nft -j -a list table ip tinydock` shows: whether the table exists, its chains and rules. */
export interface NftListing {
  tableExists: boolean;
  chains: Set<string>;
  rules: NftRuleRef[];
}

/** Reads `nft -j -a list table ip tinydock` output. */
export function parseNftJson(text: string): NftListing {
  let doc: { nftables?: Record<string, unknown>[] };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    return { tableExists: false, chains: new Set(), rules: [] };
  }
  let tableExists = false;
  const chains = new Set<string>();
  const rules: NftRuleRef[] = [];
  for (const item of doc.nftables ?? []) {
    const table = item.table as { family?: string; name?: string } | undefined;
    if (table && table.family === "ip" && table.name === NFT_TABLE) tableExists = true;
    const chain = item.chain as { family?: string; table?: string; name?: string } | undefined;
    if (chain && chain.family === "ip" && chain.table === NFT_TABLE && typeof chain.name === "string") chains.add(chain.name);
    const rule = item.rule as { family?: string; table?: string; chain?: string; handle?: number; comment?: string; expr?: unknown[] } | undefined;
    if (rule && rule.family === "ip" && rule.table === NFT_TABLE && typeof rule.handle === "number") {
      const iifname = nftIifname(rule.expr);
      rules.push({ chain: rule.chain ?? "", handle: rule.handle, comment: rule.comment, ...(iifname ? { iifname } : {}) });
    }
  }
  return { tableExists, chains, rules };
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
export function nftRemoveText(listing: Pick<NftListing, "tableExists" | "rules">, ids: Iterable<string>): string {
  if (!listing.tableExists) return "";
  const comments = new Set([...ids].map(commentFor));
  const ours = listing.rules.filter((r) => r.comment !== undefined && comments.has(r.comment));
  const others = listing.rules.filter((r) => r.comment?.startsWith(COMMENT_PREFIX) && !comments.has(r.comment));
  if (others.length === 0) return `delete table ip ${NFT_TABLE}\n`;
  return ours.map((r) => `delete rule ip ${NFT_TABLE} ${r.chain} handle ${r.handle}\n`).join("");
}
