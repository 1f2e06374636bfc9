import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { port } from "../../../src/cli/commands/port.ts";
import type { Io } from "../../../src/cli/command.ts";
import type { Firewall } from "../../../src/network/firewall.ts";
import { parsePortSpecs, type PortBinding } from "../../../src/network/portspec.ts";
import { allocateHostPorts, ephemeralRange, portIsFree, publishPorts, readPorts, unpublishPorts } from "../../../src/network/ports.ts";
import type { PublishedContainer } from "../../../src/network/rules.ts";
import { testContext, type TestEnv } from "../../helpers/ctx.ts";

const free = async () => true;
const seq = (...xs: number[]) => () => xs.shift() ?? 0;

describe("allocateHostPorts", () => {
  test("explicit ports are checked against other containers, 0.0.0.0 overlapping every address", async () => {
    const taken = parsePortSpecs(["127.0.0.1:8080:80"]).map((b) => ({ ...b }));
    await expect(allocateHostPorts(parsePortSpecs(["8080:80"]), taken, { isFree: free, range: [40000, 40001], random: Math.random })).rejects.toThrow(
      "Bind for 0.0.0.0:8080 failed: port is already allocated",
    );
    expect(await allocateHostPorts(parsePortSpecs(["10.0.0.1:8080:80", "8080:80/udp"]), taken, { isFree: free, range: [1, 1], random: Math.random })).toEqual([
      { hostIp: "10.0.0.1", hostPort: 8080, containerPort: 80, protocol: "tcp" },
      { hostIp: "", hostPort: 8080, containerPort: 80, protocol: "udp" },
    ]);
    await expect(allocateHostPorts(parsePortSpecs(["8080:80", "8080:81"]), [], { isFree: free, range: [1, 1], random: Math.random })).rejects.toThrow(
      "port is already allocated",
    );
  });

  test("a host listener refuses an explicit port", async () => {
    await expect(allocateHostPorts(parsePortSpecs(["8080:80"]), [], { isFree: async () => false, range: [1, 1], random: Math.random })).rejects.toThrow(
      "Cannot publish 0.0.0.0:8080/tcp: address already in use",
    );
  });

  test("random and ranged ports skip what is taken, within bounds", async () => {
    const taken: PortBinding[] = [{ hostIp: "", hostPort: 40000, containerPort: 1, protocol: "tcp" }];
    const busy = new Set([40001, 8091]);
    const isFree = async (p: number) => !busy.has(p);
    const got = await allocateHostPorts(parsePortSpecs(["80", "81", "8090-8092:80"]), taken, { isFree, range: [40000, 40003], random: seq(0, 0, 0.34) });
    expect(got.map((b) => b.hostPort)).toEqual([40002, 40003, 8092]);
    expect(got.every((b) => b.hostPortEnd === undefined)).toBe(true);
    await expect(allocateHostPorts(parsePortSpecs(["80", "81"]), taken, { isFree, range: [40000, 40002], random: seq(0, 0) })).rejects.toThrow(
      "Cannot publish port 81/tcp: no free host port in the ephemeral range 40000-40002",
    );
    await expect(allocateHostPorts(parsePortSpecs(["[::1]::80"]), [], { isFree, range: [1, 2], random: Math.random })).rejects.toThrow(
      "IPv6 port publishing is not supported",
    );
  });

  test("portIsFree binds for real", async () => {
    const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      expect(await portIsFree(l.port, "tcp", "127.0.0.1")).toBe(false);
      expect(await portIsFree(l.port, "tcp", "")).toBe(false);
    } finally {
      l.stop(true);
    }
    const u = await Bun.udpSocket({ hostname: "127.0.0.1" });
    try {
      expect(await portIsFree(u.port, "udp", "127.0.0.1")).toBe(false);
    } finally {
      u.close();
    }
    // 192.0.2.0/24 is TEST-NET-1: no host has it.
    await expect(portIsFree(8999, "tcp", "192.0.2.77")).rejects.toThrow("Cannot publish port 8999/tcp on 192.0.2.77: the host has no such address");
    const [lo, hi] = ephemeralRange();
    expect(lo).toBeGreaterThan(0);
    expect(hi).toBeGreaterThanOrEqual(lo);
  });
});

