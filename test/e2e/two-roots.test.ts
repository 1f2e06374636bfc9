// Two roots on one host (TINYDOCK_ROOT per CI job), sharing one exec root, one network namespace
// (made for this file) and the default bridge tinydock0: root B's prunes leave root A's running
// container, its cgroup, veth, address and published port alone; B's containers get other
// addresses; once A's container is gone and both roots prune, nothing of either is left.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BINARY, cliEnv, type CliEnv, type CliResult } from "../helpers/cli.ts";
import { newCliEnv, startImageRegistry, startNetns, unmountUnder, until, type TestNetns } from "../helpers/e2e.ts";
import type { TestRegistry } from "../helpers/registry.ts";

const ready = process.getuid?.() === 0 && fs.existsSync(BINARY);

let reg: TestRegistry;
let dir = "";
let execRoot = "";
const envs: Record<"A" | "B", CliEnv> = {} as Record<"A" | "B", CliEnv>;
let net: TestNetns | undefined;
const inNs = (argv: string[]) => net!.inNs(argv);
const sh = (argv: string[]) => net!.sh(argv);
const curl = (url: string) => net!.curl(url);
const T = (who: "A" | "B", args: string[]): CliResult => {
  const r = Bun.spawnSync(inNs([BINARY, ...args]), {
    env: { ...cliEnv(envs[who]), TINYDOCK_EXEC_ROOT: execRoot },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  return { code: r.exitCode ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};
const ok = (who: "A" | "B", args: string[]): string => {
  const r = T(who, args);
  if (r.code !== 0) throw new Error(`${who}: tinydock ${args.join(" ")}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
};
const ipOf = (who: "A" | "B", ref: string): string =>
  (JSON.parse(ok(who, ["inspect", ref])) as { NetworkSettings: { IPAddress: string } }[])[0]!.NetworkSettings.IPAddress;
const PAGE = "Hello from tinydock";

/** Every cgroup directory tinydock/<id> of these ids, in any hierarchy. */
function cgroupsOf(ids: string[]): string[] {
  const out: string[] = [];
  const roots = fs.existsSync("/sys/fs/cgroup/cgroup.controllers") ? ["/sys/fs/cgroup"] : fs.readdirSync("/sys/fs/cgroup").map((h) => `/sys/fs/cgroup/${h}`);
  for (const r of roots) for (const id of ids) if (fs.existsSync(path.join(r, "tinydock", id))) out.push(path.join(r, "tinydock", id));
  return out;
}

describe.skipIf(!ready)("two roots on one host", () => {
  const ids: string[] = [];

  beforeAll(async () => {
    reg = await startImageRegistry();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-two-roots-"));
    execRoot = path.join(dir, "exec");
    for (const who of ["A", "B"] as const) envs[who] = newCliEnv(path.join(dir, who), reg);
    net = startNetns();
    // The registry listens in this process's namespace, not in the test's.
    for (const who of ["A", "B"] as const) {
      const r = Bun.spawnSync([BINARY, "pull", "-q", "busybox"], { env: { ...cliEnv(envs[who]), TINYDOCK_EXEC_ROOT: execRoot }, stdout: "pipe", stderr: "pipe" });
      expect(r.stderr.toString()).toBe("");
    }
  }, 120_000);

  afterAll(async () => {
    for (const who of ["A", "B"] as const) {
      if (!envs[who]) continue;
      T(who, ["rm", "-f", "web", "other"]);
      T(who, ["system", "prune", "-f"]);
      T(who, ["network", "prune", "-f"]);
    }
    net?.del();
    unmountUnder(dir);
    await reg?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("B's prunes leave A's container running and reachable; B gets another address; nothing left after", async () => {
    const web = ok("A", ["run", "-d", "--name", "web", "-p", "8080:8080", "busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]).trim();
    ids.push(web);
    await until("A's web on 127.0.0.1:8080", () => curl("http://127.0.0.1:8080/").includes(PAGE));
    const ipA = ipOf("A", "web");
    expect(ipA).toMatch(/^10\.29\./);

    // B has its own records of the default network, and prunes everything it thinks is unused.
    ok("B", ["run", "--rm", "busybox", "true"]);
    ok("B", ["system", "prune", "-f"]);
    ok("B", ["container", "prune", "-f"]);
    ok("B", ["network", "prune", "-f"]);

    expect(ok("A", ["ps", "-q", "--no-trunc"]).trim()).toBe(web);
    expect(cgroupsOf([web]).length).toBeGreaterThan(0);
    expect(curl("http://127.0.0.1:8080/")).toContain(PAGE);
    expect(sh(["ip", "-br", "link", "show", "tinydock0"]).code).toBe(0);
    expect(sh(["ip", "-br", "link", "show", `td${web.slice(0, 11)}`]).code).toBe(0);
    // Outbound NAT of the bridge survived B's rewrite of the chains.
    expect(sh(["iptables-save", "-t", "nat"]).stdout).toContain("-A TINYDOCK-MASQUERADE -s 10.29.0.0/16 ! -o tinydock0 -j MASQUERADE");

    // B's next container: another address than A's; its port clash with A's 8080 is refused.
    const other = ok("B", ["run", "-d", "--name", "other", "busybox", "sleep", "60"]).trim();
    ids.push(other);
    expect(ipOf("B", "other")).not.toBe(ipA);
    const clash = T("B", ["run", "--rm", "-p", "8080:80", "busybox", "true"]);
    expect(clash.stderr).toContain("port is already allocated");
    // A reconciles too: B's container stays.
    ok("A", ["system", "prune", "-f"]);
    expect(ok("B", ["ps", "-q", "--no-trunc"]).trim()).toBe(other);
    expect(curl("http://127.0.0.1:8080/")).toContain(PAGE);

    ok("B", ["rm", "-f", "other"]);
    ok("A", ["rm", "-f", "web"]);
    for (const who of ["A", "B"] as const) {
      ok(who, ["system", "prune", "-f"]);
      ok(who, ["network", "prune", "-f"]);
    }
    // Leak check: links, rules, cgroups, netns files, shared records.
    expect(sh(["ip", "-br", "link"]).stdout).not.toMatch(/tinydock0|^td/m);
    const rules = sh(["iptables-save"]).stdout;
    expect(rules).not.toContain("TINYDOCK");
    expect(sh(["nft", "list", "tables"]).stdout).not.toContain("tinydock");
    expect(cgroupsOf(ids)).toEqual([]);
    for (const who of ["A", "B"] as const) {
      const netns = path.join(envs[who].root, "netns");
      expect(fs.existsSync(netns) ? fs.readdirSync(netns) : []).toEqual([]);
    }
    const left: string[] = [];
    const walk = (p: string) => {
      for (const n of fs.readdirSync(p)) {
        const q = path.join(p, n);
        if (fs.statSync(q).isDirectory()) walk(q);
        else if (!/(^|\/)(lock|ports\.lock)$/.test(q) && !q.includes("/roots/")) left.push(path.relative(execRoot, q));
      }
    };
    if (fs.existsSync(execRoot)) walk(execRoot);
    expect(left).toEqual([]);
  }, 180_000);
});
