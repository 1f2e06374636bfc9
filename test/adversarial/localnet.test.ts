// CVE-2020-8558: publishing a port turns route_localnet on for the bridge, so the host routes what
// arrives there for 127.0.0.1. A container (NET_RAW is a default capability) sends raw Ethernet
// frames to its gateway's MAC addressed to 127.0.0.1:PORT, where a UDP listener bound to the host's
// loopback waits (test/helpers/localnet-probe.c, both ends). With the guard (rules.ts,
// TINYDOCK-INPUT) nothing arrives; route_localnet goes off again with the last published port.
//   1. every firewall backend, in the stand-in namespaces (test/helpers/standin-net.ts), with a
//      control: the same frames with route_localnet on and no guard do arrive (the probe works);
//   2. a real `tinydock run -p 127.0.0.1::80` container sending them itself (the host's backend).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createFirewall, type Firewall } from "../../src/network/firewall.ts";
import { recordCases } from "../helpers/adversarial.ts";
import { BINARY } from "../helpers/cli.ts";
import { startE2e, type E2e } from "../helpers/e2e.ts";
import { BRIDGE, createStandIn, rulesetSnapshot, SUBNET, waitListening, type StandIn } from "../helpers/standin-net.ts";

const root = process.getuid?.() === 0;
const ID = "5".repeat(64);

let probeDir = "";
let probe = "";

beforeAll(() => {
  probeDir = fs.mkdtempSync(path.join(os.tmpdir(), "td-localnet-"));
  probe = path.join(probeDir, "localnet-probe");
  const cc = Bun.spawnSync(["musl-gcc", "-static", "-Os", "-o", probe, path.resolve(import.meta.dir, "../helpers/localnet-probe.c")], { stderr: "pipe" });
  if (cc.exitCode !== 0) throw new Error(`musl-gcc: ${cc.stderr.toString()}`);
});

afterAll(() => {
  if (probeDir) fs.rmSync(probeDir, { recursive: true, force: true });
});

const macOf = (json: string): string => (JSON.parse(json) as { address: string }[])[0]!.address;

for (const backend of ["iptables-nft", "iptables-legacy", "nft"] as const) {
  describe.skipIf(!root)(`localnet guard on ${backend}`, () => {
    let s: StandIn;
    let firewall: Firewall;
    let before = "";
    const routeLocalnet = async () => (await s.exec(s.host, ["sysctl", "-n", `net.ipv4.conf.${BRIDGE}.route_localnet`])).stdout.trim();
    /** Whether a forged frame from the container reaches a listener on the host's 127.0.0.1:port. */
    const reaches = async (port: number): Promise<boolean> => {
      const listener = s.spawn(s.host, [probe, "listen", String(port), "1500"]);
      await waitListening(s, s.host, port, "udp");
      const mac = macOf((await s.exec(s.host, ["ip", "-j", "link", "show", BRIDGE])).stdout);
      const sent = await s.exec(s.containers[0]!.ns, [probe, "send", "eth0", mac, String(port)]);
      expect(sent.stderr).toBe("");
      expect(sent.code).toBe(0);
      const code = await Promise.race([listener.exited, Bun.sleep(5000).then(() => -1)]);
      return code === 0;
    };

    beforeAll(async () => {
      s = await createStandIn(1);
      firewall = createFirewall(backend, s.hostExec);
      before = await rulesetSnapshot(s);
    }, 60_000);

    afterAll(async () => {
      try {
        firewall?.remove([ID]);
      } catch {
        // the test removed them
      }
      await s?.destroy();
    });

    test("a raw frame to 127.0.0.1 is dropped while a port is published; route_localnet off after", async () => {
      // Control: route_localnet on and no guard, the CVE's state: the frame arrives.
      await s.exec(s.host, ["sysctl", "-qw", `net.ipv4.conf.${BRIDGE}.route_localnet=1`]);
      expect(await reaches(41001)).toBe(true);
      await s.exec(s.host, ["sysctl", "-qw", `net.ipv4.conf.${BRIDGE}.route_localnet=0`]);

      firewall.publish({
        id: ID, ip: s.containers[0]!.ip, bridge: BRIDGE, subnet: SUBNET,
        bindings: [{ hostIp: "127.0.0.1", hostPort: 41080, containerPort: 80, protocol: "tcp" }],
      });
      expect(await routeLocalnet()).toBe("1");
      expect(await reaches(41002)).toBe(false);

      firewall.remove([ID]);
      expect(await routeLocalnet()).toBe("0");
      expect(await reaches(41003)).toBe(false);
      expect(await rulesetSnapshot(s)).toBe(before);
      recordCases("localnet: forged frames to 127.0.0.1 from a bridge member", 2);
    }, 60_000);
  });
}

const ready = root && fs.existsSync(BINARY);

describe.skipIf(!ready)("localnet from a tinydock container", () => {
  let e: E2e | undefined;
  let T: E2e["T"], sh: E2e["sh"], inNs: E2e["inNs"];

  beforeAll(async () => {
    e = await startE2e({ prefix: "td-localnet-e2e-" });
    ({ T, sh, inNs } = e);
  }, 120_000);

  afterAll(async () => {
    await e?.stop();
  });

  test("a container with -p 127.0.0.1::80 cannot reach the host's 127.0.0.1 by raw frames", async () => {
    const port = 42000 + crypto.randomInt(1000);
    // The container that publishes turns route_localnet on; it sends the frames itself.
    const listener = Bun.spawn(inNs([probe, "listen", String(port), "4000"]), { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const until = Date.now() + 5000;
    while (Date.now() < until && sh(["ss", "-Hlnu", `sport = :${port}`]).stdout.trim() === "") await Bun.sleep(20);
    // The bridge exists once the first container ran; this one publishes, so its rules are in.
    expect(T(["run", "-d", "--name", "holder", "-p", "127.0.0.1::80", "busybox", "sleep", "60"]).code).toBe(0);
    expect(sh(["sysctl", "-n", "net.ipv4.conf.tinydock0.route_localnet"]).stdout.trim()).toBe("1");
    const mac = macOf(sh(["ip", "-j", "link", "show", "tinydock0"]).stdout);
    const sent = T(["run", "--rm", "-v", `${probe}:/probe:ro`, "busybox", "/probe", "send", "eth0", mac, String(port)]);
    expect(sent.stderr).toBe("");
    expect(sent.stdout).toContain("sent 5 frames");
    const code = await Promise.race([listener.exited, Bun.sleep(8000).then(() => -1)]);
    const heard = await new Response(listener.stdout).text();
    expect(heard).not.toContain("got localnet");
    expect(code).toBe(1);
    expect(T(["rm", "-f", "holder"]).code).toBe(0);
    // The last published port gone: route_localnet off again.
    expect(sh(["sysctl", "-n", "net.ipv4.conf.tinydock0.route_localnet"]).stdout.trim()).toBe("0");
    recordCases("localnet: forged frames to 127.0.0.1 from a container", 1);
  }, 90_000);
});
