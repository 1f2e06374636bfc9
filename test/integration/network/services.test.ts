// Services' rules (network/services.ts) on both backends, with the real iptables-restore and nft in a
// namespace the test makes: applied, their endpoints switched by a second apply, removed one by
// one, the shared chains and jumps going with the last one, nothing of ours left.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { netnsHost, SYSTEM_PATH, type Host } from "../../../src/network/firewall.ts";
import { clusterIpOf, type ServiceSpec } from "../../../src/network/service-rules.ts";
import { applyService, removeService } from "../../../src/network/services.ts";
import { netnsPrefix } from "../../helpers/standin-net.ts";

let ns = "";
let host: Host;
beforeEach(() => {
  ns = `${netnsPrefix()}-svc`;
  const r = Bun.spawnSync(["ip", "netns", "add", ns], { env: { PATH: SYSTEM_PATH }, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr.toString()}`);
  host = netnsHost(ns);
});
afterEach(() => void Bun.spawnSync(["ip", "netns", "del", ns], { env: { PATH: SYSTEM_PATH } }));

const web: ServiceSpec = { owner: "0123456789ab", name: "web", type: "NodePort", ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: "tcp" }] };
const db: ServiceSpec = { owner: "0123456789ab", name: "db", type: "ClusterIP", ports: [{ port: 5432, targetPort: 5432, protocol: "tcp" }, { port: 53, targetPort: 53, protocol: "udp" }] };
const save = () => host.run(["iptables-save", "-t", "nat"]).stdout.split("\n").filter((l) => l.startsWith("-A") || l.startsWith(":"));
const filter = () => host.run(["iptables-save", "-t", "filter"]).stdout.split("\n").filter((l) => l.startsWith("-A"));
const ruleset = () => host.run(["nft", "list", "ruleset"]).stdout;

describe("iptables", () => {
  test("apply, switch endpoints, remove: the shared chains go with the last Service", () => {
    applyService(web, clusterIpOf(web), ["10.77.0.2", "10.77.0.3", "10.77.0.4"], "iptables", host);
    applyService(db, clusterIpOf(db), ["10.77.0.9"], "iptables", host);
    const dnats = () => save().filter((l) => l.includes("-j DNAT"));
    expect(dnats()).toHaveLength(3 + 2);
    expect(save().filter((l) => l === "-A PREROUTING -j TINYDOCK-KUBE-SERVICES" || l === "-A OUTPUT -j TINYDOCK-KUBE-SERVICES" || l === "-A POSTROUTING -j TINYDOCK-KUBE-POSTROUTING")).toHaveLength(3);
    // Again with one endpoint less: the port chain refilled, the entries and jumps not doubled.
    applyService(web, clusterIpOf(web), ["10.77.0.2", "10.77.0.4"], "iptables", host);
    expect(dnats().filter((l) => l.includes(":8080"))).toEqual([expect.stringContaining("--probability 0.5"), expect.stringMatching(/-j DNAT --to-destination 10\.77\.0\.4:8080$/)]);
    expect(save().filter((l) => l.startsWith("-A TINYDOCK-KUBE-SERVICES "))).toHaveLength(2 + 2);
    expect(save().filter((l) => l.startsWith("-A PREROUTING "))).toHaveLength(1);
    // No endpoint: nothing DNATs, nothing is marked.
    applyService(web, clusterIpOf(web), [], "iptables", host);
    expect(dnats().filter((l) => l.includes(":8080"))).toEqual([]);
    removeService(web, "iptables", host);
    expect(save().join("\n")).not.toContain("tinydock-kube-svc 0123456789ab web");
    expect(save()).toContain("-A PREROUTING -j TINYDOCK-KUBE-SERVICES");
    removeService(db, "iptables", host);
    removeService(db, "iptables", host); // twice: nothing to do
    expect(save().join("\n")).not.toContain("TINYDOCK-KUBE");
  });
});

describe("iptables: no endpoints, two roots", () => {
  test("a Service without endpoints is rejected in the filter table; endpoints take the REJECTs away", () => {
    applyService(web, clusterIpOf(web), [], "iptables", host);
    const rejects = () => filter().filter((l) => l.startsWith("-A TINYDOCK-KUBE-REJECT "));
    expect(rejects()).toEqual([
      expect.stringMatching(new RegExp(`^-A TINYDOCK-KUBE-REJECT -d ${clusterIpOf(web).replace(/\./g, "\\.")}/32 -p tcp -m tcp --dport 80 .* -j REJECT --reject-with icmp-port-unreachable$`)),
      expect.stringMatching(/-m addrtype --dst-type LOCAL -m tcp --dport 30080 .* -j REJECT --reject-with icmp-port-unreachable$/),
    ]);
    expect(filter().filter((l) => l.endsWith("-j TINYDOCK-KUBE-REJECT"))).toEqual(["INPUT", "FORWARD", "OUTPUT"].map((h) => `-A ${h} -m conntrack --ctstate NEW -j TINYDOCK-KUBE-REJECT`));
    applyService(web, clusterIpOf(web), ["10.77.0.2"], "iptables", host);
    expect(rejects()).toEqual([]);
    applyService(web, clusterIpOf(web), [], "iptables", host);
    applyService(web, clusterIpOf(web), [], "iptables", host); // again: not doubled
    expect(rejects()).toHaveLength(2);
    removeService(web, "iptables", host);
    expect(filter().join("\n")).not.toContain("TINYDOCK-KUBE");
  });

  test("the same Service of two roots: apart in chains and comments; removing one leaves the other whole", () => {
    const other: ServiceSpec = { ...web, owner: "ba9876543210" };
    expect(clusterIpOf(other)).not.toBe(clusterIpOf(web));
    // A taken address moves the next Service on.
    expect(clusterIpOf(other, new Set([clusterIpOf(other)]))).not.toBe(clusterIpOf(other));
    applyService(web, clusterIpOf(web), ["10.77.0.2"], "iptables", host);
    applyService(other, clusterIpOf(other), [], "iptables", host);
    const chains = () => save().filter((l) => l.startsWith(":TINYDOCK-KUBE-SVC-"));
    expect(chains()).toHaveLength(2);
    removeService(other, "iptables", host);
    expect(chains()).toHaveLength(1);
    expect(save().filter((l) => l.includes("-j DNAT"))).toEqual([expect.stringContaining("10.77.0.2:8080")]);
    expect(filter().filter((l) => l.startsWith("-A TINYDOCK-KUBE-REJECT "))).toEqual([]);
    expect(save().filter((l) => l.startsWith("-A TINYDOCK-KUBE-SERVICES "))).toHaveLength(2);
    removeService(web, "iptables", host);
    expect([...save(), ...filter()].join("\n")).not.toContain("TINYDOCK-KUBE");
  });
});

describe("nft", () => {
  test("without endpoints the Service's table rejects new connections; with them it does not", () => {
    applyService(web, clusterIpOf(web), [], "nft", host);
    const t = () => host.run(["nft", "list", "table", "ip", "tinydock-kube-0123456789ab-web"]).stdout;
    expect(t()).toContain(`ip daddr ${clusterIpOf(web)} tcp dport 80 reject`);
    expect(t()).toContain("fib daddr type local tcp dport 30080 reject");
    expect(t()).toContain("type filter hook output priority filter; policy accept;");
    applyService(web, clusterIpOf(web), ["10.77.0.2"], "nft", host);
    expect(t()).not.toContain("reject");
    removeService(web, "nft", host);
    expect(ruleset()).not.toContain("tinydock");
  });

  test("a table per Service, replaced whole by a second apply, deleted by remove", () => {
    applyService(web, clusterIpOf(web), ["10.77.0.2", "10.77.0.3", "10.77.0.4"], "nft", host);
    applyService(db, clusterIpOf(db), ["10.77.0.9"], "nft", host);
    const web3 = host.run(["nft", "list", "table", "ip", "tinydock-kube-0123456789ab-web"]).stdout;
    expect(web3).toContain("numgen random mod 3 vmap { 0 : jump ep-0-0, 1 : jump ep-0-1, 2 : jump ep-0-2 }");
    expect(web3).toContain("fib daddr type local tcp dport 30080 jump port-0");
    expect(web3).toContain(`ip daddr ${clusterIpOf(web)} tcp dport 80 jump port-0`);
    expect(web3).toMatch(/meta mark & 0x0*4000 == 0x0*4000 masquerade/);
    applyService(web, clusterIpOf(web), ["10.77.0.4"], "nft", host);
    const web1 = host.run(["nft", "list", "table", "ip", "tinydock-kube-0123456789ab-web"]).stdout;
    expect(web1).toContain("numgen random mod 1 vmap { 0 : jump ep-0-0 }");
    expect(web1).toContain("dnat to 10.77.0.4:8080");
    expect(web1).not.toContain("10.77.0.2");
    removeService(web, "nft", host);
    removeService(web, "nft", host);
    expect(ruleset()).not.toContain("tinydock-kube-0123456789ab-web");
    expect(ruleset()).toContain("tinydock-kube-0123456789ab-db");
    removeService(db, "nft", host);
    expect(ruleset()).not.toContain("tinydock");
  });
});
