// The port rules (rules.ts) as `iptables-restore --noflush` text, and the live state as
// `iptables-save` prints it: what to declare, and exactly which lines to delete. Pure.
import { CHAIN_INPUT, commentFor, JUMPS, OWN_CHAINS, type Jump, type PortRule, type Table } from "./rules.ts";

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
