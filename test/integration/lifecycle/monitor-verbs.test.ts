// The container verbs against containers the real monitor (src/sys/monitor.c) runs: run.json,
// json-file logs, restart policies, the stopping marker, and its last act, `tinydock container
// cleanup <id>` (the compiled ./tinydock: run `make` first). Root; cleans up after itself.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { containerFiles, containerPaths, saveContainer } from "../../../src/store/containers.ts";
import { copyFromContainer } from "../../../src/lifecycle/copy.ts";
import { inspectContainer } from "../../../src/lifecycle/inspect.ts";
import { findLive, listLive } from "../../../src/lifecycle/live.ts";
import { followLogs, readLogs, type LogEntry } from "../../../src/lifecycle/logs.ts";
import { startDetached, type RestartPolicy } from "../../../src/lifecycle/monitor.ts";
import { removeContainer } from "../../../src/lifecycle/remove.ts";
import { stopContainer } from "../../../src/lifecycle/stop.ts";
import { waitContainer } from "../../../src/lifecycle/wait.ts";
import { mountsUnder, overlayMount } from "../../../src/rootfs/mount.ts";
import { detectCgroups } from "../../../src/runtime/cgroups/index.ts";
import { busyboxLowerRoot } from "../../helpers/busybox.ts";
import { BINARY, requireBinary } from "../../helpers/cli.ts";
import { testContext, type TestEnv } from "../../helpers/ctx.ts";
import { until } from "../../helpers/e2e.ts";
import { testPlan } from "../../helpers/plan.ts";
import { testRecord } from "../../helpers/record.ts";

let t: TestEnv;
const monitors: number[] = [];
const ids: string[] = [];

beforeAll(() => {
  requireBinary();
  t = testContext();
  const root = t.root;
  busyboxLowerRoot(root, ["sh", "cat", "echo", "sleep", "true", "seq"], ["containers"]);
  fs.writeFileSync(path.join(root, "images/busybox/etc/motd"), "inside\n");
  // The monitor's cleanup (`tinydock container cleanup <id>`) inherits this environment.
  process.env.TINYDOCK_ROOT = root;
  process.env.TINYDOCK_CONFIG = path.join(t.dir, "none.json");
});

