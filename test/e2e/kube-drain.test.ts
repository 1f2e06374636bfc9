// A pod that stops leaves its Services before its containers get the stop signal, as kube-proxy
// drops a terminating pod's endpoints first: with a Service over two pods, no connection reaches
// the stopping one once it has been signalled, though it keeps serving for a while; a stop
// interrupted (SIGINT) gives the pod its endpoint back.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { findLeaks } from "../helpers/leakcheck.ts";
import { startE2e, until, type E2e } from "../helpers/e2e.ts";

// Each pod answers with its name; signalled, it answers "terminating" for 4 s more (the window in
// which a connection would reach a stopping pod), then exits unless /w/stay exists.
const YAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: drain}
spec:
  replicas: 2
  selector: {matchLabels: {app: drain}}
  template:
    metadata: {labels: {app: drain}}
    spec:
      containers:
      - name: httpd
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c"]
        args: ["mkdir -p /w && hostname > /w/index.html && httpd -f -p 8080 -h /w & trap 'echo terminating > /w/index.html; sleep 4; [ -e /w/stay ] || exit 0; hostname > /w/index.html' TERM; while :; do sleep 1 & wait $!; done"]
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: drain}
spec:
  selector: {app: drain}
  ports: [{port: 80, targetPort: 8080}]
`;

let e: E2e;
let file: string;
beforeAll(async () => {
  e = await startE2e({ prefix: "td-kubedrain-e2e-" });
  file = path.join(e.dir, "drain.yaml");
  fs.writeFileSync(file, YAML);
  // The host reaches a ClusterIP through nat OUTPUT once it has a default route, as a host has.
  expect(e.sh(["sh", "-c", "ip link add tdt-dflt type veth peer name tdt-dflt1 && ip link set tdt-dflt up && ip link set tdt-dflt1 up && ip route add default dev tdt-dflt"]).code).toBe(0);
}, 120_000);
afterAll(async () => {
  e?.T(["play", "kube", "--down", file]);
  await e?.stop();
});

const cip = () => (JSON.parse(fs.readFileSync(path.join(e.env.root, "kube", "services", "drain.json"), "utf8")) as { clusterIp: string }).clusterIp;
const ask = () => e.sh(["curl", "-s", "-m", "2", `http://${cip()}/`]).stdout.trim();
const endpointCount = () => e.rules().split("\n").filter((l) => /^-A TINYDOCK-KUBE-SVC-\S+ .* -j DNAT --to-destination \S+:8080$/.test(l)).length;

/** Answers to the ClusterIP, one connection each, until `done` says stop. */
async function answersUntil(done: () => boolean): Promise<string[]> {
  const out: string[] = [];
  while (!done()) {
    out.push(ask());
    await Bun.sleep(5);
  }
  return out;
}

test("during a pod's stop, connections go only to the other pod", async () => {
  expect(e.T(["play", "kube", file]).code).toBe(0);
  const seen = new Set<string>();
  await until("both pods answer", () => (seen.add(ask()), seen.has("drain-pod-0") && seen.has("drain-pod-1")), 30_000, 10);
  const stop = e.spawn(["pod", "stop", "drain-pod-1"]);
  let ended = false;
  void stop.exited.then(() => (ended = true));
  const during = await answersUntil(() => ended);
  expect(await stop.exited).toBe(0);
  // The stop took the container's 4 s of grace: long enough for many connections.
  expect(during.length).toBeGreaterThan(10);
  // Before the stop drained it, drain-pod-1 may answer with its name; signalled, it must get no
  // connection ("terminating"), nor may one fail ("") once it has exited.
  expect(during.filter((a) => a !== "drain-pod-0" && a !== "drain-pod-1")).toEqual([]);
  expect(during.slice(-5)).toEqual(Array(5).fill("drain-pod-0"));
  expect(endpointCount()).toBe(1);
}, 120_000);

test("a stop interrupted (SIGINT) gives the pod its endpoint back", async () => {
  expect(e.T(["pod", "start", "drain-pod-1"]).code).toBe(0);
  await until("two endpoints", () => endpointCount() === 2, 20_000);
  expect(e.T(["exec", "drain-pod-1-httpd", "touch", "/w/stay"]).code).toBe(0);
  const stop = e.spawn(["pod", "stop", "-t", "30", "drain-pod-1"]);
  // Drained, and signalled: the container answers "terminating" to its own address now.
  await until("the pod drained", () => endpointCount() === 1, 20_000);
  await until("the container signalled", () => e.T(["exec", "drain-pod-1-httpd", "cat", "/w/index.html"]).stdout.trim() === "terminating", 20_000, 50);
  stop.kill("SIGINT");
  expect(await stop.exited).not.toBe(0);
  expect(stop.signalCode).toBe("SIGINT");
  expect(endpointCount()).toBe(2);
  expect(JSON.parse(e.T(["inspect", "drain-pod-1-httpd"]).stdout)[0].State.Running).toBe(true);
  const seen = new Set<string>();
  await until("both pods answer again", () => (seen.add(ask()), seen.has("drain-pod-0") && seen.has("drain-pod-1")), 30_000, 10);
}, 120_000);

test("pod rm -f drains the pod first: its endpoint is gone before its container is killed", async () => {
  if (!e.T(["pod", "ps", "--format", "{{.Name}}"]).stdout.includes("drain-pod-1")) expect(e.T(["play", "kube", file]).code).toBe(0);
  expect(e.T(["pod", "start", "drain-pod-1"]).code).toBe(0);
  await until("two endpoints", () => endpointCount() === 2, 20_000);
  const pid = JSON.parse(e.T(["inspect", "drain-pod-1-httpd"]).stdout)[0].State.Pid as number;
  const rm = e.spawn(["pod", "rm", "-f", "drain-pod-1"]);
  let ended = false;
  void rm.exited.then(() => (ended = true));
  // Sampled in this order (the process first): a dead process with two endpoints is a window in
  // which the Service still sent connections to a pod that was gone.
  const samples: { dead: boolean; endpoints: number }[] = [];
  while (!ended) {
    const dead = !fs.existsSync(`/proc/${pid}`) || /^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    samples.push({ dead, endpoints: endpointCount() });
    await Bun.sleep(1);
  }
  expect(await rm.exited).toBe(0);
  expect(samples.some((x) => x.dead)).toBe(true);
  expect(samples.filter((x) => x.dead && x.endpoints === 2)).toEqual([]);
  expect(endpointCount()).toBe(1);
}, 120_000);

test("--down leaves nothing", () => {
  expect(e.T(["play", "kube", "--down", file]).code).toBe(0);
  expect(e.rules()).not.toContain("TINYDOCK-KUBE");
  expect(e.T(["ps", "-a", "-q"]).stdout).toBe("");
  expect(findLeaks(e.dir)).toEqual([]);
}, 60_000);
