// Applies the rendered rules (iptables-rules.ts, nft-rules.ts) to the kernel: one
// `iptables-restore --noflush` or `nft -f` batch per change, read from stdin, so a container's
// rules appear and disappear all at once. The live state is read first (iptables-save / nft -j
// list) to declare only what is missing and to delete exactly the lines carrying a container's
// comment. Callers serialize changes (ports.ts holds a lock).
import fs from "node:fs";
import { FailedPreconditionError, UnavailableError } from "../errors.ts";
import { iptablesGuards, iptablesIds, iptablesPublishText, iptablesRemoveText, parseIptablesSave } from "./iptables-rules.ts";
import { nftGuards, nftIds, nftPublishText, nftRemoveText, parseNftJson, NFT_TABLE, type NftListing } from "./nft-rules.ts";
import { bridgesLosingGuard, containerRules, JUMPS, localnetGuard, type PortRule, type PublishedContainer } from "./rules.ts";
import type { PortBinding } from "./portspec.ts";

export type Backend = "iptables-legacy" | "iptables-nft" | "nft";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * How commands reach the kernel: directly, or (tests, bench) inside a network namespace.
 * Synchronous (each command takes a few ms): run's undo list and teardown call it without await.
 */
export interface Host {
  run(argv: string[], input?: string): CommandResult;
  /** Writes /proc/sys/<key with dots as slashes>. */
  sysctl(key: string, value: string): void;
}

export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function spawn(argv: string[], input?: string): CommandResult {
  try {
    const r = Bun.spawnSync(argv, {
      stdin: input === undefined ? "ignore" : new TextEncoder().encode(input),
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: SYSTEM_PATH, LC_ALL: "C" },
    });
    return { code: r.exitCode ?? 128, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  } catch (err) {
    return { code: 127, stdout: "", stderr: `${argv[0]}: ${(err as Error).message}` };
  }
}

/** This process's own network namespace. */
export const localHost: Host = {
  run: spawn,
  sysctl(key, value) {
    try {
      fs.writeFileSync(`/proc/sys/${key.replace(/\./g, "/")}`, value);
    } catch (err) {
      throw new UnavailableError(`Cannot set ${key}=${value}: ${(err as Error).message}`, { cause: err });
    }
  },
};

/** Runs every command through `ip netns exec <name>` (and sysctl with it). */
export function netnsHost(name: string): Host {
  return {
    run: (argv, input) => spawn(["ip", "netns", "exec", name, ...argv], input),
    sysctl(key, value) {
      const r = spawn(["ip", "netns", "exec", name, "sysctl", "-qw", `${key}=${value}`]);
      if (r.code !== 0) throw new UnavailableError(`Cannot set ${key}=${value}: ${r.stderr.trim()}`);
    },
  };
}

/**
 * The backend the host uses: `iptables --version` says "(nf_tables)" or "(legacy)"; without
 * iptables, nft. `TINYDOCK_FIREWALL`-style overrides are the caller's (pass `backend`).
 */
export function detectBackend(host: Host): Backend {
  const r = host.run(["iptables", "--version"]);
  if (r.code === 0) {
    if (/nf_tables/.test(r.stdout)) return "iptables-nft";
    if (/legacy/.test(r.stdout)) return "iptables-legacy";
  }
  const n = host.run(["nft", "--version"]);
  if (n.code === 0) return "nft";
  throw new FailedPreconditionError("Cannot publish ports: neither iptables nor nft is installed");
}

