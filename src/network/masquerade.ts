// Outbound NAT for the bridges: chain TINYDOCK-MASQUERADE (nat) masquerades each bridge's subnet
// when it leaves through another interface, and TINYDOCK-BRIDGES (filter) lets the bridges'
// traffic through a FORWARD policy of DROP (what a host running Docker has). Both chains are
// rewritten whole, as one iptables-restore --noflush batch (declaring a chain flushes it), on
// iptables-legacy and iptables-nft alike: iptables-restore is the same alternative as iptables.
// Hosts without iptables get the same rules in an nft table of our own (tinydock-bridges).
// Port publishing (src/network/rules.ts) keeps per-container, comment-tagged rules in
// TINYDOCK-POSTROUTING/TINYDOCK-FORWARD and deletes those chains when they empty; a whole-chain
// rewrite there would wipe its rules, hence chains of our own.
import fs from "node:fs";
import { InternalError } from "../errors.ts";
import { formatSubnet, parseCidr } from "./subnet.ts";

export const NAT_CHAIN = "TINYDOCK-MASQUERADE";
export const FORWARD_CHAIN = "TINYDOCK-BRIDGES";

export interface BridgeNet {
  subnet: string;
  bridge: string;
}

/** Which of our chains and jumps `iptables-save` shows. */
export interface ChainState {
  natChain: boolean;
  natJump: boolean;
  forwardChain: boolean;
  forwardJump: boolean;
}

export function parseChainState(save: string): ChainState {
  let table = "";
  const st: ChainState = { natChain: false, natJump: false, forwardChain: false, forwardJump: false };
  for (const line of save.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1).trim();
    else if (table === "nat" && line.startsWith(`:${NAT_CHAIN} `)) st.natChain = true;
    else if (table === "nat" && line.trim() === `-A POSTROUTING -j ${NAT_CHAIN}`) st.natJump = true;
    else if (table === "filter" && line.startsWith(`:${FORWARD_CHAIN} `)) st.forwardChain = true;
    else if (table === "filter" && line.trim() === `-A FORWARD -j ${FORWARD_CHAIN}`) st.forwardJump = true;
  }
  return st;
}

/**
 * The batch that makes our chains hold exactly `nets`' rules; with no nets it removes chains and
 * jumps, leaving iptables as before the first bridge. Empty string: nothing to do.
 */
export function masqueradeRules(nets: BridgeNet[], have: ChainState): string {
  const nat: string[] = [];
  const filter: string[] = [];
  if (nets.length) {
    nat.push(`:${NAT_CHAIN} - [0:0]`);
    if (!have.natJump) nat.push(`-A POSTROUTING -j ${NAT_CHAIN}`);
    filter.push(`:${FORWARD_CHAIN} - [0:0]`);
    if (!have.forwardJump) filter.push(`-I FORWARD -j ${FORWARD_CHAIN}`);
    for (const n of nets) {
      const subnet = formatSubnet(parseCidr(n.subnet).subnet);
      nat.push(`-A ${NAT_CHAIN} -s ${subnet} ! -o ${n.bridge} -j MASQUERADE`);
      filter.push(`-A ${FORWARD_CHAIN} -i ${n.bridge} -j ACCEPT`);
      filter.push(`-A ${FORWARD_CHAIN} -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    }
  } else {
    if (have.natJump) nat.push(`-D POSTROUTING -j ${NAT_CHAIN}`);
    if (have.natChain) nat.push(`:${NAT_CHAIN} - [0:0]`, `-X ${NAT_CHAIN}`);
    if (have.forwardJump) filter.push(`-D FORWARD -j ${FORWARD_CHAIN}`);
    if (have.forwardChain) filter.push(`:${FORWARD_CHAIN} - [0:0]`, `-X ${FORWARD_CHAIN}`);
  }
  const out: string[] = [];
  if (nat.length) out.push("*nat", ...nat, "COMMIT");
  if (filter.length) out.push("*filter", ...filter, "COMMIT");
  return out.length ? `${out.join("\n")}\n` : "";
}

const SBIN = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

function tool(name: string): string {
  return Bun.which(name) ?? Bun.which(name, { PATH: SBIN.join(":") }) ?? name;
}

function run(argv: string[], input?: string): string {
  const r = Bun.spawnSync(argv, { stdin: input === undefined ? "ignore" : Buffer.from(input), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    const why = new TextDecoder().decode(r.stderr).trim().split("\n")[0] || `exit code ${r.exitCode}`;
    throw new InternalError(`Cannot apply the bridge NAT rules (${argv[0]}): ${why}`);
  }
  return new TextDecoder().decode(r.stdout);
}

/** "legacy" or "nf_tables", from `iptables --version` ("iptables v1.8.9 (nf_tables)"). */
export function iptablesVariant(): "legacy" | "nf_tables" {
  return /nf_tables/.test(run([tool("iptables"), "--version"])) ? "nf_tables" : "legacy";
}

/** nft's table for hosts without iptables: ours alone, replaced whole in one transaction. */
export const NFT_TABLE = "tinydock-bridges";

/**
 * `nft -f` input making NFT_TABLE hold exactly `nets`' rules (declare, delete, re-create: one
 * atomic transaction whether or not the table existed); no nets: the table goes.
 */
export function nftMasqueradeText(nets: BridgeNet[]): string {
  const t = `table ip ${NFT_TABLE}`;
  const lines = [t, `delete ${t}`];
  if (nets.length) {
    lines.push(`${t} {`, "\tchain postrouting {", "\t\ttype nat hook postrouting priority srcnat; policy accept;");
    for (const n of nets) lines.push(`\t\tip saddr ${formatSubnet(parseCidr(n.subnet).subnet)} oifname != "${n.bridge}" masquerade`);
    lines.push("\t}", "\tchain forward {", "\t\ttype filter hook forward priority filter; policy accept;");
    for (const n of nets) {
      lines.push(`\t\tiifname "${n.bridge}" accept`);
      lines.push(`\t\toifname "${n.bridge}" ct state established,related accept`);
    }
    lines.push("\t}", "}");
  }
  return `${lines.join("\n")}\n`;
}

export type FirewallBackend = "iptables" | "nft";

/** iptables-restore when there is one (legacy or nft flavour alike), else nft. */
export function firewallBackend(): FirewallBackend {
  const has = (n: string) => (Bun.which(n) ?? Bun.which(n, { PATH: SBIN.join(":") })) !== null;
  return has("iptables-restore") && has("iptables-save") ? "iptables" : "nft";
}

/** Reads the current chains, and applies the difference to `nets` as one batch. */
export function applyMasquerade(nets: BridgeNet[], backend: FirewallBackend = firewallBackend()): void {
  if (backend === "nft") {
    run([tool("nft"), "-f", "-"], nftMasqueradeText(nets));
    return;
  }
  const have = parseChainState(run([tool("iptables-save")]));
  const batch = masqueradeRules(nets, have);
  if (batch) run([tool("iptables-restore"), "--noflush"], batch);
}

/** net.ipv4.ip_forward of the engine's network namespace (the container traffic is routed). */
export function enableIpForward(procSys = "/proc/sys"): void {
  const file = `${procSys}/net/ipv4/ip_forward`;
  if (fs.readFileSync(file, "utf8").trim() !== "1") fs.writeFileSync(file, "1\n");
}
