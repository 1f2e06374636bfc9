import { describe, expect, test } from "bun:test";
import { backoffArg, crashLoop, delayAt, doubling, goDuration, restartTimes, SCHEDULES } from "../../../src/lifecycle/backoff.ts";
import { monitorArgs } from "../../../src/lifecycle/monitor.ts";
import { liveState } from "../../../src/lifecycle/state.ts";
import { kubeRunRequest } from "../../../src/kube/play.ts";
import type { KubePod } from "../../../src/kube/translate.ts";
import type { PodRecord } from "../../../src/pod/store.ts";

const { docker, kubelet } = SCHEDULES;

describe("the schedules", () => {
  test("docker: 100 ms doubling to 1 min, a new streak after a run of 10 s", () => {
    expect(docker.delaysMs).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000]);
    expect(docker.resetAfterMs).toBe(10_000);
  });
  test("kubelet: at once, then 10 s doubling to 5 min, a new streak after a run of 10 min", () => {
    expect(kubelet.delaysMs).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000]);
    expect(kubelet.resetAfterMs).toBe(600_000);
    expect(delayAt(kubelet, 1)).toBe(10_000);
    expect(delayAt(kubelet, 6)).toBe(300_000);
    expect(delayAt(kubelet, 99)).toBe(300_000);
  });
  test("doubling stops at the cap, even off the powers of two", () => {
    expect(doubling(10, 10)).toEqual([10]);
    expect(doubling(10, 35)).toEqual([10, 20, 35]);
  });
  test("the monitor's -B: reset, then the delays", () => {
    expect(backoffArg(kubelet)).toBe("600000,0,10000,20000,40000,80000,160000,300000");
    expect(backoffArg({ delaysMs: [1.4], resetAfterMs: 5 })).toBe("5,1");
  });
});

describe("played forward", () => {
  test("a container that fails at once, over 45 s: kubelet 3 restarts (0, 10, 30 s), Docker 8 (podman: 44 here)", () => {
    expect(restartTimes(kubelet, 0, 45_000)).toEqual([0, 10_000, 30_000]);
    expect(restartTimes(docker, 0, 45_000)).toEqual([100, 300, 700, 1500, 3100, 6300, 12700, 25500]);
  });
  test("kubelet over an hour: 5 min apart once capped", () => {
    const t = restartTimes(kubelet, 0, 3_600_000);
    expect(t.slice(0, 7)).toEqual([0, 10_000, 30_000, 70_000, 150_000, 310_000, 610_000]);
    expect(t.length).toBe(16); // then every 5 min: 610 s + 9 × 300 s
  });
  test("runs of 10 min reset the streak: each restart at once", () => {
    expect(restartTimes(kubelet, 600_000, 1_900_000)).toEqual([600_000, 1_200_000, 1_800_000]);
    expect(restartTimes(kubelet, 599_999, 1_900_000)).toEqual([599_999, 1_209_998, 1_829_997]);
  });
});

const CREATED = { state: { status: "created" as const, pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" } };

describe("CrashLoopBackOff", () => {
  const restarting = liveState(
    CREATED,
    { status: "restarting", pid: 0, exitCode: 1, restartCount: 2, restartAt: "2030-01-01T00:00:20Z", restartDelay: 20_000, monitorPid: 1 },
    { supervisorAlive: true, frozen: false, removing: false, locked: false },
  );
  test("run.json's wait becomes the state's nextRestart while restarting only", () => {
    expect(restarting.nextRestart).toEqual({ at: "2030-01-01T00:00:20Z", delayMs: 20_000 });
    const stale = liveState(CREATED, { status: "restarting", pid: 0, restartAt: "x", restartDelay: 5 }, { supervisorAlive: false, frozen: false, removing: false, locked: false });
    expect(stale.Status).toBe("exited");
    expect(stale.nextRestart).toBeUndefined();
  });
  test("under the kubelet's schedule, with the kubelet's message", () => {
    expect(crashLoop({ backoff: "kubelet" }, restarting, "demo-app", "demo")).toEqual({
      Reason: "CrashLoopBackOff",
      Message: "back-off 20s restarting failed container=app pod=demo",
    });
  });
  test("not under Docker's, nor for a restart due at once, nor while running", () => {
    expect(crashLoop(undefined, restarting, "demo-app", "demo")).toBeUndefined();
    expect(crashLoop({ backoff: "docker" }, restarting, "demo-app", "demo")).toBeUndefined();
    expect(crashLoop({ backoff: "kubelet" }, { ...restarting, nextRestart: { delayMs: 0 } }, "c", "p")).toBeUndefined();
    expect(crashLoop({ backoff: "kubelet" }, { Status: "running" }, "c", "p")).toBeUndefined();
  });
  test("Go's durations", () => {
    expect([10_000, 20_000, 160_000, 300_000].map(goDuration)).toEqual(["10s", "20s", "2m40s", "5m0s"]);
  });
});

describe("who gets which", () => {
  const base = { id: "x", dir: "/d", plan: {} as never, log: { path: "", maxSize: 0, maxFile: 1 }, oomFiles: [], cleanupArgv: ["c"] };
  const B = (args: string[]) => args[args.indexOf("-B") + 1];
  test("run --restart: Docker's; a pod of play kube: the kubelet's", () => {
    expect(B(monitorArgs({ ...base, restart: { name: "always", maximumRetryCount: 0 } }))).toBe(backoffArg(docker));
    const pod = { name: "demo", restart: "always", labels: {}, volumes: [], containers: [] } as unknown as KubePod;
    const req = kubeRunRequest({ name: "app", image: "busybox", args: [], env: [], mounts: [], expose: [], capAdd: [], capDrop: [], privileged: false, noNewPrivileges: false, readOnly: false, probes: [] } as never, pod, { id: "p".repeat(64), share: [] } as unknown as PodRecord, new Map());
    expect(req.lifetime.restart).toEqual({ name: "always", maximumRetryCount: 0, backoff: "kubelet" });
    expect(B(monitorArgs({ ...base, restart: req.lifetime.restart! }))).toBe(backoffArg(kubelet));
  });
});
