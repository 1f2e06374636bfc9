// attachNetwork/detachNetwork/reconcileNetworks on a real kernel, inside a network namespace made
// for each test (the host's network is never touched). Containers are stood in for by their
// directory and netns file: pings and name lookups run with nsenter in the container's netns.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { NetworkSettingsRecord } from "../../../src/network/attach.ts";
import { processStartTime } from "../../../src/lifecycle/liveness.ts";
import { testNetns, type TestNetns } from "./harness.ts";

const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find((p) => fs.existsSync(p)) ?? "busybox";
let t: TestNetns;
beforeEach(() => {
  t = testNetns();
});
afterEach(() => t.cleanup());

/** iptables-save without its comment lines (they carry a timestamp). */
const rules = () =>
  t
    .sh(["iptables-save"])
    .out.split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");
const links = () => t.sh(["ip", "-o", "link", "show"]).out;
/** The kernel deletes a dead netns's veth pair in the background: wait (bounded) for it. */
const vethGone = async (name: string) => {
  for (let i = 0; i < 100 && links().includes(name); i++) await Bun.sleep(20);
  return !links().includes(name);
};
const hostsOf = (id: string) => fs.readFileSync(path.join(t.root, "containers", id, "hosts"), "utf8");
const leases = (net: string) => {
  try {
    return fs.readdirSync(path.join(t.root, "networks", net, "leases"));
  } catch {
    return [];
  }
};
const netnsFiles = () => {
  try {
    return fs.readdirSync(path.join(t.root, "netns"));
  } catch {
    return [];
  }
};
/** Inside the container's netns, with its hosts file as /etc/hosts (as the bind mount gives it). */
const inContainer = (rec: NetworkSettingsRecord, id: string, cmd: string) =>
  t.sh(["nsenter", `--net=${rec.joinNamespaces[0]!.path}`, "unshare", "-m", "sh", "-c", `mount --bind ${path.join(t.root, "containers", id, "hosts")} /etc/hosts && ${cmd}`], {
    allowFail: true,
  });

