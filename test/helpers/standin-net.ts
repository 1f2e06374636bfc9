// A stand-in for tinydock's network, built in namespaces of its own so the machine's network is
// never touched: a "host" netns with the bridge, "container" netns on veths into it, and an
// "external" netns on a veth to the host (a client on another machine). Used by the port tests and
// bench/net.ts until real containers have networking.
//
//   ext (198.51.100.2) ──veth── host (198.51.100.1; bridge 10.89.0.1/24) ──veth── cN (10.89.0.N+1)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Subprocess } from "bun";
import { netnsHost, SYSTEM_PATH, type Host } from "../../src/network/firewall.ts";
import type { Protocol } from "../../src/network/portspec.ts";

export const BRIDGE = "tdbr0";
export const SUBNET = "10.89.0.0/24";
export const GATEWAY = "10.89.0.1";
export const HOST_ADDR = "198.51.100.1";
export const EXT_ADDR = "198.51.100.2";

export interface StandIn {
  prefix: string;
  /** netns names */
  host: string;
  ext: string;
  containers: { ns: string; ip: string }[];
  /** The host netns as firewall.ts sees it. */
  hostExec: Host;
  dir: string;
  /** Starts a long-running command in a netns; killed by pid at destroy. */
  spawn(ns: string, argv: string[]): Subprocess;
  /** Runs a command in a netns to completion (bounded by timeoutMs). */
  exec(ns: string, argv: string[], opts?: { input?: string; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Whether nothing listens on the port in the host netns (for allocateHostPorts). */
  isFree(port: number, protocol: Protocol): Promise<boolean>;
  destroy(): Promise<void>;
}

function sh(argv: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync(argv, { env: { PATH: SYSTEM_PATH, LC_ALL: "C" }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? 128, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function must(argv: string[]): string {
  const r = sh(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export function netnsPrefix(): string {
  return `tdt-${Math.random().toString(36).slice(2, 8)}`;
}

/** Builds the topology with `count` containers; on any failure what was made is removed. */
export async function createStandIn(count = 2, prefix = netnsPrefix()): Promise<StandIn> {
  const host = `${prefix}-h`;
  const ext = `${prefix}-x`;
  const containers = Array.from({ length: count }, (_, i) => ({ ns: `${prefix}-c${i + 1}`, ip: `10.89.0.${i + 2}` }));
  const made: string[] = [];
  const procs: Subprocess[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const destroy = async () => {
    for (const p of procs) {
      try {
        p.kill("SIGKILL");
      } catch {
        // gone already
      }
    }
    await Promise.all(procs.map((p) => Promise.race([p.exited, Bun.sleep(3000)])));
    for (const ns of made.reverse()) sh(["ip", "netns", "del", ns]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const ns of [host, ext, ...containers.map((c) => c.ns)]) {
      must(["ip", "netns", "add", ns]);
      made.push(ns);
      must(["ip", "-n", ns, "link", "set", "lo", "up"]);
    }
    must(["ip", "netns", "exec", host, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    // A host has its nat and filter tables (in both iptables variants); a new netns has none
    // until its first rule, and neither variant removes an emptied table.
    for (const restore of ["iptables-nft-restore", "iptables-legacy-restore"]) {
      must(["ip", "netns", "exec", host, "sh", "-c", `printf '*nat\\n:TDT - [0:0]\\n-X TDT\\nCOMMIT\\n*filter\\n:TDT - [0:0]\\n-X TDT\\nCOMMIT\\n' | ${restore} --noflush`]);
    }
    must(["ip", "-n", host, "link", "add", BRIDGE, "type", "bridge"]);
    must(["ip", "-n", host, "addr", "add", `${GATEWAY}/24`, "dev", BRIDGE]);
    must(["ip", "-n", host, "link", "set", BRIDGE, "up"]);
    must(["ip", "-n", host, "link", "add", "vext", "type", "veth", "peer", "name", "eth0", "netns", ext]);
    must(["ip", "-n", host, "addr", "add", `${HOST_ADDR}/24`, "dev", "vext"]);
    must(["ip", "-n", host, "link", "set", "vext", "up"]);
    must(["ip", "-n", ext, "addr", "add", `${EXT_ADDR}/24`, "dev", "eth0"]);
    must(["ip", "-n", ext, "link", "set", "eth0", "up"]);
    containers.forEach((c, i) => {
      const veth = `vc${i + 1}`;
      must(["ip", "-n", host, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", c.ns]);
      must(["ip", "-n", host, "link", "set", veth, "master", BRIDGE]);
      must(["ip", "-n", host, "link", "set", veth, "up"]);
      must(["ip", "-n", c.ns, "addr", "add", `${c.ip}/24`, "dev", "eth0"]);
      must(["ip", "-n", c.ns, "link", "set", "eth0", "up"]);
      must(["ip", "-n", c.ns, "route", "add", "default", "via", GATEWAY]);
    });
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    prefix,
    host,
    ext,
    containers,
    hostExec: netnsHost(host),
    dir,
    spawn(ns, argv) {
      const p = Bun.spawn(["ip", "netns", "exec", ns, ...argv], {
        env: { PATH: SYSTEM_PATH, LC_ALL: "C" },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      procs.push(p);
      return p;
    },
    async exec(ns, argv, opts = {}) {
      const p = Bun.spawn(["ip", "netns", "exec", ns, ...argv], {
        env: { PATH: SYSTEM_PATH, LC_ALL: "C" },
        stdin: opts.input === undefined ? "ignore" : new TextEncoder().encode(opts.input),
        stdout: "pipe",
        stderr: "pipe",
      });
      const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
      try {
        const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        return { code, stdout, stderr };
      } finally {
        clearTimeout(timer);
      }
    },
    async isFree(port, protocol) {
      if (protocol === "sctp") return true;
      const r = sh(["ip", "netns", "exec", host, "ss", "-Hln", protocol === "tcp" ? "-t" : "-u", `sport = :${port}`]);
      return r.code === 0 && r.stdout.trim() === "";
    },
    destroy,
  };
}

/** Waits (bounded) until something in `ns` listens on the TCP or UDP port. */
export async function waitListening(s: StandIn, ns: string, port: number, protocol: "tcp" | "udp" = "tcp", timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await s.exec(ns, ["ss", "-Hln", protocol === "tcp" ? "-t" : "-u", `sport = :${port}`]);
    if (r.stdout.trim() !== "") return;
    await Bun.sleep(20);
  }
  throw new Error(`nothing listens on ${port}/${protocol} in ${ns} after ${timeoutMs} ms`);
}

/** The firewall as every backend sees it, for before/after comparisons. */
export async function rulesetSnapshot(s: StandIn): Promise<string> {
  const strip = (t: string) => t.split("\n").filter((l) => !l.startsWith("#")).map((l) => l.replace(/\[\d+:\d+\]/g, "[0:0]")).join("\n");
  const out: string[] = [];
  for (const argv of [["iptables-nft-save"], ["iptables-legacy-save"], ["nft", "list", "ruleset"]]) {
    const r = await s.exec(s.host, argv);
    out.push(`== ${argv[0]} (exit ${r.code})\n${strip(r.stdout)}`);
  }
  return out.join("\n");
}
