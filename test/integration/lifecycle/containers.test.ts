// The container verbs in-process against real cgroups, v1 (/sys/fs/cgroup) and v2 (the hybrid
// host's /sys/fs/cgroup/unified), with a container shaped the way the monitor leaves one:
// state.json + run.json naming a live supervisor, and a process in tinydock/<id>.
import { afterEach, describe, expect, test } from "bun:test";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../../../src/atomic.ts";
import { containerFiles, containerPaths, saveContainer } from "../../../src/store/containers.ts";
import { findLive, rereadLive } from "../../../src/lifecycle/live.ts";
import { processStartTime } from "../../../src/lifecycle/liveness.ts";
import { pauseContainer, unpauseContainer } from "../../../src/lifecycle/pause.ts";
import { reconcile } from "../../../src/lifecycle/reconcile.ts";
import { cleanupContainer, removeContainer } from "../../../src/lifecycle/remove.ts";
import { sampleStats, statsRow } from "../../../src/lifecycle/stats.ts";
import { killContainer, stopContainer } from "../../../src/lifecycle/stop.ts";
import { topContainer } from "../../../src/lifecycle/top.ts";
import { waitContainer } from "../../../src/lifecycle/wait.ts";
import { detectCgroups } from "../../../src/runtime/cgroups/index.ts";
import { testContext, type TestEnv } from "../../helpers/ctx.ts";
import { testRecord } from "../../helpers/record.ts";

const BUSYBOX = "/bin/busybox";
const ROOTS: [string, string][] = [
  ["v1", "/sys/fs/cgroup"],
  ["v2", "/sys/fs/cgroup/unified"],
];

let t: TestEnv | undefined;
const procs: ReturnType<typeof Bun.spawn>[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill(9);
  for (const c of cleanups.splice(0).reverse()) {
    try {
      c();
    } catch {}
  }
  t?.cleanup();
  t = undefined;
});

/** A "running" container: a busybox process in tinydock/<id>, supervised by itself. */
async function fakeRunning(cgroupRoot: string, cmd: string[], name = "c"): Promise<{ id: string; pid: number; proc: ReturnType<typeof Bun.spawn> }> {
  t = testContext({}, { cgroupRoot });
  const ctx = t.ctx;
  const id = crypto.randomBytes(32).toString("hex");
  const cg = detectCgroups(cgroupRoot, { settleMs: 2000, sys: ctx.sys }).create(id, {});
  cleanups.push(() => cg.destroy());
  const proc = Bun.spawn([BUSYBOX, ...cmd], { stdio: ["ignore", "ignore", "ignore"] });
  procs.push(proc);
  for (const f of cg.procsFiles) fs.writeFileSync(f, String(proc.pid));
  const start = processStartTime(proc.pid)!;
  const paths = containerPaths(ctx.root, id);
  fs.mkdirSync(paths.dir, { recursive: true });
  const rec = testRecord({ id, name, args: cmd });
  saveContainer(ctx.root, rec);
  writeFileAtomic(
    containerFiles(ctx.root, id).run,
    JSON.stringify({ status: "running", pid: proc.pid, pidStartTime: start, monitorPid: proc.pid, monitorStartTime: start, startedAt: new Date().toISOString(), finishedAt: "0001-01-01T00:00:00Z", exitCode: 0, oomKilled: false, restartCount: 0, error: "" }),
  );
  return { id, pid: proc.pid, proc };
}

