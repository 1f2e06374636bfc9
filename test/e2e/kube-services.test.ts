// Services after `play kube`, with the compiled binary: the ClusterIP answers from a container on
// the default bridge, from a pod of the Service itself (hairpin) and from the host (nat OUTPUT); the
// endpoints follow the pods the engine stops, starts, makes and removes afterwards; a pod's infra
// container is not removed alone; exec of wget in a pod container, many times over.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { findLeaks } from "../helpers/leakcheck.ts";
import { startE2e, until, type E2e } from "../helpers/e2e.ts";

const FILE = path.resolve(import.meta.dir, "../fixtures/kube/web-deployment.yaml");
/** The ClusterIP play kube allocated (recorded under the root). */
const cip = () => (JSON.parse(fs.readFileSync(path.join(e.env.root, "kube", "services", "web.json"), "utf8")) as { clusterIp: string }).clusterIp;
let e: E2e;
beforeAll(async () => {
  e = await startE2e({ prefix: "td-kubesvc-e2e-" });
}, 120_000);
afterAll(async () => {
  e?.T(["play", "kube", "--down", FILE]);
  for (const p of ["extra", "other", "lone"]) e?.T(["pod", "rm", "-f", p]);
  e?.T(["rm", "-f", "client"]);
  await e?.stop();
});

/** The pod names answering `fetch` until `want` of them are seen (or the time runs out). */
async function answers(fetch: () => string, want: number, ms = 30_000): Promise<Set<string>> {
  const seen = new Set<string>();
  try {
    await until(`${want} answers`, () => {
      const out = fetch().trim();
      if (out && !out.includes(" ")) seen.add(out);
      return seen.size >= want;
    }, ms, 10);
  } catch {}
  return seen;
}

/** busybox's wget without -T: the image's Debian busybox 1.35 has no timeout support, and -T writes through NULL (SIGSEGV). */
const wgetIn = (container: string, url: string) => () => e.T(["exec", container, "timeout", "3", "wget", "-q", "-O-", url]).stdout;
/** How many DNAT targets the Service's chain has (iptables-save of the namespace). */
const endpointCount = () => e.rules().split("\n").filter((l) => /^-A TINYDOCK-KUBE-SVC-\S+ .* -j DNAT --to-destination \S+:8080$/.test(l)).length;

test("the ClusterIP balances across the pods from a bridge container, from a pod of its own, from the host", async () => {
  const { T } = e;
  expect(T(["play", "kube", FILE]).code).toBe(0);
  expect(e.runDetached(["--name", "client", "busybox", "sleep", "1000"])).toMatch(/^[0-9a-f]{64}$/);
  const all = ["web-pod-0", "web-pod-1", "web-pod-2"];
  const fromBridge = await answers(wgetIn("client", `http://${cip()}/`), 3);
  expect([...fromBridge].sort()).toEqual(all);
  // Hairpin: a pod reaching its own Service, itself among the endpoints.
  const hairpin = await answers(wgetIn("web-pod-0-httpd", `http://${cip()}:80/`), 3);
  expect([...hairpin].sort()).toEqual(all);
  // The host (nat OUTPUT): with a default route, as a host has (the test's namespace has none).
  expect(e.sh(["sh", "-c", "ip link add tdt-dflt type veth peer name tdt-dflt1 && ip link set tdt-dflt up && ip link set tdt-dflt1 up && ip route add default dev tdt-dflt"]).code).toBe(0);
  const fromHost = await answers(() => e.sh(["curl", "-s", "-m", "2", `http://${cip()}/`]).stdout, 3);
  expect([...fromHost].sort()).toEqual(all);
  // NodePort from a container on the bridge (the gateway's address, same bridge as the pods).
  const gw = JSON.parse(T(["network", "inspect", "bridge"]).stdout)[0].IPAM.Config[0].Gateway as string;
  const nodePort = await answers(wgetIn("client", `http://${gw}:30080/`), 3);
  expect([...nodePort].sort()).toEqual(all);
}, 180_000);