export interface Firewall {
  readonly backend: Backend;
  /**
   * Adds the container's rules (and chains, jumps) in one batch, then turns route_localnet on for
   * its bridge: only once the batch's localnet guard (rules.ts) is in.
   */
  publish(c: PublishedContainer): void;
  /**
   * The localnet guard alone, under `id` (not a container's: a Service's NodePort on 127.0.0.1),
   * then route_localnet on for the bridge; `remove([id])` takes it away as a container's.
   */
  guard(id: string, bridge: string): void;
  /**
   * Removes every rule of these containers in one batch, and our chains when none is left; a
   * bridge whose last localnet guard went gets route_localnet off again.
   */
  remove(ids: Iterable<string>): void;
  /** The container ids our rules name. */
  ids(): Set<string>;
  /**
   * Forgets the kernel's UDP flows to these host ports (conntrack -D). A flow that began before
   * the DNAT rule existed (or after it went) keeps its old translation while packets keep coming;
   * Docker flushes them too. Best effort: without the conntrack tool, nothing is done.
   */
  forgetUdpFlows(bindings: PortBinding[]): void;
}

function forgetUdpFlows(host: Host, bindings: PortBinding[]): void {
  for (const b of bindings) {
    if (b.protocol !== "udp") continue;
    const argv = ["conntrack", "-D", "-p", "udp", "--orig-port-dst", String(b.hostPort)];
    if (b.hostIp !== "") argv.push("--orig-dst", b.hostIp);
    // Exit 1 with "0 flow entries have been deleted" is the common case; 127: no conntrack tool.
    const r = host.run(argv);
    if (r.code === 127) return;
  }
}

/** route_localnet off on these bridges; one already deleted has nothing to turn off. */
function closeLocalnet(host: Host, bridges: string[]): void {
  for (const b of bridges) {
    try {
      host.sysctl(`net.ipv4.conf.${b}.route_localnet`, "0");
    } catch {
      // the bridge is gone, and its setting with it
    }
  }
}

function failed(what: string, r: CommandResult, text?: string): never {
  const detail = (r.stderr || r.stdout).trim().split("\n").slice(0, 3).join("; ");
  const err = new UnavailableError(`Cannot ${what}: ${detail || `exit status ${r.code}`}`);
  if (text !== undefined) (err as { batch?: string }).batch = text;
  throw err;
}

/**
 * What both backends do the same way: publishing a container's ports and guarding 127.0.0.1 on a
 * bridge are rules added to the live set (then route_localnet on), and UDP flows are forgotten
 * through conntrack. The backends differ in how rules are read and written.
 */
abstract class RuleFirewall {
  constructor(protected readonly host: Host) {}

  /** Puts `rules` (not empty) in the live set. */
  protected abstract addRules(rules: PortRule[], what: string): void;

  publish(c: PublishedContainer): void {
    this.add(containerRules(c), c.bridge, `publish the ports of ${c.id.slice(0, 12)}`);
  }

  guard(id: string, bridge: string): void {
    this.add([localnetGuard(id, bridge)], bridge, `guard 127.0.0.1 on ${bridge}`);
  }

  private add(rules: PortRule[], bridge: string, what: string): void {
    if (rules.length === 0) return;
    this.addRules(rules, what);
    this.host.sysctl(`net.ipv4.conf.${bridge}.route_localnet`, "1");
  }

  forgetUdpFlows(bindings: PortBinding[]): void {
    return forgetUdpFlows(this.host, bindings);
  }
}

class IptablesFirewall extends RuleFirewall implements Firewall {
  constructor(
    readonly backend: "iptables-legacy" | "iptables-nft",
    host: Host,
  ) {
    super(host);
  }

  private state() {
    const r = this.host.run([`${this.backend}-save`]);
    if (r.code !== 0) failed(`read the firewall (${this.backend}-save)`, r);
    return parseIptablesSave(r.stdout);
  }

  private restore(text: string, what: string): void {
    if (text === "") return;
    const argv = [`${this.backend}-restore`, "--noflush"];
    if (this.backend === "iptables-legacy") argv.push("-w", "10");
    const r = this.host.run(argv, text);
    if (r.code !== 0) failed(`${what} (${this.backend}-restore)`, r, text);
  }

  protected addRules(rules: PortRule[], what: string): void {
    this.restore(iptablesPublishText(rules, this.state()), what);
  }

