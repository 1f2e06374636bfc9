// Port publishing against the real kernel, in namespaces the test makes (test/helpers/standin-net.ts):
// rules applied with the real iptables-restore (nft and legacy) and nft, traffic through every -p
// form, UDP, hairpin, and the ruleset byte-identical after unpublish. Root only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { createFirewall, type Backend, type Firewall } from "../../../src/network/firewall.ts";
import { parsePortSpecs, type PortBinding } from "../../../src/network/portspec.ts";
import { publishPorts, readPorts, reconcilePorts, unpublishPorts } from "../../../src/network/ports.ts";
import { testContext, type TestEnv } from "../../helpers/ctx.ts";
import { BRIDGE, createStandIn, GATEWAY, HOST_ADDR, rulesetSnapshot, SUBNET, waitListening, type StandIn } from "../../helpers/standin-net.ts";

const root = process.getuid?.() === 0;
const ID1 = "1".repeat(64);
const ID2 = "2".repeat(64);
const GHOST = "3".repeat(64);

function makeContainer(env: TestEnv, id: string, name: string): void {
  const dir = path.join(env.root, "containers", id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify({ id, name, image: "busybox", imageId: "", created: "", args: [], hostname: name }));
}

/** The host's own rules before tinydock: they must survive untouched. */
const PRIME: Record<Backend, string[][]> = {
  "iptables-nft": [
    ["iptables-nft", "-t", "nat", "-A", "POSTROUTING", "-s", SUBNET, "!", "-o", BRIDGE, "-j", "MASQUERADE"],
    ["iptables-nft", "-P", "FORWARD", "DROP"],
    ["iptables-nft", "-A", "FORWARD", "-i", BRIDGE, "!", "-o", BRIDGE, "-j", "ACCEPT"],
  ],
  "iptables-legacy": [
    ["iptables-legacy", "-t", "nat", "-A", "POSTROUTING", "-s", SUBNET, "!", "-o", BRIDGE, "-j", "MASQUERADE"],
    ["iptables-legacy", "-P", "FORWARD", "DROP"],
    ["iptables-legacy", "-A", "FORWARD", "-i", BRIDGE, "!", "-o", BRIDGE, "-j", "ACCEPT"],
  ],
  // Our own table cannot overrule another table's drop: this host's forward policy stays accept.
  nft: [["nft", "add table inet hostfw; add chain inet hostfw input { type filter hook input priority 0; policy accept; }"]],
};

