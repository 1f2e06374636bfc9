// The monitor (src/sys/monitor.c, build/monitor) on the real kernel, driven through
// src/lifecycle/monitor.ts with hand-written plans over a busybox rootfs: start report, json-file
// logs and rotation, run.json, restart policy and back-off, typed start errors, exec. Root.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { createContext } from "../../../src/context.ts";
import { ExecError } from "../../../src/runtime/launch.ts";
import { execInContainer, readRunState, spawnInContainer, startDetached, withRestartError, type DetachedRequest } from "../../../src/lifecycle/monitor.ts";
import { encodePlan } from "../../../src/runtime/encode.ts";
import { MS } from "../../../src/sys/sys.ts";
import { mountsUnder, overlayMount } from "../../../src/rootfs/mount.ts";
import type { RunPlan } from "../../../src/runtime/plan.ts";
import { defaultMounts } from "../../../src/runtime/spec.ts";
import { testPlan } from "../../helpers/plan.ts";
import { linuxSys } from "../../../src/sys/linux.ts";
import { busyboxLowerRoot } from "../../helpers/busybox.ts";
import { until } from "../../helpers/e2e.ts";

let dir: string;
let n = 0;
const ctx = createContext({ sys: linuxSys(), env: { TINYDOCK_ROOT: "/tmp/tinydock-monitor-unused", TINYDOCK_CONFIG: "/nonexistent" } });
const monitors: number[] = [];

function plan(over: Partial<RunPlan>): { plan: RunPlan; cdir: string } {
  const cdir = path.join(dir, "c", String(++n));
  for (const d of ["rootfs", "upper", "work"]) fs.mkdirSync(path.join(cdir, d), { recursive: true });
  const rootfsPath = path.join(cdir, "rootfs");
  return {
    cdir,
    plan: testPlan({
      rootfs: overlayMount({ lowers: ["busybox"], upper: path.join(cdir, "upper"), work: path.join(cdir, "work"), target: rootfsPath, root: dir, emptyLower: "empty" }),
      rootfsPath,
      ...over,
    }),
  };
}

function request(over: Partial<RunPlan>, extra: Partial<DetachedRequest> = {}): DetachedRequest {
  const { plan: p, cdir } = plan(over);
  return {
    id: `c${n}`,
    dir: cdir,
    plan: p,
    log: { path: path.join(cdir, "json.log"), maxSize: 10 << 20, maxFile: 3 },
    restart: { name: "no", maximumRetryCount: 0 },
    oomFiles: [],
    cleanupArgv: [],
    ...extra,
  };
}

const exited = (d: string) => until(`run.json exited in ${d}`, () => (readRunState(d)?.status === "exited" ? readRunState(d) : undefined));
const logLines = (file: string) => fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { log: string; stream: string; time: string });

beforeAll(() => {
  dir = fs.mkdtempSync("/tmp/tinydock-monitor-");
  busyboxLowerRoot(dir, ["sh", "cat", "echo", "hostname", "sleep", "true", "seq", "head", "id"]);
});

