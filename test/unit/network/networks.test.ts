// Network records on a temp root: predefined networks, subnets from the pools, Docker's errors.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createContext, DEFAULT_CONFIG_VALUES, type Ctx } from "../../../src/context.ts";
import { inspectNetwork } from "../../../src/network/inspect.ts";
import { createNetwork, findNetwork, listNetworks } from "../../../src/network/networks.ts";
import { fakeSys } from "../../../src/sys/fake.ts";

let dir: string;
let ctx: Ctx;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-nets-"));
  ctx = createContext({
    env: { TINYDOCK_ROOT: dir, TINYDOCK_CONFIG: path.join(dir, "none.json") },
    sys: fakeSys(),
    overrides: { config: { ...DEFAULT_CONFIG_VALUES, defaultAddressPools: [{ base: "10.50.0.0/22", size: 24 }] } },
  });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("networks", () => {
  test("bridge, host and none exist from the start, with stable ids", () => {
    const first = listNetworks(ctx);
    expect(first.map((n) => [n.name, n.driver])).toEqual([
      ["bridge", "bridge"],
      ["host", "host"],
      ["none", "null"],
    ]);
    expect(first[0]).toMatchObject({ subnet: "10.29.0.0/16", gateway: "10.29.0.1", bridge: "tinydock0" });
    expect(listNetworks(ctx).map((n) => n.id)).toEqual(first.map((n) => n.id));
    expect(findNetwork(ctx, first[1]!.id.slice(0, 6)).name).toBe("host");
  });

  test("subnets from the pools, never overlapping; --subnet and --gateway checked", async () => {
    const a = await createNetwork(ctx, { name: "a" });
    const b = await createNetwork(ctx, { name: "b" });
    expect([a.subnet, a.gateway, b.subnet]).toEqual(["10.50.0.0/24", "10.50.0.1", "10.50.1.0/24"]);
    expect(a.bridge).toBe(`tdbr-${a.id.slice(0, 10)}`);
    expect(a.bridge!.length).toBeLessThanOrEqual(15);
    const c = await createNetwork(ctx, { name: "c", subnet: "192.168.77.0/24", gateway: "192.168.77.254" });
    expect([c.subnet, c.gateway]).toEqual(["192.168.77.0/24", "192.168.77.254"]);
    await expect(createNetwork(ctx, { name: "d", subnet: "10.50.1.128/25" })).rejects.toThrow("Pool overlaps with other one");
    await expect(createNetwork(ctx, { name: "d", subnet: "10.60.0.0/24", gateway: "10.61.0.1" })).rejects.toThrow("no matching subnet for gateway 10.61.0.1");
    await expect(createNetwork(ctx, { name: "a" })).rejects.toThrow("network with name a already exists");
    await expect(createNetwork(ctx, { name: "host" })).rejects.toThrow("operation is not permitted on predefined host network");
    await expect(createNetwork(ctx, { name: "-x" })).rejects.toThrow('invalid network name "-x"');
    await createNetwork(ctx, { name: "e" });
    await createNetwork(ctx, { name: "f" });
    await expect(createNetwork(ctx, { name: "g" })).rejects.toThrow("could not find an available, non-overlapping IPv4 address pool");
    expect(() => findNetwork(ctx, "nope")).toThrow("network nope not found");
  });

  test("inspect has Docker's shape", async () => {
    const n = await createNetwork(ctx, { name: "app", labels: { team: "x" } });
    const view = inspectNetwork(n, [{ ip: "10.50.0.2", id: "ab".repeat(32), name: "web", hostname: "web", aliases: [] }]) as Record<string, any>;
    expect(view.IPAM.Config).toEqual([{ Subnet: "10.50.0.0/24", Gateway: "10.50.0.1" }]);
    expect(view.Containers["ab".repeat(32)]).toMatchObject({ Name: "web", MacAddress: "02:42:0a:32:00:02", IPv4Address: "10.50.0.2/24" });
    expect(view.Options).toEqual({ "com.docker.network.bridge.name": n.bridge });
    expect(view.Labels).toEqual({ team: "x" });
  });
});