describe("default bridge", () => {
  test("bridge, veth, address, route, NAT; all gone after detach and teardown", async () => {
    const before = rules();
    const id = t.fakeContainer("alpha");
    const rec = t.engine<NetworkSettingsRecord>("attach", { id, name: "alpha", hostname: id.slice(0, 12), mode: "bridge" });
    expect(rec.netns).toBe("join");
    expect(rec.endpoint).toMatchObject({ networkName: "bridge", ipAddress: "10.29.0.2", gateway: "10.29.0.1", prefixLen: 16, macAddress: "02:42:0a:1d:00:02", bridge: "tinydock0", hostVeth: `td${id.slice(0, 11)}` });
    expect(links()).toContain("tinydock0:");
    expect(links()).toMatch(new RegExp(`td${id.slice(0, 11)}@if\\d+: .*master tinydock0 .*state UP`));
    const inside = t.sh(["nsenter", `--net=${rec.netnsPath}`, "ip", "-o", "addr", "show", "eth0"]).out;
    expect(inside).toContain("inet 10.29.0.2/16");
    expect(t.sh(["nsenter", `--net=${rec.netnsPath}`, "ip", "route"]).out).toContain("default via 10.29.0.1 dev eth0");
    expect(t.sh(["nsenter", `--net=${rec.netnsPath}`, BUSYBOX, "ping", "-c", "1", "-W", "2", "10.29.0.1"]).code).toBe(0);
    expect(rules()).toContain("-A TINYDOCK-MASQUERADE -s 10.29.0.0/16 ! -o tinydock0 -j MASQUERADE");
    expect(t.sh(["cat", "/proc/sys/net/ipv4/ip_forward"]).out.trim()).toBe("1");
    expect(hostsOf(id)).toContain(`10.29.0.2\t${id.slice(0, 12)}\n`);
    expect(leases("bridge")).toEqual(["10.29.0.2"]);

    t.engine("detach", { id, record: rec });
    expect(await vethGone(`td${id.slice(0, 11)}`)).toBe(true);
    expect(netnsFiles()).toEqual([]);
    expect(leases("bridge")).toEqual([]);
    // The default bridge stays (as Docker's docker0) until prune tears it down.
    expect(links()).toContain("tinydock0:");
    t.engine("rm", { name: "bridge", teardownDefault: true });
    expect(links()).not.toContain("tinydock0");
    expect(rules()).toBe(before);
  });

  test("addresses are never handed out twice; a crashed container's lease, veth and netns are reclaimed", async () => {
    const a = t.fakeContainer("a");
    const b = t.fakeContainer("b");
    const ra = t.engine<NetworkSettingsRecord>("attach", { id: a, name: "a", hostname: "a" });
    const rb = t.engine<NetworkSettingsRecord>("attach", { id: b, name: "b", hostname: "b" });
    expect([ra.endpoint!.ipAddress, rb.endpoint!.ipAddress]).toEqual(["10.29.0.2", "10.29.0.3"]);
    // b's process was SIGKILLed and its directory removed: nothing else cleaned up.
    fs.rmSync(path.join(t.root, "containers", b), { recursive: true });
    const report = t.engine<{ netns: string[]; veths: string[]; leases: string[] }>("reconcile");
    expect(report).toEqual({ netns: [b], veths: [`td${b.slice(0, 11)}`], leases: ["bridge/10.29.0.3"] });
    expect(links()).not.toContain(`td${b.slice(0, 11)}`);
    expect(netnsFiles()).toEqual([a]);
    // The freed address is handed out again.
    const c = t.fakeContainer("c");
    expect(t.engine<NetworkSettingsRecord>("attach", { id: c, name: "c", hostname: "c" }).endpoint!.ipAddress).toBe("10.29.0.3");
    // Without a record (a run killed before saving it), detach finds what the id left.
    t.engine("detach", { id: a });
    t.engine("detach", { id: c });
    expect(netnsFiles()).toEqual([]);
    expect(leases("bridge")).toEqual([]);
    expect(await vethGone(`td${a.slice(0, 11)}`)).toBe(true);
    expect(await vethGone(`td${c.slice(0, 11)}`)).toBe(true);
  });

  test("8 runs at once (the first ones racing to make the bridge): 8 distinct addresses, one bridge, one NAT rule", async () => {
    const ids = Array.from({ length: 8 }, (_, i) => t.fakeContainer(`p${i}`));
    const procs = ids.map((id, i) =>
      Bun.spawn(["nsenter", `--net=/run/netns/${t.name}`, process.execPath, path.join(import.meta.dir, "driver.ts"), t.root, "attach", JSON.stringify({ id, name: `p${i}`, hostname: `p${i}` })], {
        stdout: "pipe",
        stderr: "pipe",
      }),
    );
    const recs = await Promise.all(
      procs.map(async (p) => {
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        if (code !== 0) throw new Error(err);
        return JSON.parse(out) as NetworkSettingsRecord;
      }),
    );
    const ips = recs.map((r) => r.endpoint!.ipAddress);
    expect(new Set(ips).size).toBe(8);
    expect(leases("bridge").sort()).toEqual([...ips].sort());
    expect(rules().match(/-j MASQUERADE/g)).toHaveLength(1);
    for (let i = 0; i < 8; i++) t.engine("detach", { id: ids[i], record: recs[i] });
    expect(leases("bridge")).toEqual([]);
  });

  test("--network container: joins the other container's netns file; none and host own nothing", () => {
    const a = t.fakeContainer("pod");
    const ra = t.engine<NetworkSettingsRecord>("attach", { id: a, name: "pod", hostname: "pod" });
    const b = t.fakeContainer("side");
    // Only a running container's network can be joined (Docker's rule, whether or not its netns
    // file is left): `pod` recorded as running as this test's own process.
    expect(t.engineFails("attach", { id: b, name: "side", hostname: "side", mode: "container:pod" })).toContain("cannot join network namespace of a non running container: container pod is created");
    fs.writeFileSync(path.join(t.root, "containers", a, "run.json"), JSON.stringify({ status: "running", pid: process.pid, pidStartTime: processStartTime(process.pid) }));
    const rb = t.engine<NetworkSettingsRecord>("attach", { id: b, name: "side", hostname: "side", mode: "container:pod" });
    expect(rb).toEqual({ mode: `container:${a}`, netns: "join", joinNamespaces: [{ ns: "net", path: ra.netnsPath! }] });
    expect(hostsOf(b)).toBe(hostsOf(a));
    expect(fs.realpathSync(path.join(t.root, "containers", b, "hosts"))).toBe(path.join(t.root, "containers", a, "hosts"));
    const c = t.fakeContainer("lonely");
    expect(t.engine("attach", { id: c, name: "lonely", hostname: "lonely", mode: "none", extraHosts: ["db:10.0.0.5"] })).toEqual({
      mode: "none",
      netns: "new",
      joinNamespaces: [],
      extraHosts: [{ host: "db", ip: "10.0.0.5" }],
    });
    expect(hostsOf(c)).toContain("10.0.0.5\tdb\n");
    expect(t.engine("attach", { id: c, name: "lonely", hostname: "lonely", mode: "host" })).toEqual({ mode: "host", netns: "host", joinNamespaces: [] });
    expect(t.engineFails("attach", { id: c, name: "x", hostname: "x", mode: "container:nosuch" })).toBe("No such container: nosuch");
    t.engine("detach", { id: b, record: rb });
    expect(netnsFiles()).toEqual([a]);
    t.engine("detach", { id: a, record: ra });
    expect(netnsFiles()).toEqual([]);
  });
});