for (const [version, cgroupRoot] of ROOTS) {
  describe(`cgroup ${version}`, () => {
    test("pause/unpause through the freezer; top; stats; stop; rm leaves nothing", async () => {
      const { id, pid } = await fakeRunning(cgroupRoot, ["sh", "-c", "while true; do :; done"]);
      const ctx = t!.ctx;
      expect(findLive(ctx, "c").state.Status).toBe("running");

      const before = sampleStats(ctx, findLive(ctx, "c"));
      await Bun.sleep(300);
      const row = statsRow(findLive(ctx, "c"), before, sampleStats(ctx, findLive(ctx, "c")));
      expect(row.pids).toBe(1);
      // A busy loop: tens of percent of a CPU at least (2 shared cores).
      expect(row.cpuPercent).toBeGreaterThan(10);
      // Moving a process does not move its memory charge (v1): only the limit is sure to be there.
      expect(row.memLimit).toBeGreaterThan(0);

      const top = topContainer(ctx, findLive(ctx, "c"));
      expect(top.processes.map((p) => p[1])).toEqual([String(pid)]);
      expect(top.processes[0]![7]).toBe("/bin/busybox sh -c while true; do :; done");

      await pauseContainer(ctx, findLive(ctx, "c"));
      const paused = findLive(ctx, "c").state;
      expect([paused.Status, paused.Paused, paused.Running]).toEqual(["paused", true, true]);
      const frozenCpu = sampleStats(ctx, findLive(ctx, "c")).cgroup.cpuUsageNs;
      await Bun.sleep(200);
      expect(sampleStats(ctx, findLive(ctx, "c")).cgroup.cpuUsageNs - frozenCpu).toBeLessThan(5_000_000);
      await expect(pauseContainer(ctx, findLive(ctx, "c"))).rejects.toThrow("is already paused");
      await unpauseContainer(ctx, findLive(ctx, "c"));
      expect(findLive(ctx, "c").state.Status).toBe("running");

      // sh busy-looping dies of SIGTERM; its supervisor (itself) is gone: exited, 137 unless recorded.
      await stopContainer(ctx, findLive(ctx, "c"), { timeoutS: 5 });
      expect(fs.existsSync(containerFiles(ctx.root, id).stopping)).toBe(true);
      const s = findLive(ctx, "c").state;
      expect([s.Status, s.ExitCode, s.stale]).toEqual(["exited", 137, true]);
      expect(await waitContainer(ctx, findLive(ctx, "c"))).toBe(137);

      await removeContainer(ctx, findLive(ctx, "c"));
      expect(fs.existsSync(containerPaths(ctx.root, id).dir)).toBe(false);
      expect(detectCgroups(cgroupRoot).list()).not.toContain(id);
    });

    test("a paused container is stopped: the signal lands after thawing", async () => {
      await fakeRunning(cgroupRoot, ["sleep", "1000"]);
      const ctx = t!.ctx;
      await pauseContainer(ctx, findLive(ctx, "c"));
      const t0 = performance.now();
      await stopContainer(ctx, findLive(ctx, "c"), { timeoutS: 5 });
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(findLive(ctx, "c").state.Status).toBe("exited");
    });

    test("wait gets the exit code of a --rm container removed by its cleanup right after the end", async () => {
      const { id, proc } = await fakeRunning(cgroupRoot, ["sleep", "1000"]);
      const ctx = t!.ctx;
      const rec = JSON.parse(fs.readFileSync(containerPaths(ctx.root, id).state, "utf8"));
      saveContainer(ctx.root, { ...rec, autoRemove: true });
      const waiting = waitContainer(ctx, findLive(ctx, "c"));
      await Bun.sleep(20);
      proc.kill(9);
      await proc.exited;
      // The supervisor's cleanup runs at once; the waiter still reads the code.
      await cleanupContainer(ctx, id);
      expect(await waiting).toBe(137);
      expect(fs.existsSync(containerPaths(ctx.root, id).dir)).toBe(false);
      expect(detectCgroups(cgroupRoot).list()).not.toContain(id);
    });

    test("rm -f of a running container kills what is in its cgroup; reconcile removes an empty cgroup with no container and leaves another root's running one", async () => {
      const { id, proc } = await fakeRunning(cgroupRoot, ["sleep", "1000"]);
      const ctx = t!.ctx;
      await expect(removeContainer(ctx, findLive(ctx, "c"))).rejects.toThrow("You cannot remove a running container");
      await killContainer(ctx, findLive(ctx, "c"), "SIGKILL");
      await proc.exited;
      expect(rereadLive(ctx, id)?.state.Status).toBe("exited");
      await removeContainer(ctx, findLive(ctx, "c"), { force: true });

      const orphan = crypto.randomBytes(32).toString("hex");
      const cg = detectCgroups(cgroupRoot, { sys: ctx.sys }).create(orphan, {});
      cleanups.push(() => cg.destroy());
      // Another root's running container (every root shares tinydock/<id>): not this root's to kill.
      const elsewhere = crypto.randomBytes(32).toString("hex");
      const other = detectCgroups(cgroupRoot, { sys: ctx.sys }).create(elsewhere, {});
      cleanups.push(() => other.destroy());
      const p = Bun.spawn([BUSYBOX, "sleep", "1000"], { stdio: ["ignore", "ignore", "ignore"] });
      procs.push(p);
      for (const f of other.procsFiles) fs.writeFileSync(f, String(p.pid));
      // network: false — on the host's netns the network stage would take other roots' veths for orphans.
      const report = await reconcile(ctx, { network: false });
      expect(report.cgroups.some((d) => d.endsWith(orphan))).toBe(true);
      expect(detectCgroups(cgroupRoot).list()).not.toContain(orphan);
      expect(report.cgroups.some((d) => d.endsWith(elsewhere))).toBe(false);
      expect(detectCgroups(cgroupRoot).list()).toContain(elsewhere);
      expect(p.exitCode).toBeNull();
      expect(fs.readFileSync(`/proc/${p.pid}/stat`, "utf8")).not.toMatch(/^\d+ \(.*\) Z/);
      expect(path.basename(containerPaths(ctx.root, id).dir)).toBe(id);
    });
  });
}
