// The recorded-process helpers: a /proc directory or pidfd opened first, its start time checked
// after, and nothing done through the pid once it names another process.
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { inCgroupDirs } from "../../../src/lifecycle/top.ts";
import { liveState, type Liveness } from "../../../src/lifecycle/state.ts";
import { linuxSys } from "../../../src/sys/linux.ts";
import { fakeSys } from "../../../src/sys/fake.ts";
import { openProcess, processStartTime, signalProcess, withProcess } from "../../../src/sys/procfs.ts";

const spawned: Bun.Subprocess[] = [];
afterEach(() => {
  for (const p of spawned.splice(0)) p.kill("SIGKILL");
});

function sleeper(): Bun.Subprocess {
  const p = Bun.spawn(["sleep", "100"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  spawned.push(p);
  return p;
}

describe("openProcess / withProcess", () => {
  test("the recorded process: its /proc directory through the fd", () => {
    const start = processStartTime(process.pid);
    expect(withProcess(process.pid, start, (dir) => fs.readFileSync(`${dir}/stat`, "utf8").split(" ")[0])).toBe(String(process.pid));
  });
  test("another start time, no process, no pid: nothing opened", () => {
    const start = processStartTime(process.pid)!;
    expect(openProcess(process.pid, start + 1)).toBeUndefined();
    expect(openProcess(2 ** 30, undefined)).toBeUndefined();
    expect(openProcess(0, undefined)).toBeUndefined();
    expect(withProcess(process.pid, start - 1, () => "read")).toBeUndefined();
  });
  test("the fd stays with its process: after that one ends, nothing below it opens", async () => {
    const p = sleeper();
    const fd = openProcess(p.pid, processStartTime(p.pid))!;
    expect(fd).toBeNumber();
    try {
      expect(fs.existsSync(`/proc/self/fd/${fd}/ns/net`)).toBe(true);
      p.kill("SIGKILL");
      await p.exited;
      expect(() => fs.readFileSync(`/proc/self/fd/${fd}/stat`)).toThrow();
      expect(fs.existsSync(`/proc/self/fd/${fd}/ns/net`)).toBe(false);
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe("signalProcess", () => {
  test("a wrong start time: no signal is sent", async () => {
    const p = sleeper();
    const start = processStartTime(p.pid)!;
    expect(signalProcess(linuxSys(), p.pid, start + 7, 9)).toBe(false);
    await Bun.sleep(50);
    expect(p.exitCode).toBeNull();
    expect(p.signalCode).toBeNull();
  });
  test("the recorded process is signalled through its pidfd", async () => {
    const p = sleeper();
    expect(signalProcess(linuxSys(), p.pid, processStartTime(p.pid), 15)).toBe(true);
    await p.exited;
    expect(p.signalCode).toBe("SIGTERM");
    // Reaped: its pid names nothing now, or a process of another start time.
    expect(signalProcess(linuxSys(), p.pid, 1, 15)).toBe(false);
  });
  test("no such process, no pid: false, nothing asked of the kernel for a pid ≤ 0", () => {
    const sys = fakeSys();
    expect(signalProcess(sys, 4242, 1, 9)).toBe(false);
    expect(signalProcess(sys, 0, undefined, 9)).toBe(false);
    expect(sys.calls.map((c) => c.op)).toEqual(["pidfdOpen"]);
  });
});

describe("inCgroupDirs", () => {
  const dirs = ["/sys/fs/cgroup/memory/tinydock/abc", "/sys/fs/cgroup/unified/tinydock/abc"];
  test("in the container's cgroup or below it", () => {
    expect(inCgroupDirs("12:memory:/tinydock/abc\n0::/\n", dirs)).toBe(true);
    expect(inCgroupDirs("0::/tinydock/abc/sub/more\n", dirs)).toBe(true);
  });
  test("a host process, a sibling, a prefix of the name: not the container's", () => {
    expect(inCgroupDirs("12:memory:/user.slice/session-1.scope\n0::/user.slice\n", dirs)).toBe(false);
    expect(inCgroupDirs("12:memory:/tinydock/ab\n", dirs)).toBe(false);
    expect(inCgroupDirs("12:memory:/tinydock\n0::/\n", dirs)).toBe(false);
    expect(inCgroupDirs("", dirs)).toBe(false);
  });
});

describe("liveState with the recorded process gone", () => {
  const facts = (f: Partial<Liveness> = {}): Liveness => ({ supervisorAlive: true, frozen: false, removing: false, locked: false, ...f });
  const run = { status: "running" as const, pid: 77, pidStartTime: 5, monitorPid: 76, monitorStartTime: 4 };
  test("its supervisor alive: restarting, pid 0 (nothing acts on the pid; stop and rm -f go through the supervisor)", () => {
    const s = liveState({ state: { status: "running", pid: 77, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" } }, run, facts({ initGone: true }));
    expect([s.Status, s.Running, s.Restarting, s.Pid, !!s.stale, s.pidStartTime]).toEqual(["restarting", true, true, 0, false, undefined]);
  });
  test("its supervisor gone too: exited (stale), pid 0", () => {
    const s = liveState({ state: { status: "running", pid: 77, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" } }, run, facts({ initGone: true, supervisorAlive: false }));
    expect([s.Status, s.Running, s.Pid, s.stale]).toEqual(["exited", false, 0, true]);
  });
  test("still there: running", () => {
    const s = liveState({ state: { status: "running", pid: 77, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" } }, run, facts({ initGone: false }));
    expect([s.Status, s.Running, s.Pid]).toEqual(["running", true, 77]);
  });
});