describe("user network", () => {
  test("containers resolve each other by name and alias both ways, whatever the order; rm refused while in use", () => {
    const before = rules();
    const net = t.engine<{ name: string; id: string; subnet: string; gateway: string; bridge: string }>("create", { name: "appnet" });
    expect(net).toMatchObject({ name: "appnet", subnet: "10.30.0.0/24", gateway: "10.30.0.1", bridge: `tdbr-${net.id.slice(0, 10)}` });
    const web = t.fakeContainer("web");
    const rweb = t.engine<NetworkSettingsRecord>("attach", { id: web, name: "web", hostname: "webhost", mode: "appnet", aliases: ["www"] });
    const hostsFile = path.join(t.root, "containers", web, "hosts");
    const inode = fs.statSync(hostsFile).ino;
    const db = t.fakeContainer("db");
    const rdb = t.engine<NetworkSettingsRecord>("attach", { id: db, name: "db", hostname: "dbhost", mode: "appnet" });
    // web's file was rewritten in place (same inode: the bind mount in the container sees it).
    expect(fs.statSync(hostsFile).ino).toBe(inode);
    expect(hostsOf(web)).toContain(`10.30.0.3\tdb ${db.slice(0, 12)}\n`);
    expect(hostsOf(db)).toContain(`10.30.0.2\tweb www ${web.slice(0, 12)}\n`);
    expect(inContainer(rweb, web, `${BUSYBOX} ping -c 1 -W 2 db`).code).toBe(0);
    expect(inContainer(rdb, db, `${BUSYBOX} ping -c 1 -W 2 www`).code).toBe(0);
    expect(inContainer(rdb, db, `${BUSYBOX} ping -c 1 -W 2 web`).code).toBe(0);

    expect(t.engineFails("rm", { name: "appnet" })).toBe(
      `error while removing network: network appnet has active endpoints (name:"web" id:"${web.slice(0, 12)}", name:"db" id:"${db.slice(0, 12)}")`,
    );
    expect(t.engineFails("rm", { name: "bridge" })).toBe("bridge is a pre-defined network and cannot be removed");
    t.engine("detach", { id: db, record: rdb });
    expect(hostsOf(web)).not.toContain("db");
    t.engine("detach", { id: web, record: rweb });
    t.engine("rm", { name: "appnet" });
    expect(links()).not.toContain("tdbr-");
    expect(fs.existsSync(path.join(t.root, "networks", "appnet"))).toBe(false);
    expect(rules()).toBe(before);
  });
});

