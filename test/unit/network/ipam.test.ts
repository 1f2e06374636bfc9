import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { allocate, readLeases, reconcileLeases, release } from "../../../src/network/ipam.ts";
import { parseCidr, parseIpv4 } from "../../../src/network/subnet.ts";

let dir: string;
beforeEach(() => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "td-ipam-")), "leases");
});
afterEach(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

const subnet = parseCidr("10.9.0.0/29").subnet; // hosts .1-.6, gateway .1
const lease = (id: string) => ({ id, name: id, hostname: id, aliases: [] });
const live = new Set<string>();
const req = (id: string, ip?: string) => ({ subnet, gateway: parseIpv4("10.9.0.1")!, lease: lease(id), alive: (x: string) => live.has(x), ...(ip ? { ip } : {}) });

describe("allocate", () => {
  test("lowest free host address, never the gateway, never twice; exhausted pool is an error", () => {
    const got: string[] = [];
    for (const id of ["a", "b", "c", "d", "e"]) {
      live.add(id);
      got.push(allocate(dir, req(id)));
    }
    expect(got).toEqual(["10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"]);
    live.add("f");
    expect(() => allocate(dir, req("f"))).toThrow("no available IPv4 addresses");
    release(dir, "10.9.0.4", "c");
    expect(allocate(dir, req("f"))).toBe("10.9.0.4");
  });
  test("a fixed address, taken or outside the subnet", () => {
    live.add("a");
    live.add("b");
    expect(allocate(dir, req("a", "10.9.0.5"))).toBe("10.9.0.5");
    expect(() => allocate(dir, req("b", "10.9.0.5"))).toThrow("Address already in use: 10.9.0.5");
    expect(() => allocate(dir, req("b", "10.9.0.1"))).toThrow("not a free host address");
    expect(() => allocate(dir, req("b", "10.9.1.2"))).toThrow("not a free host address");
  });
  test("a lease whose container is gone is free again; a torn lease too", () => {
    live.add("a");
    expect(allocate(dir, req("a"))).toBe("10.9.0.2");
    fs.writeFileSync(path.join(dir, "10.9.0.3"), "{not json"); // killed between create and write
    live.delete("a");
    live.add("b");
    expect(allocate(dir, req("b"))).toBe("10.9.0.2");
    expect(readLeases(dir).map((l) => [l.ip, l.id])).toEqual([["10.9.0.2", "b"]]);
  });
  test("release leaves another holder's lease alone; reconcile keeps the live", () => {
    live.add("a");
    allocate(dir, req("a"));
    release(dir, "10.9.0.2", "zzz");
    expect(readLeases(dir)).toHaveLength(1);
    release(dir, "10.9.0.2", "a");
    release(dir, "10.9.0.2", "a"); // idempotent
    expect(readLeases(dir)).toHaveLength(0);
    allocate(dir, req("a"));
    expect(reconcileLeases(dir, (id) => id === "a").map((l) => l.id)).toEqual(["a"]);
  });
});