describe("publishPorts / unpublishPorts / port", () => {
  let env: TestEnv | undefined;
  afterEach(() => env?.cleanup());
  const ID = "c".repeat(64);

  function fakeFirewall(fail = false): Firewall & { published: PublishedContainer[]; removed: string[][] } {
    const published: PublishedContainer[] = [];
    const removed: string[][] = [];
    return {
      backend: "nft",
      published,
      removed,
      publish(c) {
        if (fail) throw new Error("nft: boom");
        published.push(c);
      },
      guard() {},
      remove(ids) {
        removed.push([...ids]);
      },
      ids() {
        return new Set<string>();
      },
      forgetUdpFlows() {},
    };
  }

  function container(e: TestEnv, id: string, name: string): void {
    fs.mkdirSync(path.join(e.root, "containers", id), { recursive: true });
    fs.writeFileSync(path.join(e.root, "containers", id, "state.json"), JSON.stringify({ id, name, image: "busybox" }));
  }

  function io(): Io & { text: () => string } {
    let out = "";
    return { out: (t) => (out += t), err: () => {}, stdoutTty: false, stderrTty: false, readStdin: async () => "", text: () => out };
  }

  test("state.json keeps the bindings; `port` prints Docker's lines; unpublish clears them", async () => {
    env = testContext();
    container(env, ID, "web");
    const firewall = fakeFirewall();
    const got = await publishPorts(env.ctx, { id: ID, ip: "172.18.0.2", bindings: parsePortSpecs(["8080:80", "127.0.0.1::53/udp"]) }, {
      firewall,
      isFree: free,
      range: [40000, 40000],
    });
    expect(firewall.published[0]!.bridge).toBe("tinydock0");
    expect(readPorts(env.root, ID)).toEqual(got);
    const state = JSON.parse(fs.readFileSync(path.join(env.root, "containers", ID, "state.json"), "utf8"));
    expect(state.name).toBe("web");

    const all = io();
    await port.run(env.ctx, { container: "web" }, all);
    expect(all.text()).toBe("80/tcp -> 0.0.0.0:8080\n53/udp -> 127.0.0.1:40000\n");
    const one = io();
    await port.run(env.ctx, { container: ID.slice(0, 6), privatePort: "53/udp" }, one);
    expect(one.text()).toBe("127.0.0.1:40000\n");
    await expect(port.run(env.ctx, { container: "web", privatePort: "81" }, io())).rejects.toThrow("No public port '81/tcp' published for web");
    await expect(port.run(env.ctx, { container: "nope" }, io())).rejects.toThrow("No such container: nope");

    await unpublishPorts(env.ctx, ID, { firewall });
    expect(firewall.removed).toEqual([[ID]]);
    expect(readPorts(env.root, ID)).toEqual([]);
  });

  test("two publishes at once never pick the same random port (the lock serializes them)", async () => {
    env = testContext();
    const ids = ["d".repeat(64), "e".repeat(64), "f".repeat(64)];
    ids.forEach((id, i) => container(env!, id, `c${i}`));
    const firewall = fakeFirewall();
    const opts = { firewall, isFree: free, range: [40000, 40002] as [number, number], random: () => 0 };
    const got = await Promise.all(ids.map((id, i) => publishPorts(env!.ctx, { id, ip: `172.18.0.${i + 2}`, bindings: parsePortSpecs(["80"]) }, opts)));
    expect(got.map((g) => g[0]!.hostPort).sort()).toEqual([40000, 40001, 40002]);
    container(env, "0".repeat(64), "late");
    await expect(publishPorts(env.ctx, { id: "0".repeat(64), ip: "172.18.0.9", bindings: parsePortSpecs(["80"]) }, opts)).rejects.toThrow(
      "no free host port in the ephemeral range 40000-40002",
    );
  });

  test("a failed batch leaves neither rules nor recorded ports", async () => {
    env = testContext();
    container(env, ID, "web");
    const firewall = fakeFirewall(true);
    await expect(publishPorts(env.ctx, { id: ID, ip: "172.18.0.2", bindings: parsePortSpecs(["8080:80"]) }, { firewall, isFree: free })).rejects.toThrow("boom");
    expect(firewall.removed).toEqual([[ID]]);
    expect(readPorts(env.root, ID)).toEqual([]);
  });
});
