// Container networking as a user sees it, with the compiled ./tinydock run inside a network
// namespace made for this file (nsenter --net: the mount namespace stays the host's, so the
// engine's netns files persist between commands). Only the test netns and its containers are
// contacted; the image comes from a registry on the host's loopback, pulled before.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { CliEnv } from "../helpers/cli.ts";
import { until, useE2e, type E2e } from "../helpers/e2e.ts";

let env: CliEnv;
let dir: string;
let T: E2e["T"], sh: E2e["sh"], rules: E2e["rules"], links: E2e["links"];
/** A foreground `run` left running in the background (its own supervisor). */
const background = (args: string[]) => e.spawn(["run", ...args]);
let rulesBefore = "";
const e = useE2e({ prefix: "td-net-e2e-" }, (e) => {
  ({ env, dir, T, sh, rules, links } = e);
  rulesBefore = rules();
});

describe("default bridge", () => {
  test("eth0 with an address from the bridge's subnet, a default route, the gateway answers", () => {
    const r = T(["run", "--rm", "busybox", "sh", "-c", "ip -o -4 addr show eth0; ip route; ping -c 1 -W 2 10.29.0.1 >/dev/null && echo PING-OK"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/eth0\s+inet 10\.29\.0\.\d+\/16/);
    expect(r.stdout).toContain("default via 10.29.0.1 dev eth0");
    expect(r.stdout).toContain("PING-OK");
    expect(rules()).toContain("-A TINYDOCK-MASQUERADE -s 10.29.0.0/16 ! -o tinydock0 -j MASQUERADE");
  });

  test("--hostname, --dns, --dns-search, --dns-option, --add-host", () => {
    const r = T(["run", "--rm", "--hostname", "box", "--dns", "192.0.2.53", "--dns-search", "corp.test", "--dns-option", "ndots:3", "--add-host", "db:192.0.2.7", "busybox", "sh", "-c", "hostname; cat /etc/resolv.conf /etc/hosts"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("box");
    expect(r.stdout).toContain("nameserver 192.0.2.53\nsearch corp.test\noptions ndots:3\n");
    expect(r.stdout).toContain("192.0.2.7\tdb\n");
    expect(r.stdout).toMatch(/10\.29\.0\.\d+\tbox\n/);
  });

  test("--network none: only lo; --network host: the host's links", () => {
    const none = T(["run", "--rm", "--network", "none", "busybox", "ip", "-o", "link"]);
    expect(none.code).toBe(0);
    expect(none.stdout.trim().split("\n").map((l) => l.split(":")[1]!.trim())).toEqual(["lo"]);
    const host = T(["run", "--rm", "--network", "host", "busybox", "ip", "-o", "link"]);
    expect(host.code).toBe(0);
    expect(host.stdout).toContain("tinydock0");
  });
});

describe("user network and container:", () => {
  test("by name and alias both ways whatever the start order; rm refused while in use; container: shares localhost", async () => {
    expect(T(["network", "create", "appnet"]).code).toBe(0);
    const out = path.join(dir, "out");
    fs.mkdirSync(out);
    // a starts first and waits (bounded) until it can reach b by name: its hosts file is rewritten
    // in place when b joins. --dns 127.0.0.1: a name not (yet) in the hosts file fails at once
    // instead of waiting for the host's resolver, unreachable from the test netns.
    const a = background(["--rm", "--name", "a", "--network", "appnet", "--dns", "127.0.0.1", "-v", `${out}:/out`, "busybox", "sh", "-c",
      "i=0; while [ $i -lt 100 ]; do ping -c 1 -W 1 b >/dev/null 2>&1 && echo A-SEES-B > /out/a && break; i=$((i+1)); sleep 0.1; done; " +
      "httpd -f -p 127.0.0.1:8080 -h /out & sleep 3"]);
    await until("a's lease", () => fs.existsSync(path.join(env.root, "networks", "appnet", "leases", "10.30.0.2")));
    const b = T(["run", "--rm", "--name", "b", "--network", "appnet", "--dns", "127.0.0.1", "--network-alias", "bee", "busybox", "sh", "-c", "ping -c 1 -W 2 a >/dev/null && echo B-SEES-A; sleep 1"]);
    expect(b.stdout).toContain("B-SEES-A");
    await until("a sees b", () => fs.existsSync(path.join(out, "a")));
    // a's network, its localhost: the pod pattern
    await until("a's httpd", () => T(["run", "--rm", "--network", "container:a", "busybox", "wget", "-qO-", "http://127.0.0.1:8080/a"]).stdout.includes("A-SEES-B"));
    const rm = T(["network", "rm", "appnet"]);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toMatch(/^Error: error while removing network: network appnet has active endpoints \(name:"a" id:"[0-9a-f]{12}"\)\n$/);
    // a's exit code is not the point here (its proof is /out/a); under a busy machine a stray
    // SIGKILL from another suite's cleanup was seen once (ftrace: a bun process, not ours).
    await a.exited;
    expect(T(["network", "rm", "appnet"]).code).toBe(0);
  }, 60_000);
});

describe("lifecycle", () => {
  test("ps and inspect show the network; rm -f of a running container frees it", async () => {
    const p = background(["--name", "lived", "busybox", "sleep", "30"]);
    await until("lived's veth", () => /td[0-9a-f]{11}/.test(links()));
    await until("lived running", () => T(["ps", "--format", "{{.Names}} {{.Networks}}"]).stdout.includes("lived bridge"));
    const ins = JSON.parse(T(["inspect", "lived"]).stdout)[0].NetworkSettings;
    expect(ins.IPAddress).toMatch(/^10\.29\.0\.\d+$/);
    expect(ins.Networks.bridge.Gateway).toBe("10.29.0.1");
    expect(T(["rm", "-f", "lived"]).code).toBe(0);
    await p.exited;
    await until("veth gone", () => !/td[0-9a-f]{11}/.test(links()), 5_000);
    expect(fs.readdirSync(path.join(env.root, "netns"))).toEqual([]);
    expect(fs.readdirSync(path.join(env.root, "networks", "bridge", "leases"))).toEqual([]);
  }, 60_000);
});

describe("SIGKILL", () => {
  test("tinydock killed mid-run: the container dies with it; rm -f frees its netns, veth and lease", async () => {
    const p = background(["--name", "victim", "busybox", "sleep", "30"]);
    await until("victim's netns file", () => {
      const d = path.join(env.root, "netns");
      return fs.existsSync(d) && fs.readdirSync(d).length === 1;
    });
    await until("victim's veth", () => /td[0-9a-f]{11}/.test(links()));
    p.kill(9);
    await p.exited;
    // The record says running, its supervisor is gone: rm -f tears the network down.
    expect(T(["rm", "-f", "victim"]).code).toBe(0);
    await until("veth gone", () => !/td[0-9a-f]{11}/.test(links()), 5_000);
    expect(fs.readdirSync(path.join(env.root, "netns"))).toEqual([]);
    // (prune also removed the unused default network's record, leases dir included)
    const leases = path.join(env.root, "networks", "bridge", "leases");
    expect(fs.existsSync(leases) ? fs.readdirSync(leases) : []).toEqual([]);
  }, 60_000);
});

describe("nothing left", () => {
  test("no veth, no lease, no netns file; after prune no bridge and iptables as before", async () => {
    await until("veths gone", () => !/td[0-9a-f]{11}/.test(links()), 5_000);
    const leases = path.join(env.root, "networks", "bridge", "leases");
    expect(fs.existsSync(leases) ? fs.readdirSync(leases) : []).toEqual([]);
    const netns = path.join(env.root, "netns");
    expect(fs.existsSync(netns) ? fs.readdirSync(netns) : []).toEqual([]);
    expect(T(["network", "prune", "-f"]).code).toBe(0);
    expect(links()).not.toContain("tinydock0");
    expect(links()).not.toContain("tdbr-");
    expect(rules()).toBe(rulesBefore);
  });
});
