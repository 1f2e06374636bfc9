// A restart the init could not complete: the monitor records (stage, errno, index, detail) in run.json
// and the reader names the operation from the saved plan, as launch() names a first start's failure.
import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { withRestartError } from "../../../src/lifecycle/monitor.ts";
import { encodePlan, InitStage } from "../../../src/runtime/encode.ts";
import { MS } from "../../../src/sys/sys.ts";
import { testPlan } from "../../helpers/plan.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-restart-error-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const plan = testPlan({
  rootfs: { source: "overlay", target: "/r/rootfs", fstype: "overlay", flags: 0, data: "lowerdir=l/A", cwd: "/r" },
  rootfsPath: "/r/rootfs",
  mounts: [
    { source: "proc", target: "/proc", fstype: "proc", flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: null },
    { source: "/srv/gone", target: "/data", fstype: null, flags: MS.BIND | MS.REC, data: null },
  ],
  cgroupProcs: ["/sys/fs/cgroup/pids/tinydock/x/cgroup.procs"],
});

function container(name: string, withPlan: boolean): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  if (withPlan) fs.writeFileSync(path.join(d, "plan.bin"), encodePlan(plan));
  return d;
}

const failed = (stage: number, errno: number, index: number, detail = "") => ({
  status: "exited" as const,
  pid: 0,
  error: "the container init failed",
  initFailure: { stage, errno, index, detail },
});

test("named by operation from plan.bin: the mount, its flags and the errno", () => {
  const d = container("mount", true);
  expect(withRestartError(d, failed(InitStage.Mount, 2, 1))!.error).toBe("mount /srv/gone on /data (MS_BIND|MS_REC): ENOENT");
  expect(withRestartError(d, failed(InitStage.Cgroup, 13, 0))!.error).toBe("join cgroup: write 0 to /sys/fs/cgroup/pids/tinydock/x/cgroup.procs: EACCES");
  expect(withRestartError(d, failed(InitStage.Exec, 2, 1, "true"))!.error).toBe('exec: "true": executable file not found in $PATH');
});

test("without a failure, or without a readable plan, run.json stays as written", () => {
  const ok = { status: "running" as const, pid: 7, error: "" };
  expect(withRestartError(container("ok", true), ok)).toBe(ok);
  const rec = failed(InitStage.Mount, 2, 1);
  expect(withRestartError(container("noplan", false), rec)).toBe(rec);
  const bad = container("badplan", false);
  fs.writeFileSync(path.join(bad, "plan.bin"), "not a plan");
  expect(withRestartError(bad, rec)).toBe(rec);
  expect(withRestartError(bad, undefined)).toBeUndefined();
});

test("readLive names a recorded restart failure (monitor.ts loads only for such a record)", async () => {
  const { testContext } = await import("../../helpers/ctx.ts");
  const { findLive } = await import("../../../src/lifecycle/live.ts");
  const env = testContext();
  try {
    const id = "d".repeat(64);
    const d = path.join(env.root, "containers", id);
    fs.mkdirSync(d, { recursive: true });
    const rec = { id, name: "r", image: "busybox", imageId: "", created: "2026-01-01T00:00:00Z", args: [], hostname: "r", state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" } };
    fs.writeFileSync(path.join(d, "state.json"), JSON.stringify(rec));
    fs.writeFileSync(path.join(d, "plan.bin"), encodePlan(plan));
    fs.writeFileSync(path.join(d, "run.json"), JSON.stringify(failed(InitStage.Mount, 2, 1)));
    expect(findLive(env.ctx, "r").state.Error).toBe("mount /srv/gone on /data (MS_BIND|MS_REC): ENOENT");
    fs.writeFileSync(path.join(d, "run.json"), JSON.stringify({ status: "exited", pid: 0, exitCode: 3, error: "plain words" }));
    expect(findLive(env.ctx, id).state.Error).toBe("plain words");
  } finally {
    env.cleanup();
  }
});
