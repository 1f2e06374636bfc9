// Publishing into a `tinydock` nft table made by a version without the localnet guard (no
// TINYDOCK-INPUT chain, no input hook), with the real nft in a namespace the test makes: the table
// gets the chain and hook once, the guard rule goes in, and removal still empties the table.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { createFirewall, netnsHost, SYSTEM_PATH, type Host } from "../../../src/network/firewall.ts";
import { parsePortSpecs } from "../../../src/network/portspec.ts";
import { netnsPrefix } from "../../helpers/standin-net.ts";

const ID = "a".repeat(64);
const ID2 = "c".repeat(64);
const OTHER = "b".repeat(64);
const BRIDGE = "tdup0";

/** The table as the version before TINYDOCK-INPUT wrote it (its nftTableText), with one container's rule. */
const OLD_TABLE = [
  "table ip tinydock {",
  "\tchain TINYDOCK {",
  "\t}",
  "\tchain TINYDOCK-POSTROUTING {",
  "\t}",
  "\tchain TINYDOCK-FORWARD {",
  "\t}",
  "\tchain prerouting {",
  "\t\ttype nat hook prerouting priority -100; policy accept;",
  "\t\tfib daddr type local jump TINYDOCK",
  "\t}",
  "\tchain output {",
  "\t\ttype nat hook output priority -100; policy accept;",
  "\t\tfib daddr type local jump TINYDOCK",
  "\t}",
  "\tchain postrouting {",
  "\t\ttype nat hook postrouting priority 100; policy accept;",
  "\t\tjump TINYDOCK-POSTROUTING",
  "\t}",
  "\tchain forward {",
  "\t\ttype filter hook forward priority 0; policy accept;",
  "\t\tjump TINYDOCK-FORWARD",
  "\t}",
  "}",
  `add rule ip tinydock TINYDOCK tcp dport 9090 dnat to 10.77.0.3:80 comment "tinydock:${OTHER}"`,
  "",
].join("\n");

let ns = "";
let host: Host;

function must(argv: string[], input?: string): string {
  const r = host.run(argv, input);
  if (r.code !== 0) throw new Error(`${argv.join(" ")}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

beforeEach(() => {
  ns = `${netnsPrefix()}-nft`;
  const r = Bun.spawnSync(["ip", "netns", "add", ns], { env: { PATH: SYSTEM_PATH }, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr.toString()}`);
  host = netnsHost(ns);
  must(["ip", "link", "add", BRIDGE, "type", "bridge"]);
  must(["nft", "-f", "-"], OLD_TABLE);
});

afterEach(() => {
  Bun.spawnSync(["ip", "netns", "del", ns], { env: { PATH: SYSTEM_PATH } });
});

interface Item {
  chain?: { name: string; hook?: string };
  rule?: { chain: string; comment?: string; expr: Record<string, unknown>[] };
}
function table(): Item[] {
  return (JSON.parse(must(["nft", "-j", "list", "table", "ip", "tinydock"])) as { nftables: Item[] }).nftables;
}
const published = (id: string, ip: string, port: string) => ({ id, ip, bridge: BRIDGE, subnet: "10.77.0.0/24", bindings: parsePortSpecs([port]) });

test("an old-style table: publish works, the guard is in place, chain and hook made once", () => {
  const fw = createFirewall("nft", host);
  fw.publish(published(ID, "10.77.0.2", "127.0.0.1:8081:80"));
  fw.publish(published(ID2, "10.77.0.4", "8082:80"));

  const items = table();
  const inputHooks = items.filter((i) => i.chain?.hook === "input");
  expect(inputHooks.map((i) => i.chain!.name)).toEqual(["input"]);
  expect(items.filter((i) => i.chain?.name === "TINYDOCK-INPUT").length).toBe(1);
  const jumps = items.filter((i) => i.rule?.chain === "input").map((i) => JSON.stringify(i.rule!.expr));
  expect(jumps).toEqual([JSON.stringify([{ jump: { target: "TINYDOCK-INPUT" } }])]);
  const guards = items.filter((i) => i.rule?.chain === "TINYDOCK-INPUT");
  expect(guards.map((g) => g.rule!.comment)).toEqual([`tinydock:${ID}`, `tinydock:${ID2}`]);
  for (const g of guards) {
    const text = JSON.stringify(g.rule!.expr);
    expect(text).toContain(`"right":"${BRIDGE}"`);
    expect(text).toContain('"drop":null');
  }
  expect(must(["sysctl", "-n", `net.ipv4.conf.${BRIDGE}.route_localnet`]).trim()).toBe("1");
  expect(fw.ids()).toEqual(new Set([ID, ID2, OTHER]));

  // The old container's rule is still there; the last one out takes the table.
  fw.remove([ID, ID2]);
  expect(fw.ids()).toEqual(new Set([OTHER]));
  expect(must(["sysctl", "-n", `net.ipv4.conf.${BRIDGE}.route_localnet`]).trim()).toBe("0");
  fw.remove([OTHER]);
  expect(host.run(["nft", "list", "table", "ip", "tinydock"]).code).not.toBe(0);
});