afterEach(() => {
  for (const pid of monitors.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
});

afterAll(async () => {
  await Bun.sleep(200);
  for (const id of ids) {
    try {
      detectCgroups("/sys/fs/cgroup").open(id).destroy();
    } catch {}
  }
  expect(mountsUnder(t.root)).toEqual([]);
  const left = detectCgroups("/sys/fs/cgroup").list().filter((c) => ids.includes(c));
  t.cleanup();
  delete process.env.TINYDOCK_ROOT;
  delete process.env.TINYDOCK_CONFIG;
  expect(left).toEqual([]);
});

/** What `run -d` does, in short: dir, record, cgroup, plan, monitor. */
async function detached(name: string, args: string[], opts: { restart?: RestartPolicy; autoRemove?: boolean; log?: { maxSize: number; maxFile: number } } = {}) {
  const ctx = t.ctx;
  const id = crypto.randomBytes(32).toString("hex");
  ids.push(id);
  const paths = containerPaths(ctx.root, id);
  for (const d of [paths.rootfs, paths.upper, paths.work]) fs.mkdirSync(d, { recursive: true });
  const rec = testRecord({
    id,
    name,
    args,
    hostname: "box",
    ...(opts.autoRemove ? { autoRemove: true } : {}),
    ...(opts.restart ? { restartPolicy: opts.restart } : {}),
  });
  saveContainer(ctx.root, rec);
  const cg = detectCgroups(ctx.cgroupRoot).create(id, {});
  const plan = testPlan({
    rootfs: overlayMount({ lowers: ["busybox"], upper: paths.upper, work: paths.work, target: paths.rootfs, root: ctx.root, emptyLower: "empty" }),
    rootfsPath: paths.rootfs,
    cgroupProcs: cg.procsFiles,
    args,
  });
  const d = await startDetached(ctx, {
    id,
    dir: paths.dir,
    plan,
    log: { path: containerFiles(ctx.root, id).log, maxSize: opts.log?.maxSize ?? 10 << 20, maxFile: opts.log?.maxFile ?? 3 },
    restart: opts.restart ?? { name: "no", maximumRetryCount: 0 },
    oomFiles: [],
    cleanupArgv: [BINARY, "container", "cleanup", id],
  });
  monitors.push(d.monitorPid);
  return { id, ...d };
}

const cgroupGone = (id: string) => !detectCgroups("/sys/fs/cgroup").list().includes(id);

describe("verbs on monitored containers", () => {
  test("logs -f follows the monitor's json-file (both streams, rotation) to the end; cleanup then frees the cgroup", async () => {
    const ctx = t.ctx;
    const { id } = await detached("talker", ["sh", "-c", "echo start; echo oops >&2; i=0; while [ $i -lt 40 ]; do echo tick $i; i=$((i+1)); sleep 0.02; done; exit 4"], {
      log: { maxSize: 600, maxFile: 5 },
    });
    expect(findLive(ctx, "talker").state.Status).toBe("running");
    const seen: LogEntry[] = [];
    await followLogs(containerPaths(ctx.root, id).dir, id, {
      sel: {},
      emit: (e) => seen.push(e),
      running: () => findLive(ctx, id).state.Running,
      sleep: ctx.sleep,
      pollMs: 10,
    });
    expect(seen.filter((e) => e.stream === "stderr").map((e) => e.log)).toEqual(["oops\n"]);
    const out = seen.filter((e) => e.stream === "stdout").map((e) => e.log);
    expect(out).toEqual(["start\n", ...Array.from({ length: 40 }, (_, i) => `tick ${i}\n`)]);
    // It rotated, and the files read back in order too (as far as max-file kept them).
    expect(fs.readdirSync(containerPaths(ctx.root, id).dir).filter((f) => f.includes("-json.log.")).length).toBeGreaterThan(0);
    const back = readLogs(containerPaths(ctx.root, id).dir, id).map((e) => e.log);
    expect(out.slice(-back.filter((l) => l !== "oops\n").length)).toEqual(back.filter((l) => l !== "oops\n"));
    expect(await waitContainer(ctx, findLive(ctx, id))).toBe(4);
    await until("cleanup", () => cgroupGone(id));
    expect(findLive(ctx, "talker").state).toMatchObject({ Status: "exited", ExitCode: 4, stale: false });
    await removeContainer(ctx, findLive(ctx, "talker"));
  });

  test("stop -t 1 beats restart=always: the marker keeps it down; SIGKILL after 1 s; inspect and wait agree", async () => {
    const ctx = t.ctx;
    const { id } = await detached("stubborn", ["sleep", "1000"], { restart: { name: "always", maximumRetryCount: 0 } });
    const t0 = performance.now();
    await stopContainer(ctx, findLive(ctx, "stubborn"), { timeoutS: 1 });
    const took = performance.now() - t0;
    expect(took).toBeGreaterThan(900);
    expect(took).toBeLessThan(3000);
    await Bun.sleep(300); // a restart would show by now
    const s = findLive(ctx, "stubborn").state;
    expect([s.Status, s.ExitCode, s.RestartCount, s.stale]).toEqual(["exited", 137, 0, false]);
    expect(await waitContainer(ctx, findLive(ctx, id))).toBe(137);
    await until("cleanup", () => cgroupGone(id));
    await removeContainer(ctx, findLive(ctx, id));
  });

  test("on-failure:3: wait waits through the restarts; inspect shows RestartCount 3", async () => {
    const ctx = t.ctx;
    const { id } = await detached("flaky", ["sh", "-c", "exit 3"], { restart: { name: "on-failure", maximumRetryCount: 3 } });
    expect(await waitContainer(ctx, findLive(ctx, id))).toBe(3);
    const out = inspectContainer(ctx, findLive(ctx, id)) as { RestartCount: number; State: { Status: string; ExitCode: number } };
    expect([out.RestartCount, out.State.Status, out.State.ExitCode]).toEqual([3, "exited", 3]);
    await until("cleanup", () => cgroupGone(id));
    await removeContainer(ctx, findLive(ctx, id));
  });

  test("cp reads through /proc/<pid>/root; rm -f kills the container and its monitor, leaves nothing", async () => {
    const ctx = t.ctx;
    const { id, monitorPid } = await detached("victim", ["sleep", "1000"]);
    const dst = path.join(t.dir, "motd");
    await copyFromContainer(ctx, findLive(ctx, "victim"), "/etc/motd", dst);
    expect(fs.readFileSync(dst, "utf8")).toBe("inside\n");
    await removeContainer(ctx, findLive(ctx, "victim"), { force: true });
    expect(fs.existsSync(containerPaths(ctx.root, id).dir)).toBe(false);
    expect(cgroupGone(id)).toBe(true);
    await until("monitor gone", () => !fs.existsSync(`/proc/${monitorPid}`) || fs.readFileSync(`/proc/${monitorPid}/stat`, "utf8").includes(") Z"));
  });

  test("SIGKILL of the monitor: exited 137 (stale), rm -f cleans; a --rm container's wait still gets its code", async () => {
    const ctx = t.ctx;
    const { id, monitorPid } = await detached("orphan", ["sleep", "1000"]);
    process.kill(monitorPid, "SIGKILL");
    await until("stale", () => findLive(ctx, id).state.stale);
    expect(findLive(ctx, id).state).toMatchObject({ Status: "exited", ExitCode: 137 });
    await removeContainer(ctx, findLive(ctx, id), { force: true });
    expect(cgroupGone(id)).toBe(true);

    const rm = await detached("ephemeral", ["sh", "-c", "sleep 0.3; exit 6"], { autoRemove: true });
    expect(await waitContainer(ctx, findLive(ctx, rm.id))).toBe(6);
    await until("auto-removed", () => !fs.existsSync(containerPaths(ctx.root, rm.id).dir));
    expect(cgroupGone(rm.id)).toBe(true);
    expect(listLive(ctx).map((c) => c.record.name)).toEqual([]);
  });
});
