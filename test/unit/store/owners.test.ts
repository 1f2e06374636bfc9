// Which root owns what, on temp roots sharing one temp exec root: owners.ts (container ids) and
// hostnet.ts (address claims and bridge records of one network namespace).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { addressClaims, claimAddress, recordBridge, recordedBridges, releaseAddress } from "../../../src/network/hostnet.ts";
import { allocate } from "../../../src/network/ipam.ts";
import { parseCidr } from "../../../src/network/subnet.ts";
import { foreignIds, markPending, otherRoots, pendingIds, registerRoot, rootKey } from "../../../src/store/owners.ts";

const A1 = "a".repeat(64);
const B1 = "b".repeat(64);
const B2 = "c".repeat(64);

// roots/<key> entries written by earlier versions must still be found: the key stays sha256(root)[:32].
test("rootKey is the first 32 hex digits of the root's sha256", () => {
  expect(rootKey("/var/lib/tinydock")).toBe("0867c225296c316305617b016da9805f");
});

let dir: string;
let execRoot: string;
let rootA: string;
let rootB: string;
const ctxA = () => ({ execRoot, root: rootA });
const ctxB = () => ({ execRoot, root: rootB });
const makeContainer = (root: string, id: string) => fs.mkdirSync(path.join(root, "containers", id), { recursive: true });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-owners-"));
  execRoot = path.join(dir, "exec");
  rootA = path.join(dir, "A");
  rootB = path.join(dir, "B");
  fs.mkdirSync(rootA);
  fs.mkdirSync(rootB);
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("owners", () => {
  test("a root sees the other registered roots' containers as foreign, never its own", () => {
    registerRoot(ctxA());
    registerRoot(ctxA()); // idempotent
    registerRoot(ctxB());
    makeContainer(rootA, A1);
    makeContainer(rootB, B1);
    fs.mkdirSync(path.join(rootB, "containers", `.creating-${B2}`), { recursive: true });
    expect(otherRoots(ctxA())).toEqual([rootB]);
    expect(foreignIds(ctxA())).toEqual(new Set([B1, B2]));
    expect(foreignIds(ctxB())).toEqual(new Set([A1]));
  });

  test("an unregistered root's objects are orphans; a vanished root's entry is dropped", () => {
    registerRoot(ctxA());
    makeContainer(rootB, B1);
    expect(foreignIds(ctxA())).toEqual(new Set());
    registerRoot(ctxB());
    expect(foreignIds(ctxA())).toEqual(new Set([B1]));
    fs.rmSync(rootB, { recursive: true });
    expect(otherRoots(ctxA())).toEqual([]);
    expect(fs.readdirSync(path.join(execRoot, "roots"))).toHaveLength(1);
  });

  test("a pending id is everyone's to leave alone while its process lives", () => {
    const p = markPending(ctxB(), B1);
    expect(foreignIds(ctxA()).has(B1)).toBe(true);
    expect(foreignIds(ctxB()).has(B1)).toBe(true); // its own root's reconcile too: no directory yet
    p.release();
    expect(pendingIds(ctxA())).toEqual(new Set());
    // A record left by a killed run (its pid gone) is stale and swept.
    fs.writeFileSync(path.join(execRoot, "pending", B2), JSON.stringify({ root: rootB, pid: 2 ** 22 + 1 }));
    expect(pendingIds(ctxA())).toEqual(new Set());
    expect(fs.existsSync(path.join(execRoot, "pending", B2))).toBe(false);
  });
});

describe("hostnet", () => {
  test("two roots' leases on one bridge never share an address", () => {
    makeContainer(rootA, A1);
    makeContainer(rootB, B1);
    const { subnet } = parseCidr("10.29.0.0/16");
    const gateway = parseCidr("10.29.0.1/16").ip;
    const take = (root: string, id: string) =>
      allocate(path.join(root, "leases"), {
        subnet, gateway, alive: () => true,
        lease: { id, name: id.slice(0, 4), hostname: "h", aliases: [] },
        claim: (ip) => claimAddress({ execRoot }, "tinydock0", ip, root, id),
      });
    const ipA = take(rootA, A1);
    const ipB = take(rootB, B1);
    expect(ipA).toBe("10.29.0.2");
    expect(ipB).toBe("10.29.0.3");
    // B's own lease directory has no trace of the address it could not claim.
    expect(fs.readdirSync(path.join(rootB, "leases"))).toEqual(["10.29.0.3"]);
    expect(addressClaims({ execRoot }, "tinydock0").map((c) => [c.ip, c.root])).toEqual([
      ["10.29.0.2", rootA],
      ["10.29.0.3", rootB],
    ]);
    // A fixed address another root holds is refused.
    expect(() =>
      allocate(path.join(rootB, "leases"), {
        subnet, gateway, alive: () => true, ip: "10.29.0.2",
        lease: { id: B1, name: "b", hostname: "h", aliases: [] },
        claim: (ip) => claimAddress({ execRoot }, "tinydock0", ip, rootB, B1),
      }),
    ).toThrow("Address already in use: 10.29.0.2");
    // Only the holder releases; a claim whose container is gone is taken over.
    releaseAddress({ execRoot }, "tinydock0", ipA, B1);
    expect(addressClaims({ execRoot }, "tinydock0")).toHaveLength(2);
    fs.rmSync(path.join(rootA, "containers", A1), { recursive: true });
    makeContainer(rootB, B2);
    expect(claimAddress({ execRoot }, "tinydock0", "10.29.0.2", rootB, B2)).toBe(true);
    expect(addressClaims({ execRoot }, "tinydock0").map((c) => [c.ip, c.id])).toEqual([
      ["10.29.0.2", B2],
      ["10.29.0.3", B1],
    ]);
    releaseAddress({ execRoot }, "tinydock0", "10.29.0.2", B2);
    releaseAddress({ execRoot }, "tinydock0", ipB, B1);
    expect(addressClaims({ execRoot }, "tinydock0")).toEqual([]);
  });

  test("bridge records: only those whose device exists count, the rest are swept", () => {
    recordBridge({ execRoot }, "tinydock0", "10.29.0.0/16");
    recordBridge({ execRoot }, "tdbr-0123456789", "10.30.0.0/24");
    expect(recordedBridges({ execRoot }, (b) => b === "tinydock0")).toEqual([{ bridge: "tinydock0", subnet: "10.29.0.0/16" }]);
    expect(recordedBridges({ execRoot }, () => true)).toEqual([{ bridge: "tinydock0", subnet: "10.29.0.0/16" }]);
  });
});