describe("network connect / disconnect", () => {
  test("a second endpoint (eth1) in the container's netns, names on both sides, and back", () => {
    t.engine("create", { name: "side" });
    const a = t.fakeContainer("a");
    const ra = t.engine<NetworkSettingsRecord>("attach", { id: a, name: "a", hostname: "ahost" });
    const b = t.fakeContainer("b");
    const rb = t.engine<NetworkSettingsRecord>("attach", { id: b, name: "b", hostname: "bhost", mode: "side" });
    expect(hostsOf(a)).not.toContain("\tb ");
    const ep = t.engine<{ ipAddress: string; hostVeth: string }>("connect", { container: "a", network: "side", aliases: ["alpha"] });
    expect(ep.ipAddress).toBe("10.30.0.3");
    expect(t.sh(["nsenter", `--net=${ra.netnsPath}`, "ip", "-o", "-4", "addr"]).out).toMatch(/eth1\s+inet 10\.30\.0\.3\/24/);
    expect(hostsOf(a)).toContain(`10.30.0.2\tb ${b.slice(0, 12)}\n`);
    expect(hostsOf(b)).toContain(`10.30.0.3\ta alpha ${a.slice(0, 12)}\n`);
    expect(inContainer(rb, b, `${BUSYBOX} ping -c 1 -W 2 alpha`).code).toBe(0);
    expect(inContainer(ra, a, `${BUSYBOX} ping -c 1 -W 2 b`).code).toBe(0);
    expect(t.engineFails("connect", { container: "a", network: "side" })).toBe("endpoint with name a already exists in network side");
    t.engine("disconnect", { container: "a", network: "side" });
    expect(t.sh(["nsenter", `--net=${ra.netnsPath}`, "ip", "-o", "link"]).out).not.toContain("eth1");
    expect(hostsOf(b)).not.toContain("alpha");
    expect(hostsOf(a)).not.toContain("\tb ");
    expect(links()).not.toContain(ep.hostVeth);
    t.engine("detach", { id: a, record: ra });
    t.engine("detach", { id: b, record: rb });
    t.engine("rm", { name: "side" });
    expect(netnsFiles()).toEqual([]);
  });
});

describe("NAT rules", () => {
  test.each(["iptables", "nft"])("%s: applied as one batch, rewritten whole, removed to nothing", (backend) => {
    const before = rules();
    const ruleset = () => t.sh(["nft", "list", "ruleset"]).out;
    const rulesetBefore = ruleset();
    const two = [
      { subnet: "10.29.0.0/16", bridge: "tinydock0" },
      { subnet: "10.30.0.0/24", bridge: "tdbr-0123456789" },
    ];
    t.engine("masquerade", { nets: two, backend });
    expect(ruleset()).toMatch(/(oifname != "tdbr-0123456789" ip saddr 10\.30\.0\.0\/24|ip saddr 10\.30\.0\.0\/24 oifname != "tdbr-0123456789").* masquerade/);
    t.engine("masquerade", { nets: two.slice(0, 1), backend });
    expect(ruleset()).not.toContain("10.30.0.0/24");
    expect(ruleset().match(/masquerade/g)).toHaveLength(1);
    t.engine("masquerade", { nets: [], backend });
    expect(rules()).toBe(before);
    // (iptables-nft leaves the built-in chains it made, as on a host that already had them)
    if (backend === "nft") expect(ruleset()).toBe(rulesetBefore);
  });
});
