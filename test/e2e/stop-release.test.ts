// What a container that ended holds no more, as Docker's daemon releases it before answering: the
// network (veth, netns, address) is gone when stop, wait, restart or rm -f returns, inspect shows no
// address for it, and --link's addresses follow a linked container that starts again. The engine
// runs in a network namespace of this file's own; everything made here is removed at the end.
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { readRunJson, until, useE2e } from "../helpers/e2e.ts";

const e = useE2e({ prefix: "td-stop-release-" });
const ok = (args: string[]): string => {
  const r = e.T(args);
  if (r.code !== 0) throw new Error(`tinydock ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};
const inspect = (ref: string, format: string) => ok(["inspect", "-f", format, ref]).trim();
const leases = () => fs.readdirSync(path.join(e.env.root, "networks", "bridge", "leases"));
const veths = (): string[] => e.links().match(/td[0-9a-f]{11}/g) ?? [];
/** The network a running container holds: its address's lease, its host-side veth, its netns file. */
function held(ref: string): { ip: string; veth: string; netns: string } {
  const id = inspect(ref, "{{.Id}}");
  const netns = inspect(ref, "{{.NetworkSettings.SandboxKey}}");
  expect(fs.existsSync(netns)).toBe(true);
  const veth = veths().find((v) => id.startsWith(v.slice(2)));
  expect(veth).toBeDefined();
  return { ip: inspect(ref, "{{.NetworkSettings.IPAddress}}"), veth: veth!, netns };
}
const released = (h: { ip: string; veth: string; netns: string }) => ({ lease: leases().includes(h.ip), veth: veths().includes(h.veth), netns: fs.existsSync(h.netns) });
const NONE = { lease: false, veth: false, netns: false };

test("stop returns once the network is released", () => {
  e.runDetached(["--name", "rs1", "busybox", "sleep", "300"]);
  const h = held("rs1");
  ok(["stop", "-t", "0", "rs1"]);
  expect(released(h)).toEqual(NONE);
});

test("wait returns once the network is released (kill, then wait)", () => {
  ok(["start", "rs1"]);
  const h = held("rs1");
  ok(["kill", "rs1"]);
  expect(ok(["wait", "rs1"])).toBe("137\n");
  expect(released(h)).toEqual(NONE);
});

test("restart holds one network at a time; rm -f leaves none", () => {
  ok(["start", "rs1"]);
  ok(["restart", "-t", "0", "rs1"]);
  expect({ veths: veths().length, leases: leases().length }).toEqual({ veths: 1, leases: 1 });
  const h = held("rs1");
  ok(["rm", "-f", "rs1"]);
  expect(released(h)).toEqual(NONE);
});

test("stop waits for the release without slowing down: figures", async () => {
  e.runDetached(["--name", "rs2", "busybox", "sleep", "300"]);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    ok(["stop", "-t", "0", "rs2"]);
    times.push(performance.now() - t0);
    ok(["start", "rs2"]);
  }
  console.log(`stop -t 0 of a running container, the network released: ${times.map((t) => `${t.toFixed(0)} ms`).join(", ")}`);
  ok(["rm", "-f", "rs2"]);
}, 60_000);

test("inspect of a container not running shows no address (Docker's cleanOperationalData); the network stays named", () => {
  e.runDetached(["--name", "rs3", "busybox", "sleep", "300"]);
  const running = JSON.parse(ok(["inspect", "rs3"]))[0].NetworkSettings;
  expect(running.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(running.Networks.bridge.IPAddress).toBe(running.IPAddress);
  ok(["stop", "-t", "0", "rs3"]);
  ok(["create", "--name", "rs4", "busybox"]);
  for (const ref of ["rs3", "rs4"]) {
    const n = JSON.parse(ok(["inspect", ref]))[0].NetworkSettings;
    expect({ ref, ip: n.IPAddress, gw: n.Gateway, mac: n.MacAddress, len: n.IPPrefixLen }).toEqual({ ref, ip: "", gw: "", mac: "", len: 0 });
    expect(n.Networks.bridge).toMatchObject({ IPAddress: "", Gateway: "", MacAddress: "", IPPrefixLen: 0, EndpointID: "", NetworkID: running.Networks.bridge.NetworkID });
  }
  ok(["rm", "-f", "rs3", "rs4"]);
});

test("--link: a target started again with another address is seen by its running parent (hosts now, variables at the restart its policy makes)", async () => {
  e.runDetached(["--name", "lt", "--expose", "7000", "busybox", "sleep", "300"]);
  const ip1 = inspect("lt", "{{.NetworkSettings.IPAddress}}");
  e.runDetached(["--name", "lp", "--link", "lt:db", "--restart", "always", "busybox", "sh", "-c", "grep -w db /etc/hosts | cut -f1; echo $DB_PORT; sleep 300"]);
  const line = (ip: string) => `${ip}\ntcp://${ip}:7000\n`;
  await until("the parent's first run", () => ok(["logs", "lp"]) === line(ip1));
  // The target back with another address (a filler holds its old one).
  ok(["stop", "-t", "0", "lt"]);
  e.runDetached(["--name", "lfill", "busybox", "sleep", "300"]);
  ok(["start", "lt"]);
  const ip2 = inspect("lt", "{{.NetworkSettings.IPAddress}}");
  expect(ip2).not.toBe(ip1);
  expect(ok(["exec", "lp", "sh", "-c", "grep -w db /etc/hosts | cut -f1"])).toBe(`${ip2}\n`);
  expect(ok(["exec", "lp", "sh", "-c", "echo $DB_PORT_7000_TCP_ADDR"])).toBe(`${ip2}\n`);
  // The parent's command dies (not a stop): its restart policy starts it again, with the new address.
  const id = inspect("lp", "{{.Id}}");
  process.kill(readRunJson(e.env, id)!.pid!, "SIGKILL");
  await until("the parent's restart", () => ok(["logs", "lp"]) === line(ip1) + line(ip2));
  expect(inspect("lp", "{{.RestartCount}}")).toBe("1");
  ok(["rm", "-f", "lp", "lt", "lfill"]);
}, 60_000);

test("container prune --filter until= / label= / label!= (Docker's prune filters); others refused", async () => {
  ok(["create", "--name", "pold", "--label", "keep=yes", "busybox"]);
  ok(["create", "--name", "pold2", "busybox"]);
  await Bun.sleep(2100);
  ok(["create", "--name", "pnew", "busybox"]);
  const names = () => ok(["ps", "-a", "--format", "{{.Names}}"]).split("\n").filter(Boolean).sort();
  // Created within the last 2 s: kept; of the older ones, those labelled keep=yes kept too.
  const out = ok(["container", "prune", "-f", "--filter", "until=2s", "--filter", "label!=keep=yes"]);
  expect(out).toMatch(/^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
  expect(names()).toEqual(["pnew", "pold"]);
  ok(["container", "prune", "-f", "--filter", "label=keep"]);
  expect(names()).toEqual(["pnew"]);
  const bad = e.T(["container", "prune", "-f", "--filter", "status=exited"]);
  expect({ code: bad.code, err: bad.stderr }).toEqual({ code: 1, err: "Error: invalid filter 'status'\n" });
  const twice = e.T(["container", "prune", "-f", "--filter", "until=1h", "--filter", "until=2h"]);
  expect(twice.stderr).toBe("Error: more than one until filter specified\n");
  ok(["rm", "pnew"]);
}, 30_000);
