// Services after `play kube`, their endpoints gated by readiness: a pod takes traffic only while
// every container of it is running and ready, and the monitor (no daemon) brings the rules up to
// date when a readiness probe flips or a container exits and restarts. A Service without ready
// endpoints rejects at once (connection refused); its NodePort answers on 127.0.0.1 as kube-proxy's
// does; two roots playing the same YAML in one namespace keep apart (names, ClusterIPs, --down).
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { BINARY, cliEnv, tinydock, type CliResult } from "../helpers/cli.ts";
import { findLeaks } from "../helpers/leakcheck.ts";
import { newCliEnv, removeAll, startE2e, until, type E2e } from "../helpers/e2e.ts";

const WEB = path.resolve(import.meta.dir, "../fixtures/kube/web-deployment.yaml");
let e: E2e;
let file = "";
beforeAll(async () => {
  e = await startE2e({ prefix: "td-kubeready-e2e-" });
  file = path.join(e.dir, "ready.yaml");
  // Two replicas that are ready while /tmp/ready exists (absent at the start), and a sidecar.
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "rdy" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "rdy" } },
      template: {
        metadata: { labels: { app: "rdy" } },
        spec: {
          restartPolicy: "Always",
          containers: [
            {
              name: "httpd",
              image: "busybox",
              imagePullPolicy: "Never",
              command: ["sh", "-c", "mkdir -p /w && hostname > /w/index.html && exec httpd -f -p 8080 -h /w"],
              readinessProbe: { exec: { command: ["cat", "/tmp/ready"] }, periodSeconds: 1, failureThreshold: 1 },
            },
            { name: "side", image: "busybox", imagePullPolicy: "Never", command: ["sleep", "3600"] },
          ],
        },
      },
    },
  };
  const service = { apiVersion: "v1", kind: "Service", metadata: { name: "rdy" }, spec: { type: "NodePort", selector: { app: "rdy" }, ports: [{ port: 80, targetPort: 8080, nodePort: 30081 }] } };
  fs.writeFileSync(file, `${JSON.stringify(deployment)}\n---\n${JSON.stringify(service)}\n`);
}, 120_000);
afterAll(async () => {
  e?.T(["play", "kube", "--down", file]);
  e?.T(["play", "kube", "--down", WEB]);
  await e?.stop();
});

const clusterIp = (root: string, name: string) => (JSON.parse(fs.readFileSync(path.join(root, "kube", "services", `${name}.json`), "utf8")) as { clusterIp: string }).clusterIp;
/** The DNAT targets of the rules the namespace has now (every root's), to port 8080. */
const dnats = () => e.rules().split("\n").filter((l) => /^-A TINYDOCK-KUBE-SVC-\S+ .* -j DNAT --to-destination \S+:8080$/.test(l));
const podIp = (pod: string) => JSON.parse(e.T(["inspect", `${pod}-httpd`]).stdout)[0].NetworkSettings.IPAddress as string;
const probesOf = (c: string) => JSON.parse(e.T(["inspect", c]).stdout)[0].State.Probes as { Ready: boolean; Probes: { Last?: { End: string } }[] };

/** curl in the namespace: its exit code (7: refused), the body, and how long it took. */
function curl(url: string): { code: number; body: string; ms: number } {
  const t0 = performance.now();
  const r = e.sh(["curl", "-s", "-m", "3", url]);
  return { code: r.code, body: r.stdout.trim(), ms: Math.round(performance.now() - t0) };
}

test("a Service over pods not ready: no endpoint, and its ClusterIP and NodePort refuse at once", () => {
  expect(e.T(["play", "kube", file]).code).toBe(0);
  // Running, their probes failing (no /tmp/ready): not one endpoint.
  expect(dnats()).toEqual([]);
  // A default route, as a host has: without one the ClusterIP fails with "no route" anyway.
  expect(e.sh(["sh", "-c", "ip link add tdt-dflt type veth peer name tdt-dflt1 && ip link set tdt-dflt up && ip link set tdt-dflt1 up && ip route add default dev tdt-dflt"]).code).toBe(0);
  const cip = clusterIp(e.env.root, "rdy");
  const gw = JSON.parse(e.T(["network", "inspect", "bridge"]).stdout)[0].IPAM.Config[0].Gateway as string;
  for (const url of [`http://${cip}/`, `http://${gw}:30081/`, "http://127.0.0.1:30081/"]) {
    const r = curl(url);
    console.log(`no endpoints: curl ${url} → exit ${r.code} in ${r.ms} ms`);
    expect(r.code).toBe(7); // refused (port unreachable / reset), not a timeout (28)
    expect(r.ms).toBeLessThan(1000);
  }
}, 120_000);

