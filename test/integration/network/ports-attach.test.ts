// Port publishing on the real bridge: attachNetwork (tinydock0, veth, IPAM, its
// outbound NAT) then publishPorts on the endpoint, in a netns the test makes; busybox httpd in the
// container's netns. Checks 127.0.0.1, the gateway address, a random port, hairpin from a second
// container, `port` output, and iptables/nft identical after unpublish + detach + teardown.
import { afterEach, beforeEach, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { Io } from "../../../src/cli/command.ts";
import { port } from "../../../src/cli/commands/port.ts";
import { createContext } from "../../../src/context.ts";
import type { NetworkSettingsRecord } from "../../../src/network/attach.ts";
import type { PortBinding } from "../../../src/network/portspec.ts";
import { testNetns, type TestNetns } from "./harness.ts";

const root = process.getuid?.() === 0;
const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find((p) => fs.existsSync(p)) ?? "busybox";
const DRIVER = path.join(import.meta.dir, "ports-driver.ts");
let t: TestNetns;
const procs: ReturnType<typeof Bun.spawn>[] = [];
beforeEach(() => {
  if (root) t = testNetns();
});
afterEach(async () => {
  for (const p of procs.splice(0)) {
    p.kill("SIGKILL");
    await Promise.race([p.exited, Bun.sleep(3000)]);
  }
  t?.cleanup();
});

function ports<T>(call: string, arg: unknown): T {
  const r = t.sh([process.execPath, DRIVER, t.root, call, JSON.stringify(arg)], { allowFail: true });
  if (r.code !== 0) throw new Error(`ports ${call}: ${r.err.trim()}`);
  return JSON.parse(r.out) as T;
}

// iptables-save only: masquerade removal leaves iptables-nft's empty built-in
// POSTROUTING/FORWARD chains in `nft list ruleset` (no effect; firewall.ts drops the ones our
// jumps made when it removes them). nft's own view is checked for our names.
const snapshot = () =>
  t
    .sh(["iptables-save"])
    .out.split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");

async function curl(netnsPath: string | undefined, url: string): Promise<string> {
  const argv = netnsPath ? ["nsenter", `--net=${netnsPath}`, "curl", "-sS", "--max-time", "3", url] : ["curl", "-sS", "--max-time", "3", url];
  const r = t.sh(argv, { allowFail: true });
  return r.code === 0 ? r.out : `curl exit ${r.code}: ${r.err.trim()}`;
}

test.skipIf(!root)("published ports on attachNetwork's bridge: loopback, gateway, random, hairpin; nothing left after", async () => {
  const before = snapshot();
  const www = path.join(t.root, "www");
  fs.mkdirSync(www);
  fs.writeFileSync(path.join(www, "index.html"), "hello from web\n");
  const web = t.fakeContainer("web");
  const client = t.fakeContainer("client");
  const recWeb = t.engine<NetworkSettingsRecord>("attach", { id: web, name: "web", hostname: "web" });
  const recClient = t.engine<NetworkSettingsRecord>("attach", { id: client, name: "client", hostname: "client" });
  const ep = recWeb.endpoint!;
  const httpd = Bun.spawn(["nsenter", `--net=${recWeb.netnsPath}`, BUSYBOX, "httpd", "-f", "-p", "80", "-h", www], { stdout: "ignore", stderr: "pipe" });
  procs.push(httpd);
  for (let i = 0; i < 100 && !t.sh(["nsenter", `--net=${recWeb.netnsPath}`, "ss", "-Hltn", "sport = :80"]).out.trim(); i++) await Bun.sleep(20);

  const got = ports<PortBinding[]>("publish", { id: web, ip: ep.ipAddress, bridge: ep.bridge, subnet: ep.subnet, specs: ["8080:80", "127.0.0.1::80"] });
  expect(got[0]).toEqual({ hostIp: "", hostPort: 8080, containerPort: 80, protocol: "tcp" });
  const random = got[1]!.hostPort;
  expect(await curl(undefined, "http://127.0.0.1:8080/")).toBe("hello from web\n");
  expect(await curl(undefined, `http://127.0.0.1:${random}/`)).toBe("hello from web\n");
  expect(await curl(undefined, `http://${ep.gateway}:8080/`)).toBe("hello from web\n");
  expect(await curl(recClient.netnsPath, `http://${ep.gateway}:8080/`)).toBe("hello from web\n");
  // The random one is bound to 127.0.0.1 only.
  expect(await curl(recClient.netnsPath, `http://${ep.gateway}:${random}/`)).toStartWith("curl exit");

  let out = "";
  const io: Io = { out: (s) => (out += s), err: () => {}, stdoutTty: false, stderrTty: false, readStdin: async () => "" };
  const ctx = createContext({ env: { TINYDOCK_ROOT: t.root, TINYDOCK_CONFIG: `${t.root}/no-config.json`, HOME: t.root } });
  await port.run(ctx, { container: "web" }, io);
  expect(out).toBe(`80/tcp -> 0.0.0.0:8080\n80/tcp -> 127.0.0.1:${random}\n`);

  ports("unpublish", { id: web });
  expect(await curl(undefined, "http://127.0.0.1:8080/")).toStartWith("curl exit");
  t.engine("detach", { id: web, record: recWeb });
  t.engine("detach", { id: client, record: recClient });
  t.engine("rm", { name: "bridge", teardownDefault: true });
  expect(snapshot()).toBe(before);
  expect(t.sh(["nft", "list", "ruleset"]).out).not.toMatch(/TINYDOCK|tinydock/);
}, 60_000);
