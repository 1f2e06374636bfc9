// A `tinydock` nft table made by a version without TINYDOCK-INPUT (the localnet guard's chain and
// its input hook): publishing into it declares what it lacks, once, before the rules.
import { describe, expect, test } from "bun:test";
import { createFirewall, type Host } from "../../../src/network/firewall.ts";
import { nftMissingChainsText, nftPublishText, nftTableText, parseNftJson } from "../../../src/network/nft-rules.ts";
import { parsePortSpecs } from "../../../src/network/portspec.ts";
import { containerRules, type PublishedContainer } from "../../../src/network/rules.ts";

const ID = "a".repeat(64);
const OTHER = "b".repeat(64);
const web: PublishedContainer = { id: ID, ip: "172.18.0.2", bridge: "tinydock0", subnet: "172.18.0.0/16", bindings: parsePortSpecs(["127.0.0.1:8081:80"]) };

const chain = (name: string, hook?: string) => ({ chain: { family: "ip", table: "tinydock", name, handle: 1, ...(hook ? { type: "filter", hook, prio: 0, policy: "accept" } : {}) } });
/** `nft -j -a list table ip tinydock` of the table as the older version made it, with one container's rule. */
const OLD_LISTING = JSON.stringify({
  nftables: [
    { metainfo: { version: "1.0.6" } },
    { table: { family: "ip", name: "tinydock", handle: 7 } },
    chain("TINYDOCK"),
    chain("TINYDOCK-POSTROUTING"),
    chain("TINYDOCK-FORWARD"),
    chain("prerouting", "prerouting"),
    chain("output", "output"),
    chain("postrouting", "postrouting"),
    chain("forward", "forward"),
    { rule: { family: "ip", table: "tinydock", chain: "TINYDOCK", handle: 12, comment: `tinydock:${OTHER}`, expr: [] } },
  ],
});

describe("an nft table without the localnet guard's chain", () => {
  test("the listing names the table's chains", () => {
    expect(parseNftJson(OLD_LISTING).chains).toEqual(new Set(["TINYDOCK", "TINYDOCK-POSTROUTING", "TINYDOCK-FORWARD", "prerouting", "output", "postrouting", "forward"]));
  });

  test("publish declares TINYDOCK-INPUT and the input hook with its jump, before the guard rule", () => {
    const calls: { argv: string[]; input?: string }[] = [];
    const host: Host = {
      run(argv, input) {
        calls.push({ argv, input });
        return { code: 0, stdout: argv.includes("list") ? OLD_LISTING : "", stderr: "" };
      },
      sysctl() {},
    };
    createFirewall("nft", host).publish(web);
    const batch = calls.find((c) => c.argv.join(" ") === "nft -f -")!.input!.split("\n");
    expect(batch.slice(0, 3)).toEqual([
      "add chain ip tinydock TINYDOCK-INPUT",
      "add chain ip tinydock input { type filter hook input priority 0; policy accept; }",
      "add rule ip tinydock input jump TINYDOCK-INPUT",
    ]);
    expect(batch.filter((l) => l.startsWith("add rule ip tinydock TINYDOCK-INPUT ")).length).toBe(1);
    expect(batch.some((l) => l.startsWith("table ip"))).toBe(false);
  });

  test("a complete table gets no chain again (publishing twice adds nothing twice)", () => {
    const all = new Set(["TINYDOCK", "TINYDOCK-POSTROUTING", "TINYDOCK-FORWARD", "TINYDOCK-INPUT", "prerouting", "output", "postrouting", "forward", "input"]);
    expect(nftMissingChainsText(all)).toBe("");
    expect(nftPublishText(containerRules(web), true, all)).toBe(nftPublishText(containerRules(web), true));
    // Every chain the fresh table declares is one a repair would add to an empty table.
    const declared = [...nftTableText().matchAll(/^\tchain (\S+) \{$/gm)].map((m) => m[1]!);
    expect(nftMissingChainsText(new Set(declared))).toBe("");
    expect(nftMissingChainsText(new Set()).match(/^add chain /gm)?.length).toBe(declared.length);
  });
});
