// Kubernetes probes with play kube, run by the monitor: a liveness exec probe that fails once a file
// is gone gets the container killed and restarted (RestartCount), httpGet against busybox httpd and
// tcpSocket pass on the right port and path and fail on a wrong one (the monitor connects from the
// pod's network namespace, with nothing of the image), and readiness goes from not ready to ready
// in `pod ps` and inspect.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { startE2e, until, type E2e } from "../helpers/e2e.ts";

let e: E2e;
const files: string[] = [];
beforeAll(async () => {
  e = await startE2e({ prefix: "td-probes-e2e-" });
}, 120_000);
afterAll(async () => {
  for (const f of files) e?.T(["play", "kube", "--down", f]);
  await e?.stop();
});

/** A Pod of busybox containers (never pulled), written to a file of the test's. */
function podFile(name: string, containers: object[], restartPolicy = "Always"): string {
  const doc = { apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { restartPolicy, containers: containers.map((c) => ({ image: "busybox", imagePullPolicy: "Never", ...c })) } };
  const f = path.join(e.dir, `${name}.yaml`);
  fs.writeFileSync(f, JSON.stringify(doc));
  files.push(f);
  return f;
}

const inspect = (name: string) => JSON.parse(e.T(["inspect", name]).stdout)[0];
interface Probe {
  Probe: string;
  Result: string;
  ConsecutiveFailures: number;
  Last?: { Start: string; End: string; Output: string };
}
const probe = (name: string, kind: string) => (inspect(name).State.Probes.Probes as Probe[]).find((p) => p.Probe === kind);
const play = (f: string) => {
  const r = e.T(["play", "kube", f]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
};
const HTTPD = { command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"], ports: [{ name: "http", containerPort: 8080 }] };

test("a liveness exec probe that fails once its file is gone restarts the container, counted in RestartCount", async () => {
  play(
    podFile("live", [
      {
        name: "app",
        command: ["sh", "-c", "touch /tmp/alive; exec sleep 3600"],
        livenessProbe: { exec: { command: ["cat", "/tmp/alive"] }, periodSeconds: 1, failureThreshold: 2 },
      },
    ]),
  );
  await Bun.sleep(2500);
  expect(inspect("live-app").RestartCount).toBe(0);
  const ok = probe("live-app", "liveness")!;
  expect(ok.Result).toBe("success");
  console.log(`one exec probe (cat in the container), start to result: ${Date.parse(ok.Last!.End) - Date.parse(ok.Last!.Start)} ms`);
  const pid = inspect("live-app").State.Pid;
  const t0 = performance.now();
  expect(e.T(["exec", "live-app", "rm", "/tmp/alive"]).code).toBe(0);
  await until("the restart", () => inspect("live-app").RestartCount >= 1, 15_000, 100);
  console.log(`liveness failure (period 1 s, threshold 2) → restarted in ${(performance.now() - t0).toFixed(0)} ms`);
  await until("running again", () => inspect("live-app").State.Running, 10_000, 100);
  const c = inspect("live-app");
  expect(c.State.Pid).not.toBe(pid);
  // The new run touched the file again: it stays up.
  await Bun.sleep(2500);
  expect(inspect("live-app").RestartCount).toBe(c.RestartCount);
  expect(e.T(["events", "--since", "0", "--until", "0s", "--filter", "container=live-app", "--format", "{{.Action}}"]).stdout).toContain("probe_failed: liveness");
}, 60_000);

test("httpGet and tcpSocket readiness probes pass against busybox httpd and fail on a wrong path or port", async () => {
  const ready = { periodSeconds: 1 };
  play(
    podFile("web", [
      { name: "good", ...HTTPD, readinessProbe: { httpGet: { path: "/index.html", port: "http", httpHeaders: [{ name: "X-Probe", value: "1" }] }, ...ready } },
      { name: "tcp", command: ["sleep", "3600"], readinessProbe: { tcpSocket: { port: 8080 }, ...ready } },
      { name: "badpath", command: ["sleep", "3600"], readinessProbe: { httpGet: { path: "/missing", port: 8080 }, ...ready } },
      { name: "badport", command: ["sleep", "3600"], readinessProbe: { httpGet: { path: "/", port: 8081 }, ...ready } },
      { name: "badtcp", command: ["sleep", "3600"], readinessProbe: { tcpSocket: { port: 8081 }, ...ready } },
    ]),
  );
  await until("good and tcp ready", () => inspect("web-good").State.Probes.Ready && inspect("web-tcp").State.Probes.Ready, 15_000, 100);
  await until("the bad ones probed twice", () => ["badpath", "badport", "badtcp"].every((n) => (probe(`web-${n}`, "readiness")?.ConsecutiveFailures ?? 0) >= 2), 15_000, 100);
  for (const n of ["badpath", "badport", "badtcp"]) expect(inspect(`web-${n}`).State.Probes.Ready).toBe(false);
  const last = (n: string) => probe(`web-${n}`, "readiness")!.Last!;
  const took = (n: string) => {
    const l = last(n); // one read: the monitor rewrites it at every result
    return Date.parse(l.End) - Date.parse(l.Start);
  };
  console.log(`one probe, start to result: httpGet ${took("good")} ms, tcpSocket ${took("tcp")} ms, httpGet 404 ${took("badpath")} ms, refused ${took("badport")} ms`);
  expect(probe("web-badpath", "readiness")!.Last!.Output).toBe("HTTP probe failed with statuscode: 404");
  expect(probe("web-badport", "readiness")!.Last!.Output).toMatch(/^dial tcp 10\.\d+\.\d+\.\d+:8081: connect: connection refused$/);
  expect(probe("web-badtcp", "readiness")!.Last!.Output).toMatch(/:8081: connect: connection refused$/);
  expect(e.T(["pod", "ps", "--format", "{{.Name}} {{.Ready}}"]).stdout).toContain("web 2/5\n");
  // httpd logs nothing of it; the request reached it from the pod's IP, not from inside the image.
  expect(inspect("web-good").RestartCount).toBe(0);
}, 60_000);

test("readiness: not ready until the probe passes, then ready, in pod ps and pod inspect", async () => {
  play(
    podFile("slow", [
      {
        name: "app",
        command: ["sh", "-c", "sleep 3; touch /tmp/ready; exec sleep 3600"],
        readinessProbe: { exec: { command: ["test", "-f", "/tmp/ready"] }, periodSeconds: 1, successThreshold: 2 },
      },
    ]),
  );
  expect(e.T(["pod", "ps", "--filter", "name=slow", "--format", "{{.Ready}}"]).stdout).toBe("0/1\n");
  expect(JSON.parse(e.T(["pod", "inspect", "slow"]).stdout)[0].Ready).toBe("0/1");
  const t0 = performance.now();
  await until("ready", () => e.T(["pod", "ps", "--filter", "name=slow", "--format", "{{.Ready}}"]).stdout === "1/1\n", 15_000, 100);
  const ms = performance.now() - t0;
  console.log(`readiness (file after 3 s, period 1 s, successThreshold 2) → ready after ${ms.toFixed(0)} ms`);
  expect(ms).toBeGreaterThan(2000);
  const pod = JSON.parse(e.T(["pod", "inspect", "slow"]).stdout)[0];
  expect(pod.Ready).toBe("1/1");
  expect(pod.Containers.find((c: { Name: string }) => c.Name === "slow-app").Ready).toBe(true);
}, 60_000);

test("a liveness tcpSocket probe on a closed port kills the container; with restartPolicy Never it stays exited with 137", async () => {
  play(podFile("never", [{ name: "app", command: ["sleep", "3600"], livenessProbe: { tcpSocket: { port: 9 }, periodSeconds: 1, failureThreshold: 1 } }], "Never"));
  await until("exited", () => inspect("never-app").State.Status === "exited", 15_000, 100);
  const c = inspect("never-app");
  expect(c.State.ExitCode).toBe(137);
  expect(c.RestartCount).toBe(0);
  expect(c.State.Probes.Ready).toBe(false);
}, 60_000);

test("a startup probe holds the liveness probe back until it passes", async () => {
  // The liveness probe would fail (threshold 1) before the file exists: only the startup probe runs then.
  const check = { exec: { command: ["test", "-f", "/tmp/started"] }, periodSeconds: 1 };
  play(podFile("boot", [{ name: "app", command: ["sh", "-c", "sleep 3; touch /tmp/started; exec sleep 3600"], startupProbe: { ...check, failureThreshold: 10 }, livenessProbe: { ...check, failureThreshold: 1 } }]));
  expect(inspect("boot-app").State.Probes.Started).toBe(false);
  await until("started", () => inspect("boot-app").State.Probes.Started, 15_000, 100);
  await Bun.sleep(1500);
  const c = inspect("boot-app");
  expect(c.RestartCount).toBe(0);
  expect(c.State.Probes.Ready).toBe(true);
  expect(probe("boot-app", "liveness")!.Result).toBe("success");
}, 60_000);