test("the endpoints follow pod stop, start, create (matching labels) and rm", async () => {
  const { T } = e;
  expect(endpointCount()).toBe(3);
  expect(T(["pod", "stop", "web-pod-1"]).code).toBe(0);
  expect(endpointCount()).toBe(2);
  // Until both remaining pods answered (a stopped pod answering shows up as a third name); bounded in time,
  // not in tries: under load one exec + wget can take a second.
  const two = await answers(wgetIn("client", `http://${cip()}/`), 2, 15_000);
  expect([...two].sort()).toEqual(["web-pod-0", "web-pod-2"]);

  // A new pod with the Service's labels, and one without: only the first joins.
  const timed = (args: string[]) => {
    const t0 = performance.now();
    expect(T(args).code).toBe(0);
    return Math.round(performance.now() - t0);
  };
  const joins = timed(["pod", "create", "--name", "extra", "--hostname", "extra", "--label", "app=web"]);
  const apart = timed(["pod", "create", "--name", "other", "--hostname", "other", "--label", "app=db"]);
  console.log(`pod create with a Service: ${joins} ms selected (rules rewritten), ${apart} ms not selected`);
  for (const p of ["extra", "other"]) e.runDetached(["--pod", p, "busybox", "sh", "-c", "mkdir -p /w && hostname > /w/index.html && exec httpd -f -p 8080 -h /w"]);
  expect(endpointCount()).toBe(3);
  const withExtra = await answers(wgetIn("client", `http://${cip()}/`), 3);
  expect([...withExtra].sort()).toEqual(["extra", "web-pod-0", "web-pod-2"]);

  expect(T(["pod", "start", "web-pod-1"]).code).toBe(0);
  expect(T(["pod", "rm", "-f", "web-pod-0"]).code).toBe(0);
  expect(endpointCount()).toBe(3);
  const after = await answers(wgetIn("client", `http://${cip()}/`), 3);
  expect([...after].sort()).toEqual(["extra", "web-pod-1", "web-pod-2"]);
  expect(T(["pod", "rm", "-f", "extra"]).code).toBe(0);
  expect(T(["pod", "rm", "-f", "other"]).code).toBe(0);
  expect(endpointCount()).toBe(2);
}, 180_000);

test("rm -f of a pod's infra container is refused (125); pod rm -f removes it all", () => {
  const { T } = e;
  expect(T(["pod", "create", "--name", "lone"]).code).toBe(0);
  e.runDetached(["--pod", "lone", "busybox", "sleep", "1000"]);
  const pod = JSON.parse(T(["pod", "inspect", "lone"]).stdout)[0];
  const infra = pod.InfraContainerId as string;
  for (const ref of ["lone-infra", infra, infra.slice(0, 12)]) {
    const r = T(["rm", "-f", ref]);
    expect(r.code).toBe(125);
    expect(r.stderr.trim()).toBe(`Error: container ${infra} is the infra container of pod ${pod.Id} and cannot be removed without removing the pod`);
  }
  expect(JSON.parse(T(["pod", "inspect", "lone"]).stdout)[0].State).toBe("Running");
  expect(T(["pod", "rm", "-f", "lone"]).code).toBe(0);
  expect(T(["ps", "-a", "-q", "--filter", `id=${infra}`]).stdout).toBe("");
});

test("exec wget in a pod container, 50 times: every one exits 0; wget -T's SIGSEGV is busybox's own, outside any container too", () => {
  const codes = new Map<number, number>();
  for (let i = 0; i < 50; i++) {
    const r = e.T(["exec", "web-pod-2-httpd", "wget", "-q", "-O-", "http://localhost:8080/"]);
    codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
  }
  expect([...codes]).toEqual([[0, 50]]);
  // The image's busybox is the host's /bin/busybox: its wget parses -T into a NULL pointer.
  const inside = e.T(["exec", "web-pod-2-httpd", "wget", "-q", "-T", "2", "-O-", "http://localhost:8080/"]).code;
  const outside = Bun.spawnSync(["/bin/busybox", "wget", "-q", "-T", "2", "-O-", "http://127.0.0.1:9/"], { stdout: "ignore", stderr: "ignore" });
  expect(outside.signalCode).toBe("SIGSEGV");
  expect(inside).toBe(139);
}, 120_000);

test("--down removes every Service rule and chain; nothing leaks", () => {
  const { T } = e;
  expect(T(["play", "kube", "--down", FILE]).code).toBe(0);
  expect(T(["rm", "-f", "client"]).code).toBe(0);
  expect(e.rules()).not.toContain("TINYDOCK-KUBE");
  expect(e.sh(["nft", "list", "ruleset"]).stdout).not.toContain("tinydock-kube");
  expect(T(["ps", "-a", "-q"]).stdout).toBe("");
  const t0 = performance.now();
  expect(T(["pod", "create", "--name", "lone", "--label", "app=web"]).code).toBe(0);
  console.log(`pod create without a Service: ${Math.round(performance.now() - t0)} ms`);
  expect(T(["pod", "rm", "-f", "lone"]).code).toBe(0);
  expect(findLeaks(e.dir)).toEqual([]);
});