test("readiness flips add and remove the pod from the endpoints, with no CLI command in between", async () => {
  const ip0 = podIp("rdy-pod-0");
  const flip = async (what: string, cmd: string[], want: (d: string[]) => boolean) => {
    expect(e.T(["exec", "rdy-pod-0-httpd", ...cmd]).code).toBe(0);
    const seen = await until(what, () => (want(dnats()) ? Date.now() : undefined), 20_000, 10);
    const flipped = Date.parse(probesOf("rdy-pod-0-httpd").Probes[0]!.Last!.End);
    console.log(`${what}: readiness result to rules changed in ${seen - flipped} ms`);
  };
  await flip("ready → endpoint", ["touch", "/tmp/ready"], (d) => d.length === 1 && d[0]!.includes(`${ip0}:8080`));
  expect(curl(`http://127.0.0.1:30081/`).body).toBe("rdy-pod-0");
  await flip("not ready → no endpoint", ["rm", "/tmp/ready"], (d) => d.length === 0);
  expect(probesOf("rdy-pod-0-httpd").Ready).toBe(false);
  await flip("ready again", ["touch", "/tmp/ready"], (d) => d.length === 1);
}, 120_000);

test("a container of the pod that exits takes the pod out while it waits to restart, and back once it runs", async () => {
  const sidePid = () => JSON.parse(e.T(["inspect", "rdy-pod-0-side"]).stdout)[0].State.Pid as number;
  // The first kill restarts at once (the back-off's first step); the second waits 10 s, and the pod
  // is no endpoint meanwhile.
  const first = sidePid();
  expect(e.sh(["kill", "-9", String(first)]).code).toBe(0);
  const second = await until("the sidecar's restart", () => {
    const p = sidePid();
    return p && p !== first ? p : undefined;
  }, 20_000, 20);
  expect(e.sh(["kill", "-9", String(second)]).code).toBe(0);
  const t0 = Date.now();
  await until("the pod leaves", () => dnats().length === 0, 20_000, 10);
  console.log(`a container killed (restart in 10 s) → endpoint gone in ${Date.now() - t0} ms`);
  await until("the pod is back", () => dnats().length === 1, 30_000, 50);
  console.log(`back ${Date.now() - t0} ms after the kill (the back-off's 10 s)`);
  expect(probesOf("rdy-pod-0-httpd").Ready).toBe(true);
}, 120_000);

test("NodePort answers on 127.0.0.1 (route_localnet on the pods' bridge, the localnet guard in)", async () => {
  expect(e.T(["play", "kube", WEB]).code).toBe(0);
  const seen = new Set<string>();
  await until("three pods through 127.0.0.1:30080", () => {
    const r = curl("http://127.0.0.1:30080/");
    if (r.code === 0) seen.add(r.body);
    return seen.size === 3;
  }, 30_000, 10);
  expect([...seen].sort()).toEqual(["web-pod-0", "web-pod-1", "web-pod-2"]);
  expect(e.rules().split("\n").filter((l) => l.startsWith("-A TINYDOCK-INPUT ") && l.includes("tinydock:kube-"))).toEqual([expect.stringMatching(/-i tinydock0 .* -j DROP$/)]);
  expect(e.sh(["cat", "/proc/sys/net/ipv4/conf/tinydock0/route_localnet"]).stdout.trim()).toBe("1");
}, 120_000);

test("two roots play the same YAML in one namespace: their own chains and ClusterIPs; --down takes only its own", async () => {
  const other = newCliEnv(e.dir, e.reg, "root2");
  const T2 = (args: string[]): CliResult => {
    const r = Bun.spawnSync(e.inNs([BINARY, ...args]), { env: cliEnv(other), stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    return { code: r.exitCode ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  try {
    expect(tinydock(other, ["pull", "-q", "busybox"]).code).toBe(0); // the registry is outside the namespace
    // The node port is the host's: the second root's copy takes another.
    const web2 = path.join(e.dir, "web2.yaml");
    fs.writeFileSync(web2, fs.readFileSync(WEB, "utf8").replace("nodePort: 30080", "nodePort: 30090"));
    const r = T2(["play", "kube", web2]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [a, b] = [clusterIp(e.env.root, "web"), clusterIp(other.root, "web")];
    expect(a).not.toBe(b);
    const chains = e.rules().split("\n").filter((l) => /^:TINYDOCK-KUBE-SVC-/.test(l));
    expect(chains.length).toBe(3); // rdy, web of the first root, web of the second
    const answers = async (ip: string) => {
      const seen = new Set<string>();
      await until(`three pods through ${ip}`, () => {
        const c = curl(`http://${ip}/`);
        if (c.code === 0) seen.add(c.body);
        return seen.size === 3;
      }, 30_000, 10);
      return seen.size;
    };
    expect(await answers(a)).toBe(3);
    expect(await answers(b)).toBe(3);
    expect(T2(["play", "kube", "--down", web2]).code).toBe(0);
    // The first root's Service is whole and answers.
    expect(e.rules().split("\n").filter((l) => /^:TINYDOCK-KUBE-SVC-/.test(l)).length).toBe(2);
    expect(await answers(a)).toBe(3);
    expect(curl(`http://${b}/`).code).not.toBe(0);
  } finally {
    removeAll(T2);
  }
}, 180_000);

test("--down of both: no Service rule, guard or chain is left", () => {
  expect(e.T(["play", "kube", "--down", file]).code).toBe(0);
  expect(e.T(["play", "kube", "--down", WEB]).code).toBe(0);
  expect(e.rules()).not.toContain("TINYDOCK-KUBE");
  expect(e.rules()).not.toContain("tinydock:kube");
  expect(findLeaks(e.dir)).toEqual([]);
});
