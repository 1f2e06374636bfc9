// The leak check's process part: an engine process is found by its name or executable when its
// command line does not say "tinydock", and a container's process by its cgroup; the e2e teardown
// finds, by pid, whatever still holds a test's directory and kills only that.
import { afterEach, describe, expect, test } from "bun:test";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { releaseDir } from "../helpers/e2e.ts";
import { findLeaks, processesHolding } from "../helpers/leakcheck.ts";

const isRoot = process.getuid?.() === 0;
const started: Bun.Subprocess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const p of started.splice(0)) p.kill(9);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "td-lc-probe-")));
  dirs.push(d);
  return d;
}

function sleeper(opts: { argv0?: string; exe?: string; cwd?: string; env?: Record<string, string> } = {}): Bun.Subprocess {
  const p = Bun.spawn([opts.exe ?? "sleep", "60"], { argv0: opts.argv0, cwd: opts.cwd, env: opts.env ?? { PATH: "/usr/bin:/bin" }, stdio: ["ignore", "ignore", "ignore"] });
  started.push(p);
  return p;
}

/** The leak lines of one pid (the lines say "process: PID …"). */
const linesOf = (pid: number) => findLeaks().filter((l) => l.startsWith(`process: ${pid} `));

describe("process leaks", () => {
  test("a process named tinydock-… whose command line says nothing of it is found (a renamed monitor or pause)", async () => {
    const dir = tempDir();
    const exe = path.join(dir, "tinydock-probe");
    fs.copyFileSync(fs.realpathSync("/bin/sleep"), exe);
    fs.chmodSync(exe, 0o755);
    const p = sleeper({ exe, argv0: "zz-probe" });
    await Bun.sleep(50);
    expect(fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8")).not.toContain("tinydock");
    expect(linesOf(p.pid)).toEqual([`process: ${p.pid} zz-probe 60 (name tinydock-probe)`]);
  });

  test.skipIf(!isRoot)("a container's process (its command line is the image's) is found by its tinydock cgroup", async () => {
    // cgroup v2 at /sys/fs/cgroup, else v1's pids hierarchy.
    const base = fs.existsSync("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids";
    const cg = path.join(base, `tinydock-lcprobe-${crypto.randomBytes(4).toString("hex")}`);
    fs.mkdirSync(cg);
    try {
      const p = sleeper();
      fs.writeFileSync(path.join(cg, "cgroup.procs"), String(p.pid));
      const lines = linesOf(p.pid);
      expect(lines.length).toBe(1);
      expect(lines[0]).toStartWith(`process: ${p.pid} sleep 60 (cgroup /${path.basename(cg)}`);
      p.kill(9);
      await p.exited;
    } finally {
      fs.rmdirSync(cg);
    }
  });

  test("processesHolding: a process whose cwd, command line or TINYDOCK_ROOT is in the directory; not others", async () => {
    const dir = tempDir();
    const other = tempDir();
    const byCwd = sleeper({ cwd: dir });
    const byEnv = sleeper({ env: { PATH: "/usr/bin:/bin", TINYDOCK_ROOT: path.join(dir, "root") } });
    fs.writeFileSync(path.join(dir, "netns-file"), "");
    const byArgs = Bun.spawn(["tail", "-f", path.join(dir, "netns-file")], { stdio: ["ignore", "ignore", "ignore"] });
    started.push(byArgs);
    const elsewhere = sleeper({ cwd: other, env: { PATH: "/usr/bin:/bin", TINYDOCK_ROOT: `${dir}-not` } });
    await Bun.sleep(50);
    const pids = processesHolding(dir).map((p) => p.pid);
    expect(pids).toContain(byCwd.pid);
    expect(pids).toContain(byEnv.pid);
    expect(pids).toContain(byArgs.pid);
    expect(pids).not.toContain(elsewhere.pid);
    expect(pids).not.toContain(process.pid);

    const killed = await releaseDir(dir);
    expect(killed.length).toBeGreaterThanOrEqual(3);
    for (const p of [byCwd, byEnv, byArgs]) expect(await p.exited).not.toBe(0);
    expect(elsewhere.killed || elsewhere.exitCode !== null).toBe(false);
    expect(processesHolding(dir)).toEqual([]);
  });
});
