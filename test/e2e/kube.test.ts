// play kube with the compiled binary: the study notes' pods (test/fixtures/kube), a Deployment of
// 3 replicas behind a NodePort Service balanced by iptables statistic rules, --down leaving
// nothing, and bad files refused in one line with nothing made. The engine pulls inside the test's
// namespace (imagePullPolicy Always for :latest), so a second registry process serves the same
// storage on the same port there.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { findLeaks } from "../helpers/leakcheck.ts";
import { startE2e, until, type E2e } from "../helpers/e2e.ts";

const FIX = path.resolve(import.meta.dir, "../fixtures/kube");
let e: E2e;
let inner: Bun.Subprocess | undefined;
beforeAll(async () => {
  e = await startE2e({ prefix: "td-kube-e2e-" });
  const config = path.join(path.dirname(e.reg.dataDir), "config.yml");
  inner = Bun.spawn(e.inNs(["/usr/bin/docker-registry", "serve", config]), { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  await until("the registry in the namespace", () => e.sh(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "1", `${e.reg.url}/v2/`]).stdout === "200", 15_000, 100);
}, 120_000);
afterAll(async () => {
  for (const f of ["core-k8s.yaml", "core-k8s-greedy.yaml", "web-deployment.yaml"]) e?.T(["play", "kube", "--down", path.join(FIX, f)]);
  inner?.kill();
  await inner?.exited;
  await e?.stop();
});

/** The container's memory limit as its cgroup on the host says it (v1 memory.limit_in_bytes or v2 memory.max). */
const memoryLimit = (name: string) => {
  const id = e.T(["inspect", name, "--format", "{{.Id}}"]).stdout.trim();
  const rec = JSON.parse(fs.readFileSync(path.join(e.env.root, "containers", id, "state.json"), "utf8")) as { cgroupPath: string[] };
  for (const dir of rec.cgroupPath) {
    for (const f of ["memory.limit_in_bytes", "memory.max"]) if (fs.existsSync(path.join(dir, f))) return fs.readFileSync(path.join(dir, f), "utf8").trim();
  }
  return "";
};

test("the notes' pods: core-k8s runs sleep 10000 with its labels; core-k8s-greedy's memory limit is 200Mi", () => {
  const { T } = e;
  const t0 = performance.now();
  const r = T(["play", "kube", path.join(FIX, "core-k8s.yaml")]);
  console.log(`play kube core-k8s.yaml: ${(performance.now() - t0).toFixed(0)} ms`);
  // Only the pull's lines (imagePullPolicy Always for :latest, as the API defaults it).
  expect(r.stderr.split("\n").filter((l) => l && !/^(Digest|Status): /.test(l))).toEqual([]);
  expect(r.code).toBe(0);
  const c = JSON.parse(T(["inspect", "core-k8s-any-old-name-will-do"]).stdout)[0];
  expect(c.State.Running).toBe(true);
  expect(c.Path).toBe("sleep");
  expect(c.Args).toEqual(["10000"]);
  const pod = JSON.parse(T(["pod", "inspect", "core-k8s"]).stdout)[0];
  expect(pod.Labels).toEqual({ role: "just-an-example", app: "my-example-app", organization: "friends-of-manning", creator: "jay" });
  expect(pod.Hostname).toBe("core-k8s");
  expect(T(["exec", "core-k8s-any-old-name-will-do", "hostname"]).stdout.trim()).toBe("core-k8s");

  const g = T(["kube", "play", path.join(FIX, "core-k8s-greedy.yaml")]);
  expect(g.code).toBe(0);
  expect(memoryLimit("core-k8s-greedy-any-old-name-will-do")).toBe("209715200");
  expect(JSON.parse(T(["inspect", "core-k8s-greedy-any-old-name-will-do"]).stdout)[0].HostConfig.Memory).toBe(209715200);

  // --replace makes it again; --down takes it all.
  expect(T(["play", "kube", "--replace", path.join(FIX, "core-k8s.yaml")]).code).toBe(0);
  expect(T(["play", "kube", "--down", path.join(FIX, "core-k8s.yaml")]).code).toBe(0);
  expect(T(["play", "kube", "--down", path.join(FIX, "core-k8s-greedy.yaml")]).code).toBe(0);
  expect(T(["ps", "-a", "-q"]).stdout).toBe("");
  expect(T(["pod", "ls", "-q"]).stdout).toBe("");
}, 120_000);

test("a Deployment of 3 makes 3 pods; a NodePort Service balances across them; --down leaves nothing", async () => {
  const { T } = e;
  const file = path.join(FIX, "web-deployment.yaml");
  const r = T(["play", "kube", file]);
  expect(r.stderr).toBe(""); // IfNotPresent: no pull
  expect(r.code).toBe(0);
  const pods = T(["pod", "ps", "--filter", "label=app=web", "--format", "{{.Name}}"]).stdout.trim().split("\n").sort();
  expect(pods).toEqual(["web-pod-0", "web-pod-1", "web-pod-2"]);
  // ConfigMap as env (valueFrom, envFrom with a prefix) and as files.
  const env = T(["exec", "web-pod-0-httpd", "sh", "-c", "echo $GREETING $CM_GREETING; cat /etc/web/GREETING; echo; touch /scratch/x && echo rw"]).stdout;
  expect(env).toBe("hello hello\nhello\nrw\n");
  expect(T(["exec", "web-pod-0-httpd", "stat", "-L", "-c", "%a", "/etc/web/index.sh", "/etc/web/GREETING"]).stdout).toBe("755\n755\n");
  const rules = e.rules();
  expect(rules).toMatch(/-m statistic --mode random --probability 0\.33333\d* -j DNAT/);
  expect(rules).toMatch(/-m statistic --mode random --probability 0\.50000\d* -j DNAT/);
  expect(rules).toMatch(/TINYDOCK-KUBE-SVC-[0-9A-F]{8}/);
  const gw = JSON.parse(T(["network", "inspect", "bridge"]).stdout)[0].IPAM.Config[0].Gateway as string;
  const seen = new Set<string>();
  await until("answers from every replica", () => {
    const out = e.sh(["curl", "-s", "-m", "2", `http://${gw}:30080/`]).stdout.trim();
    if (out) seen.add(out);
    return seen.size === 3;
  }, 30_000, 10);
  expect([...seen].sort()).toEqual(["web-pod-0", "web-pod-1", "web-pod-2"]);

  const down = T(["play", "kube", "--down", file]);
  expect(down.code).toBe(0);
  expect(e.rules()).not.toContain("TINYDOCK-KUBE");
  expect(T(["ps", "-a", "-q"]).stdout).toBe("");
  expect(T(["pod", "ls", "-q"]).stdout).toBe("");
  expect(fs.readdirSync(path.join(e.env.root, "pods"))).toEqual([]);
  expect(findLeaks(e.dir)).toEqual([]);
}, 180_000);

test("bad files: one line naming the file (and line), nothing made", () => {
  const { T } = e;
  const dir = fs.mkdtempSync(path.join(e.dir, "bad-"));
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  let bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
  let prev = "a";
  for (const n of "bcdefgh") {
    bomb += `${n}: &${n} [${Array(10).fill(`*${prev}`).join(",")}]\n`;
    prev = n;
  }
  const cases: [string, RegExp][] = [
    [write("syntax.yaml", "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: [Pod\nmetadata: {}\n"), /syntax\.yaml:\d+/],
    [write("bomb.yaml", bomb), /bomb\.yaml/],
    [write("big.yaml", `# ${"x".repeat(10 * 1024 * 1024)}\n`), /larger than/],
    [write("noimage.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: c\n"), /image: required/],
    [write("qty.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - {name: c, image: busybox, resources: {limits: {memory: lots}}}\n"), /limits\.memory/],
    [write("selector.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: y}}\n    spec: {containers: [{name: c, image: busybox}]}\n"), /selector/],
    [path.join(dir, "missing.yaml"), /ENOENT/],
  ];
  const pod = (name: string, container: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  containers:\n  - ${container}\n`;
  // podman's exit code for an engine failure, 125, as for the flags yargs refuses.
  const table: [string[], RegExp][] = [
    ...cases.map(([file, want]): [string[], RegExp] => [["play", "kube", file], want]),
    [["play", "kube", write("noimage-pull.yaml", pod("nopull", "{name: c, image: nosuch/image:1}"))], /nosuch\/image/],
    // The port the holder pod publishes: a second pod cannot have it.
    [["play", "kube", write("port.yaml", pod("port", "{name: c, image: busybox, imagePullPolicy: IfNotPresent, ports: [{containerPort: 80, hostPort: 18080}]}"))], /18080/],
    [["pod", "create", "--share", "pid"], /share/],
    [["pod", "create", "-p", "80:x"], /80:x/],
    [["pod", "create", "--name", "port2", "-p", "18080:80"], /18080/],
    [["pod", "stop", "-t", "soon", "holder"], /soon/],
    [["pod", "logs", "-c", "nope", "holder"], /nope/],
    [["generate", "kube", "nope"], /nope/],
  ];
  expect(T(["pod", "create", "--name", "holder", "-p", "18080:80"]).code).toBe(0);
  for (const [args, want] of table) {
    const r = T(args);
    expect({ args, code: r.code }).toEqual({ args, code: 125 });
    // One error line; besides it only yargs' help pointer and a pull's progress.
    const lines = r.stderr.trim().split("\n").filter((l) => !/^(See '|Unable to find image '|Digest: |Status: )/.test(l));
    expect({ args, lines }).toEqual({ args, lines: [expect.stringMatching(want)] });
  }
  expect(T(["pod", "rm", "-f", "holder"]).code).toBe(0);
  // Unknown kinds and fields: one warning line each, never silently run.
  const warn = T(["play", "kube", write("unknown.yaml", "apiVersion: v1\nkind: Gizmo\nmetadata: {name: g}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ncolour: red\n")]);
  expect(warn.code).toBe(0);
  expect(warn.stderr.trim().split("\n")).toEqual([expect.stringMatching(/kind "Gizmo" is not supported/), expect.stringMatching(/colour: unsupported field/)]);
  expect(T(["ps", "-a", "-q"]).stdout).toBe("");
  expect(T(["pod", "ls", "-q"]).stdout).toBe("");
}, 60_000);

test("generate kube → rm → play runs the same thing (command, env, port, memory, label, volume, restart)", async () => {
  const { T } = e;
  const data = fs.mkdtempSync(path.join(e.dir, "data-"));
  fs.writeFileSync(path.join(data, "i"), "FROM-HOST\n");
  const run = T(["run", "-d", "--name", "gen", "-p", "18081:8080", "-e", "GREETING=hi there", "-m", "64m", "-l", "tier=web", "--restart", "on-failure", "-v", `${data}:/www:ro`, "busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]);
  expect(run.code).toBe(0);
  const before = JSON.parse(T(["inspect", "gen"]).stdout)[0];
  const gen = T(["generate", "kube", "--service", "gen"]);
  expect(gen.stderr).toBe("");
  expect(gen.code).toBe(0);
  expect(gen.stdout).toContain("kind: Pod");
  expect(gen.stdout).toContain("kind: Service");
  // podman's: a NodePort Service, its node port random in Kubernetes' range.
  expect(gen.stdout).toContain("type: NodePort");
  const nodePort = Number(/nodePort: (\d+)/.exec(gen.stdout)?.[1]);
  expect(nodePort).toBeWithin(30000, 32768);
  const file = path.join(e.dir, "gen.yaml");
  fs.writeFileSync(file, gen.stdout);
  expect(T(["rm", "-f", "gen"]).code).toBe(0);
  const play = T(["kube", "play", file]);
  expect(play.stderr).toBe("");
  expect(play.code).toBe(0);
  const after = JSON.parse(T(["inspect", "gen-pod-gen"]).stdout)[0];
  expect([after.Path, after.Args]).toEqual([before.Path, before.Args]);
  expect(after.Config.Env).toContain("GREETING=hi there");
  expect(after.HostConfig.Memory).toBe(67108864);
  expect(after.HostConfig.RestartPolicy.Name).toBe("on-failure");
  expect(after.Config.Labels.tier).toBe("web");
  const ip = JSON.parse(T(["pod", "inspect", "gen-pod"]).stdout)[0].InfraConfig.IPAddress;
  await until("the replayed httpd", () => e.sh(["curl", "-s", "-m", "1", `http://${ip}:8080/i`]).stdout === "FROM-HOST\n");
  const gw = JSON.parse(T(["network", "inspect", "bridge"]).stdout)[0].IPAM.Config[0].Gateway as string;
  await until("the replayed httpd through the Service's node port", () => e.sh(["curl", "-s", "-m", "1", `http://${gw}:${nodePort}/i`]).stdout === "FROM-HOST\n");
  expect(T(["play", "kube", "--down", file]).code).toBe(0);
  expect(T(["ps", "-a", "-q"]).stdout).toBe("");
  expect(e.rules()).not.toContain("TINYDOCK-KUBE");
  expect(e.rules()).not.toContain("18081");
}, 120_000);