  remove(ids: Iterable<string>): void {
    const list = [...ids];
    const state = this.state();
    const text = iptablesRemoveText(state, list);
    this.restore(text, `remove the port rules of ${list.map((i) => i.slice(0, 12)).join(", ")}`);
    closeLocalnet(this.host, bridgesLosingGuard(iptablesGuards(state), list));
    if (this.backend === "iptables-nft" && text.includes("\n-X ")) this.dropEmptyBaseChains();
  }

  /**
   * iptables-nft creates a built-in chain (nat PREROUTING, OUTPUT…) the first time a rule goes in
   * it, and never removes it. Once our jumps are gone, an empty one with policy accept does nothing:
   * delete those our jumps were in, so the ruleset is what it was, in one `nft -f` batch (a hook
   * unregisters in ~15 ms; one transaction pays it once). `delete chain` refuses a chain that has
   * rules: if someone filled one meanwhile the batch fails as a whole and the chains stay, harmless.
   */
  private dropEmptyBaseChains(): void {
    const deletes: string[] = [];
    for (const table of ["nat", "filter"] as const) {
      const r = this.host.run(["nft", "-j", "list", "table", "ip", table]);
      if (r.code !== 0) continue;
      const empty = emptyAcceptChains(r.stdout);
      for (const j of JUMPS) if (j.table === table && empty.has(j.from)) deletes.push(`delete chain ip ${table} ${j.from}\n`);
    }
    if (deletes.length > 0) this.host.run(["nft", "-f", "-"], [...new Set(deletes)].join(""));
  }

  ids(): Set<string> {
    return iptablesIds(this.state());
  }

}

/** `nft -j list table` output: its base chains with policy accept and no rule. */
export function emptyAcceptChains(json: string): Set<string> {
  const out = new Set<string>();
  try {
    const items = (JSON.parse(json) as { nftables?: Record<string, unknown>[] }).nftables ?? [];
    const used = new Set(items.map((i) => (i.rule as { chain?: string } | undefined)?.chain).filter(Boolean));
    for (const i of items) {
      const chain = i.chain as { name?: string; policy?: string; hook?: string } | undefined;
      if (chain?.name && chain.hook !== undefined && chain.policy === "accept" && !used.has(chain.name)) out.add(chain.name);
    }
  } catch {
    // not JSON: nothing is known to be empty
  }
  return out;
}

class NftFirewall extends RuleFirewall implements Firewall {
  readonly backend = "nft" as const;

  private listing(): NftListing {
    const r = this.host.run(["nft", "-j", "-a", "list", "table", "ip", NFT_TABLE]);
    // No such table: nft says so on stderr with a non-zero status.
    if (r.code !== 0) {
      if (/No such file or directory|does not exist/i.test(r.stderr)) return { tableExists: false, chains: new Set(), rules: [] };
      failed("read the firewall (nft list table)", r);
    }
    return parseNftJson(r.stdout);
  }

  private apply(text: string, what: string): void {
    if (text === "") return;
    const r = this.host.run(["nft", "-f", "-"], text);
    if (r.code !== 0) failed(`${what} (nft -f)`, r, text);
  }

  protected addRules(rules: PortRule[], what: string): void {
    const { tableExists, chains } = this.listing();
    this.apply(nftPublishText(rules, tableExists, chains), what);
  }

  remove(ids: Iterable<string>): void {
    const list = [...ids];
    const listing = this.listing();
    this.apply(nftRemoveText(listing, list), `remove the port rules of ${list.map((i) => i.slice(0, 12)).join(", ")}`);
    closeLocalnet(this.host, bridgesLosingGuard(nftGuards(listing.rules), list));
  }

  ids(): Set<string> {
    return nftIds((this.listing()).rules);
  }

}

export function createFirewall(backend: Backend, host: Host = localHost): Firewall {
  return backend === "nft" ? new NftFirewall(host) : new IptablesFirewall(backend, host);
}

/** The host's own firewall, backend detected. */
export function hostFirewall(host: Host = localHost, backend?: Backend): Firewall {
  return createFirewall(backend ?? detectBackend(host), host);
}
