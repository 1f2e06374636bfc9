// The kubelet's restart back-off for `play kube` with the compiled binary: a container that fails
// at once is restarted at once, then after 10 s, then 20 s (not Docker's 100 ms doubling, nor
// podman's none); meanwhile run.json says when, inspect says Restarting, ps "Restarting (1) …",
// the pod CrashLoopBackOff. OnFailure leaves an exit 0 down, Never an exit 1; stop and rm -f end
// a wait at once and leave nothing. A SIGKILL that is no stop (a liveness probe's) counts as an end.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { findLeaks } from "../helpers/leakcheck.ts";
import { readRunJson, startE2e, until, type E2e } from "../helpers/e2e.ts";

let e: E2e;
beforeAll(async () => {
  e = await startE2e({ prefix: "td-kube-backoff-e2e-" });
}, 120_000);
afterAll(async () => {
  for (const p of ["crash", "fails", "done", "never", "killed"]) e?.T(["pod", "rm", "-f", p]);
  await e?.stop();
});

/** A pod of one container `app` running `sh -c script`, played. */
function play(name: string, policy: string, script: string): string {
  const file = path.join(e.dir, `${name}.yaml`);
  fs.writeFileSync(
    file,
    `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  restartPolicy: ${policy}
  containers:
  - name: app
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", ${JSON.stringify(script)}]
`,
  );
  const r = e.T(["play", "kube", file]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return e.T(["inspect", "--format", "{{.Id}}", `${name}-app`]).stdout.trim();
}

type Run = { status?: string; exitCode?: number; restartCount?: number; startedAt?: string; finishedAt?: string; restartAt?: string; restartDelay?: number; monitorPid?: number };
const run = (id: string) => readRunJson(e.env, id) as Run | undefined;
const podMember = (pod: string) => JSON.parse(e.T(["pod", "inspect", pod]).stdout)[0].Containers.find((c: { Name: string }) => c.Name === `${pod}-app`);
/** run.json once the container waits out a back-off (after `restarts` restarts, when given). */
const backingOff = (what: string, id: string, restarts: number | undefined, ms: number) =>
  until(what, () => {
    const s = run(id);
    return s?.status === "restarting" && (restarts === undefined || s.restartCount === restarts) && s;
  }, ms);
const alive = (pid: number | undefined) => !!pid && fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));

test("restartPolicy Always, exit 1: at once, then 10 s, then 20 s; CrashLoopBackOff meanwhile; stop ends the wait", async () => {
  const t0 = Date.now();
  const id = play("crash", "Always", "echo try; exit 1");
  const done = play("done", "OnFailure", "exit 0");
  const never = play("never", "Never", "exit 1");

  // The first end restarts at once; the second waits the kubelet's 10 s (not Docker's 200 ms).
  const first = await backingOff("the first restart's end", id, 1, 10_000);
  const t1 = Date.now();
  expect(t1 - t0).toBeLessThan(5_000);
  expect(first.restartDelay).toBe(10_000);
  expect(Date.parse(first.restartAt!) - Date.parse(first.finishedAt!)).toBeGreaterThanOrEqual(9_990);
  expect(Date.parse(first.restartAt!) - Date.parse(first.finishedAt!)).toBeLessThan(10_100);

  const c = JSON.parse(e.T(["inspect", id]).stdout)[0];
  expect(c.State).toMatchObject({ Status: "restarting", Running: true, Restarting: true, ExitCode: 1, Pid: 0 });
  expect(c.RestartCount).toBe(1);
  expect(e.T(["ps", "-a", "--filter", "name=crash-app", "--format", "{{.Status}}"]).stdout.trim()).toMatch(/^Restarting \(1\) (Less than a second|\d+ seconds?) ago$/);
  expect(podMember("crash")).toMatchObject({ State: "CrashLoopBackOff", RestartCount: 1, Waiting: { Reason: "CrashLoopBackOff", Message: "back-off 10s restarting failed container=app pod=crash" } });
  const ps = e.T(["pod", "ps", "--format", "json"]).stdout.trim().split("\n").map((l) => JSON.parse(l) as { Name: string; Containers: { Status: string }[] });
  expect(ps.find((p) => p.Name === "crash")!.Containers[0]!.Status).toBe("CrashLoopBackOff");

  const second = await backingOff("the second restart's end", id, 2, 15_000);
  const waited = Date.parse(second.startedAt!) - Date.parse(first.finishedAt!);
  console.log(`kubelet back-off: restart 1 ${t1 - t0} ms after play (3 pods), restart 2 ${waited} ms after the 2nd end; 2 restarts in ${Date.now() - t0} ms; next in ${second.restartDelay} ms`);
  expect(waited).toBeGreaterThanOrEqual(10_000);
  expect(waited).toBeLessThan(11_000);
  expect(second.restartDelay).toBe(20_000);
  expect(podMember("crash").Waiting.Message).toBe("back-off 20s restarting failed container=app pod=crash");

  // OnFailure and exit 0, Never and exit 1: down for good, never restarted (a restart would have come at once).
  for (const x of [done, never]) expect(run(x)).toMatchObject({ status: "exited", restartCount: 0 });
  expect(run(never)!.exitCode).toBe(1);

  // stop in the middle of the 20 s: at once, and the monitor is gone.
  const monitor = second.monitorPid;
  const s0 = performance.now();
  const stop = e.T(["stop", "crash-app"]);
  const stopMs = performance.now() - s0;
  console.log(`stop during a 20 s back-off: ${stopMs.toFixed(0)} ms`);
  expect(stop.code).toBe(0);
  expect(stopMs).toBeLessThan(3_000);
  expect(run(id)).toMatchObject({ status: "exited", restartCount: 2 });
  await until("the monitor's end", () => !alive(monitor), 5_000);
  expect(podMember("crash").State).toBe("exited");
}, 60_000);

test("a SIGKILL from outside (as a liveness probe's) restarts under the policy and counts in the streak", async () => {
  const id = play("killed", "Always", "sleep 300");
  const pidOf = () => {
    const r = readRunJson(e.env, id);
    return r?.status === "running" && r.pid;
  };
  process.kill(await until("running", pidOf, 10_000), "SIGKILL");
  const again = await until("the restart at once", () => run(id)?.restartCount === 1 && pidOf(), 10_000);
  process.kill(again, "SIGKILL");
  const s = await backingOff("the back-off", id, undefined, 10_000);
  expect(s).toMatchObject({ exitCode: 137, restartCount: 1, restartDelay: 10_000 });
  expect(podMember("killed").State).toBe("CrashLoopBackOff");
  expect(e.T(["pod", "rm", "-f", "killed"]).code).toBe(0);
}, 60_000);

test("rm -f during a back-off (OnFailure, exit 1): at once, nothing left", async () => {
  const id = play("fails", "OnFailure", "exit 1");
  const s = await backingOff("a back-off", id, 1, 10_000);
  const t = performance.now();
  const rm = e.T(["rm", "-f", "fails-app"]);
  const ms = performance.now() - t;
  console.log(`rm -f during a 10 s back-off: ${ms.toFixed(0)} ms`);
  expect(rm.code).toBe(0);
  expect(ms).toBeLessThan(3_000);
  expect(fs.existsSync(path.join(e.env.root, "containers", id))).toBe(false);
  await until("the monitor's end", () => !alive(s.monitorPid), 5_000);
  for (const p of ["crash", "fails", "done", "never"]) expect(e.T(["pod", "rm", "-f", p]).code).toBe(0);
  expect(findLeaks(e.dir)).toEqual([]);
}, 60_000);
