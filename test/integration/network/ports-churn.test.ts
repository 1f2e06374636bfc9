// Many containers publishing and unpublishing in random order on every backend, and publishes
// SIGKILLed at random moments: the live rules always name exactly the containers that published,
// and once they are gone (unpublish, or reconcile after a crash) the ruleset is what it was.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { createFirewall, type Backend } from "../../../src/network/firewall.ts";
import type { PublishedContainer } from "../../../src/network/rules.ts";
import { testContext, type TestEnv } from "../../helpers/ctx.ts";
import { BRIDGE, createStandIn, rulesetSnapshot, SUBNET, type StandIn } from "../../helpers/standin-net.ts";

const root = process.getuid?.() === 0;
const DRIVER = path.join(import.meta.dir, "ports-driver.ts");

/** A small seeded generator: a failure can be replayed from the seed printed with it. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const idOf = (n: number) => n.toString(16).padStart(64, "0");

for (const backend of ["iptables-nft", "iptables-legacy", "nft"] as const satisfies readonly Backend[]) {
  describe.skipIf(!root)(`churn on ${backend}`, () => {
    let s: StandIn;
    beforeAll(async () => {
      s = await createStandIn(0);
    });
    afterAll(async () => {
      await s?.destroy();
    });

    test("random publish/unpublish of 8 containers, 40 steps", async () => {
      const seed = Date.now() % 100000;
      const random = rng(seed);
      const firewall = createFirewall(backend, s.hostExec);
      const before = await rulesetSnapshot(s);
      const live = new Set<string>();
      for (let step = 0; step < 40; step++) {
        const n = 1 + Math.floor(random() * 8);
        const id = idOf(n);
        if (live.has(id) && random() < 0.6) {
          await firewall.remove([id]);
          live.delete(id);
        } else if (!live.has(id)) {
          const c: PublishedContainer = {
            id, ip: `10.89.0.${10 + n}`, bridge: BRIDGE, subnet: SUBNET,
            bindings: [
              { hostIp: "", hostPort: 9000 + n, containerPort: 80, protocol: "tcp" },
              { hostIp: random() < 0.5 ? "127.0.0.1" : "", hostPort: 9100 + n, containerPort: 53, protocol: "udp" },
            ],
          };
          await firewall.publish(c);
          live.add(id);
        }
        expect({ seed, step, ids: [...(await firewall.ids())].sort() }).toEqual({ seed, step, ids: [...live].sort() });
      }
      await firewall.remove(live);
      expect(await rulesetSnapshot(s)).toBe(before);
    }, 120_000);

    test("publish SIGKILLed at random moments: reconcile leaves the ruleset as it was", async () => {
      if (backend !== "iptables-nft") return; // the driver uses the host's backend (iptables --version)
      const env: TestEnv = testContext();
      try {
        const before = await rulesetSnapshot(s);
        const random = rng(Date.now() % 100000);
        for (let i = 0; i < 8; i++) {
          const id = idOf(100 + i);
          const dir = path.join(env.root, "containers", id);
          fs.mkdirSync(dir, { recursive: true });
          fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify({ id, name: `k${i}` }));
          const p = Bun.spawn(
            ["nsenter", `--net=/run/netns/${s.host}`, process.execPath, DRIVER, env.root, "publish",
              JSON.stringify({ id, ip: "10.89.0.50", bridge: BRIDGE, subnet: SUBNET, specs: [`${9200 + i}:80`, "127.0.0.1::81"] })],
            { stdout: "ignore", stderr: "ignore" },
          );
          // From before the driver has started to after it has finished (~150 ms here).
          await Bun.sleep(i * 50 + random() * 50);
          p.kill("SIGKILL");
          await p.exited;
          // The container is removed by a user (or never finished): its directory goes.
          fs.rmSync(dir, { recursive: true });
        }
        const r = Bun.spawnSync(["nsenter", `--net=/run/netns/${s.host}`, process.execPath, DRIVER, env.root, "reconcile", "{}"], { stdout: "pipe", stderr: "pipe" });
        expect(r.stderr.toString()).toBe("");
        const orphans = JSON.parse(r.stdout.toString()) as string[];
        expect(orphans.length).toBeGreaterThan(0);
        expect(await rulesetSnapshot(s)).toBe(before);
      } finally {
        env.cleanup();
      }
    }, 120_000);
  });
}