afterEach(() => {
  for (const pid of monitors.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
});

afterAll(async () => {
  await Bun.sleep(100);
  expect(mountsUnder(dir)).toEqual([]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("monitor", () => {
  test("logs both streams in json-file format and records the exit in run.json", async () => {
    const req = request({ args: ["sh", "-c", "echo out; echo err >&2; printf 'no newline <&>'; exit 3"] });
    const d = await startDetached(ctx, req);
    monitors.push(d.monitorPid);
    expect(d.pid).toBeGreaterThan(0);
    const s = await exited(req.dir);
    expect(s).toMatchObject({ status: "exited", exitCode: 3, oomKilled: false, restartCount: 0, pid: 0, monitorPid: d.monitorPid });
    expect(s.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const lines = logLines(req.log.path);
    expect(lines.map((l) => [l.stream, l.log]).sort()).toEqual([["stderr", "err\n"], ["stdout", "no newline <&>"], ["stdout", "out\n"]]);
    expect(fs.readFileSync(req.log.path, "utf8")).toContain("\\u003c\\u0026\\u003e");
    const t = Date.parse(lines[0]!.time);
    expect(Math.abs(t - Date.now())).toBeLessThan(60_000);
  });

  test("a long line is logged in 16 KiB parts; invalid UTF-8 becomes U+FFFD; control characters escaped", async () => {
    const req = request({ args: ["sh", "-c", "head -c 20000 /dev/zero | tr '\\0' a; echo; printf 'bad \\377 byte \\001 é\\n'"] });
    const d = await startDetached(ctx, req);
    monitors.push(d.monitorPid);
    await exited(req.dir);
    const lines = logLines(req.log.path);
    expect(lines.map((l) => l.log.length)).toEqual([16384, 20000 - 16384 + 1, "bad \ufffd byte \u0001 é\n".length]);
    expect(lines[2]!.log).toBe("bad \ufffd byte \u0001 é\n");
    expect(fs.readFileSync(req.log.path, "utf8")).toContain('"log":"bad \\ufffd byte \\u0001 é\\n"');
  });

  test("OOMKilled: the oom_kill counters of the files on its argv, compared with their values at start", async () => {
    const v2 = path.join(dir, `memory.events-${n}`);
    const v1 = path.join(dir, `memory.oom_control-${n}`);
    fs.writeFileSync(v2, "low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n");
    fs.writeFileSync(v1, "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n");
    const quiet = request({ args: ["true"] }, { oomFiles: [v2, v1] });
    monitors.push((await startDetached(ctx, quiet)).monitorPid);
    expect(await exited(quiet.dir)).toMatchObject({ oomKilled: false, exitCode: 0 });
    const req = request({ args: ["sleep", "100"] }, { oomFiles: [v2, v1] });
    const d = await startDetached(ctx, req);
    monitors.push(d.monitorPid);
    fs.writeFileSync(v1, "oom_kill_disable 1\nunder_oom 1\noom_kill 6\n");
    process.kill(d.pid, "SIGKILL");
    expect(await exited(req.dir)).toMatchObject({ oomKilled: true, exitCode: 137 });
  });

  test("rotates the log at max-size, keeping max-file files", async () => {
    const req = request({ args: ["sh", "-c", "seq 1 2000"] }, {});
    req.log = { ...req.log, maxSize: 4096, maxFile: 2 };
    const d = await startDetached(ctx, req);
    monitors.push(d.monitorPid);
    await exited(req.dir);
    const files = fs.readdirSync(req.dir).filter((f) => f.startsWith("json.log")).sort();
    expect(files).toEqual(["json.log", "json.log.1"]);
    for (const f of files) expect(fs.statSync(path.join(req.dir, f)).size).toBeLessThanOrEqual(4096);
    const last = logLines(req.log.path).at(-1)!;
    expect(last.log).toBe("2000\n");
  });

  test("on-failure:3 restarts three times with back-off, then records exited 3", async () => {
    const req = request({ args: ["sh", "-c", "echo run; exit 3"] }, { restart: { name: "on-failure", maximumRetryCount: 3 } });
    const t0 = Date.now();
    const d = await startDetached(ctx, req);
    monitors.push(d.monitorPid);
    const s = await exited(req.dir);
    expect(s).toMatchObject({ exitCode: 3, restartCount: 3 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100 + 200 + 400);
    expect(logLines(req.log.path).length).toBe(4);
  });

  test("a restart the init cannot complete is recorded as (stage, errno, index) and named by operation from the plan", async () => {
    const gone = path.join(dir, `gone-${n + 1}`);
    fs.mkdirSync(gone);
    const bind = { source: gone, target: "/data", fstype: null, flags: MS.BIND | MS.REC, data: null };
    const req = request({ args: ["sh", "-c", "sleep 0.3; exit 1"], mounts: [...defaultMounts({ privileged: false, readonlyRoot: false }), bind] }, { restart: { name: "on-failure", maximumRetryCount: 1 } });
    fs.writeFileSync(path.join(req.dir, "plan.bin"), encodePlan(req.plan)); // as run.ts saves it
    const d = await startDetached(ctx, req);
    monitors.push(d.monitorPid);
    fs.rmdirSync(gone); // the restart's bind mount of it fails
    const s = await exited(req.dir);
    const index = req.plan.mounts.length - 1;
    expect(s).toMatchObject({ exitCode: 1, restartCount: 1, initFailure: { stage: 10, errno: 2, index, detail: "" } });
    expect(withRestartError(req.dir, s)!.error).toBe(`mount ${gone} on /data (MS_BIND|MS_REC): ENOENT`);
  });

  test("an unknown command is ExecError 127, as launch() raises it", async () => {
    const req = request({ args: ["no-such-command"] });
    const err = await startDetached(ctx, req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).exitCode).toBe(127);
  });

  test("SIGKILL of the monitor kills the container", async () => {
    const req = request({ args: ["sleep", "100"] });
    const d = await startDetached(ctx, req);
    expect(readRunState(req.dir)?.status).toBe("running");
    process.kill(d.monitorPid, "SIGKILL");
    await until("container gone", () => !fs.existsSync(`/proc/${d.pid}`) || fs.readFileSync(`/proc/${d.pid}/stat`, "utf8").includes(") Z"));
  });

  test("exec joins the namespaces: hostname, PID 1, exit codes", async () => {
    const req = request({ args: ["sleep", "100"] });
    const d = await startDetached(ctx, req);
    monitors.push(d.monitorPid);
    const { plan: p } = plan({});
    const out = path.join(dir, `exec-out-${n}`);
    const fd = fs.openSync(out, "w+");
    try {
      const run = async (args: string[]) => {
        return (await execInContainer(ctx, { targetPid: d.pid, plan: { ...p, args }, stdio: [-1, fd, fd], tty: false })).exitCode;
      };
      expect(await run(["sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$"])).toBe(0);
      expect(await run(["sh", "-c", "exit 42"])).toBe(42);
      const err = await execInContainer(ctx, { targetPid: d.pid, plan: { ...p, args: ["nope"] }, stdio: [-1, fd, fd], tty: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExecError);
      expect((err as ExecError).exitCode).toBe(127);
    } finally {
      fs.closeSync(fd);
    }
    const text = fs.readFileSync(out, "utf8").split("\n");
    expect(text[0]).toBe("box");
    expect(text[1]).toBe("sleep 100 ");
    expect(Number(text[2])).toBeGreaterThan(1);
  });
});

describe("monitor exec: the target is checked", () => {
  test("a start time that is not the process's is refused (a recycled pid), as a typed error", async () => {
    const req = request({ args: ["sleep", "100"] });
    const d = await startDetached(ctx, req);
    monitors.push(d.monitorPid);
    const { plan: p } = plan({ args: ["true"] });
    const err = await execInContainer(ctx, { targetPid: d.pid, targetStartTime: 1, plan: p, stdio: [-1, -1, -1], tty: false }).catch((e: unknown) => e);
    expect((err as Error).message).toContain("its PID 1 has exited");
    expect((err as Error).message).toContain("ESRCH");
    const stat = fs.readFileSync(`/proc/${d.pid}/stat`, "utf8");
    const start = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    const ok = await spawnInContainer(ctx, { targetPid: d.pid, targetStartTime: start, plan: p, stdio: [-1, -1, -1], tty: false });
    expect(ok.pid).toBeGreaterThan(0);
    expect((await ok.exited).exitCode).toBe(0);
  });
});

describe("monitor signals", () => {
  test("SIGTERM to the monitor is passed to the container: recorded as exited 143, not restarted", async () => {
    // With --init's reaper as PID 1: a PID 1 without a handler never sees SIGTERM (the kernel's rule).
    const req = request({ args: ["sleep", "100"], init: true }, { restart: { name: "always", maximumRetryCount: 0 } });
    const d = await startDetached(ctx, req);
    monitors.push(d.monitorPid);
    await Bun.sleep(50);
    process.kill(d.monitorPid, "SIGTERM");
    const s = await exited(req.dir);
    expect(s).toMatchObject({ exitCode: 143, restartCount: 0 });
  });
});