for (const backend of ["iptables-nft", "iptables-legacy", "nft"] as const) {
  describe.skipIf(!root)(`ports on ${backend}`, () => {
    let s: StandIn;
    let env: TestEnv;
    let firewall: Firewall;
    let before = "";
    const opts = () => ({ firewall, isFree: (p: number, proto: PortBinding["protocol"]) => s.isFree(p, proto), range: [40000, 40099] as [number, number] });
    const curl = async (ns: string, url: string) => {
      const r = await s.exec(ns, ["curl", "-sS", "--max-time", "3", url], { timeoutMs: 10_000 });
      return r.code === 0 ? r.stdout : `curl exit ${r.code}: ${r.stderr.trim()}`;
    };

    beforeAll(async () => {
      s = await createStandIn(2);
      env = testContext();
      firewall = createFirewall(backend, s.hostExec);
      for (const argv of PRIME[backend]) {
        const r = await s.exec(s.host, argv);
        if (r.code !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
      }
      const [c1, c2] = s.containers as [StandIn["containers"][0], StandIn["containers"][0]];
      for (const [name, ns, port] of [["c1", c1.ns, 80], ["c1-81", c1.ns, 81], ["c2", c2.ns, 80]] as const) {
        const www = path.join(s.dir, name);
        fs.mkdirSync(www);
        fs.writeFileSync(path.join(www, "index.html"), `hello from ${name}\n`);
        s.spawn(ns, ["busybox", "httpd", "-f", "-p", String(port), "-h", www]);
        await waitListening(s, ns, port);
      }
      makeContainer(env, ID1, "web1");
      makeContainer(env, ID2, "web2");
      makeContainer(env, GHOST, "ghost");
      before = await rulesetSnapshot(s);
    }, 60_000);

    afterAll(async () => {
      await s?.destroy();
      env?.cleanup();
    });

    test("every -p form, UDP, hairpin; unpublish restores the ruleset", async () => {
      const [c1, c2] = s.containers as [StandIn["containers"][0], StandIn["containers"][0]];
      const got1 = await publishPorts(
        env.ctx,
        {
          id: ID1, ip: c1.ip, bridge: BRIDGE, subnet: SUBNET,
          bindings: parsePortSpecs(["8080:80", "127.0.0.1:8081:80", "8082-8083:80-81", "80", "8090-8095:80", "5353:53/udp"]),
        },
        opts(),
      );
      expect(got1.slice(0, 4)).toEqual([
        { hostIp: "", hostPort: 8080, containerPort: 80, protocol: "tcp" },
        { hostIp: "127.0.0.1", hostPort: 8081, containerPort: 80, protocol: "tcp" },
        { hostIp: "", hostPort: 8082, containerPort: 80, protocol: "tcp" },
        { hostIp: "", hostPort: 8083, containerPort: 81, protocol: "tcp" },
      ]);
      const random = got1[4]!.hostPort;
      const picked = got1[5]!.hostPort;
      expect(random).toBeGreaterThanOrEqual(40000);
      expect(random).toBeLessThanOrEqual(40099);
      expect(picked).toBeGreaterThanOrEqual(8090);
      expect(picked).toBeLessThanOrEqual(8095);
      expect(readPorts(env.root, ID1)).toEqual(got1);
      await publishPorts(env.ctx, { id: ID2, ip: c2.ip, bridge: BRIDGE, subnet: SUBNET, bindings: parsePortSpecs(["9090:80"]) }, opts());
      // A port another container holds is refused, Docker's words.
      await expect(publishPorts(env.ctx, { id: GHOST, ip: "10.89.0.9", bridge: BRIDGE, bindings: parsePortSpecs(["8080:80"]) }, opts())).rejects.toThrow(
        "Bind for 0.0.0.0:8080 failed: port is already allocated",
      );

      // From another machine, through the host's address.
      expect(await curl(s.ext, `http://${HOST_ADDR}:8080/`)).toBe("hello from c1\n");
      expect(await curl(s.ext, `http://${HOST_ADDR}:8082/`)).toBe("hello from c1\n");
      expect(await curl(s.ext, `http://${HOST_ADDR}:8083/`)).toBe("hello from c1-81\n");
      expect(await curl(s.ext, `http://${HOST_ADDR}:${random}/`)).toBe("hello from c1\n");
      expect(await curl(s.ext, `http://${HOST_ADDR}:${picked}/`)).toBe("hello from c1\n");
      expect(await curl(s.ext, `http://${HOST_ADDR}:9090/`)).toBe("hello from c2\n");
      // 127.0.0.1:8081 is not published on the other addresses.
      expect(await curl(s.ext, `http://${HOST_ADDR}:8081/`)).toStartWith("curl exit 7");
      // From the host itself: loopback and its own addresses.
      expect(await curl(s.host, "http://127.0.0.1:8080/")).toBe("hello from c1\n");
      expect(await curl(s.host, "http://127.0.0.1:8081/")).toBe("hello from c1\n");
      expect(await curl(s.host, `http://${HOST_ADDR}:8080/`)).toBe("hello from c1\n");
      expect(await curl(s.host, `http://${GATEWAY}:${random}/`)).toBe("hello from c1\n");
      // Hairpin: a container through the host's addresses, to another container and to itself.
      expect(await curl(c2.ns, `http://${HOST_ADDR}:8080/`)).toBe("hello from c1\n");
      expect(await curl(c2.ns, `http://${GATEWAY}:8080/`)).toBe("hello from c1\n");
      expect(await curl(c1.ns, `http://${HOST_ADDR}:9090/`)).toBe("hello from c2\n");

      // UDP (Debian's busybox nc has no -u: a Bun echo server): the answer comes back un-NATed.
      const udp = path.join(import.meta.dir, "../../helpers/udp-echo.ts");
      s.spawn(c1.ns, [process.execPath, udp, "server", "53"]);
      await waitListening(s, c1.ns, 53, "udp");
      const answer = await s.exec(s.ext, [process.execPath, udp, "client", HOST_ADDR, "5353", "ping-udp"], { timeoutMs: 15_000 });
      expect(answer.stdout).toBe(`${HOST_ADDR}:5353 echo:ping-udp\n`);

      // A UDP flow that began before its port was published (the host answered "port
      // unreachable") reaches the container once published: publishPorts forgets the old flow.
      const early = s.spawn(s.ext, [process.execPath, udp, "client", HOST_ADDR, "5354", "early"]);
      await Bun.sleep(600);
      await publishPorts(env.ctx, { id: GHOST, ip: c1.ip, bridge: BRIDGE, subnet: SUBNET, bindings: parsePortSpecs(["5354:53/udp"]) }, opts());
      expect(await Promise.race([early.exited, Bun.sleep(8000).then(() => "timeout")])).toBe(0);
      expect(await new Response(early.stdout as ReadableStream).text()).toBe(`${HOST_ADDR}:5354 echo:early\n`);
      await unpublishPorts(env.ctx, GHOST, opts());

      // Removing one container leaves the other's rules working.
      await unpublishPorts(env.ctx, ID1, opts());
      expect(readPorts(env.root, ID1)).toEqual([]);
      expect(await curl(s.ext, `http://${HOST_ADDR}:8080/`)).toStartWith("curl exit");
      expect(await curl(s.ext, `http://${HOST_ADDR}:9090/`)).toBe("hello from c2\n");
      expect([...(await firewall.ids())]).toEqual([ID2]);
      await unpublishPorts(env.ctx, ID2, opts());
      expect(await rulesetSnapshot(s)).toBe(before);
      // Twice is harmless.
      await unpublishPorts(env.ctx, ID2, opts());
      expect(await rulesetSnapshot(s)).toBe(before);
    }, 120_000);

    test("reconcile removes the rules of a container whose directory is gone", async () => {
      const [c1] = s.containers as [StandIn["containers"][0]];
      await publishPorts(env.ctx, { id: GHOST, ip: c1.ip, bridge: BRIDGE, subnet: SUBNET, bindings: parsePortSpecs(["7070:80"]) }, opts());
      await publishPorts(env.ctx, { id: ID2, ip: c1.ip, bridge: BRIDGE, subnet: SUBNET, bindings: parsePortSpecs(["7071:80"]) }, opts());
      expect(await curl(s.ext, `http://${HOST_ADDR}:7070/`)).toBe("hello from c1\n");
      fs.rmSync(path.join(env.root, "containers", GHOST), { recursive: true });
      expect(await reconcilePorts(env.ctx, opts())).toEqual([GHOST]);
      expect(await curl(s.ext, `http://${HOST_ADDR}:7070/`)).toStartWith("curl exit");
      expect(await curl(s.ext, `http://${HOST_ADDR}:7071/`)).toBe("hello from c1\n");
      expect(await reconcilePorts(env.ctx, opts())).toEqual([]);
      await unpublishPorts(env.ctx, ID2, opts());
      expect(await rulesetSnapshot(s)).toBe(before);
    }, 60_000);
  });
}
