// A teardown kills what is in the container's cgroup at the time of the signal, and nothing else.
// Between reading cgroup.procs and the kill, a listed pid can end and be handed to a host process;
// for the cgroup that is a pid that leaves it. Staged here with a host process of the test's own
// (it traps every signal it can and logs it) that is listed, then leaves the cgroup right after
// the engine's n-th read of cgroup.procs: on fake cgroupfs roots (the file rewritten, as the kernel
// would) and on the real kernel (the process moved to the root cgroup), v1's freezer and v2's
// cgroup.freeze path. Then the end to end cases: rm -f of a fork bomb held by --pids-limit and of a
// paused container leave no process and no cgroup, on v1 and on an emulated v2 host.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createContext } from "../../src/context.ts";
import { pidsBelow } from "../../src/runtime/cgroups/cgroupfs.ts";
import { detectCgroups, type Cgroup } from "../../src/runtime/cgroups/index.ts";
import { killCgroup } from "../../src/runtime/cgroups/kill.ts";
import { linuxSys } from "../../src/sys/linux.ts";
import { recordCases } from "../helpers/adversarial.ts";
import { BINARY, cliEnv, type CliResult } from "../helpers/cli.ts";
import { startE2e, until, type E2e } from "../helpers/e2e.ts";
import { fakeV1, fakeV1Cgroup, fakeV2, fakeV2Cgroup, removedAfterEach } from "../unit/runtime/cgroups/fake.ts";

const ID = "0123456789ab";
const keep = removedAfterEach();
const spawned: Bun.Subprocess[] = [];
const isRoot = process.getuid?.() === 0;
const ROOT = createContext({ env: { TINYDOCK_CONFIG: "/nonexistent/config.json" } }).cgroupRoot;
let logDir = "";
let hosts = 0;

beforeAll(() => {
  logDir = fs.mkdtempSync(path.join(os.tmpdir(), "td-cgkill-"));
});
afterEach(() => {
  for (const p of spawned.splice(0)) p.kill("SIGKILL");
});
afterAll(() => fs.rmSync(logDir, { recursive: true, force: true }));

function sleeper(): Bun.Subprocess {
  const p = Bun.spawn(["sleep", "60"], { stdout: "ignore", stderr: "ignore" });
  spawned.push(p);
  return p;
}

/** A host process that logs every catchable signal; SIGKILL or SIGSTOP show in its state. */
async function hostProcess(): Promise<{ p: Bun.Subprocess; log: string }> {
  const log = path.join(logDir, `sig-${++hosts}`);
  const traps = "HUP INT QUIT USR1 USR2 PIPE ALRM TERM CONT TSTP TTIN TTOU URG WINCH";
  const script = `for s in ${traps}; do trap "echo $s >> '${log}'" $s; done; echo ready >> '${log}'; while :; do sleep 0.05; done`;
  const p = Bun.spawn(["sh", "-c", script], { stdout: "ignore", stderr: "ignore" });
  spawned.push(p);
  await until("the host process traps signals", () => fs.existsSync(log));
  return { p, log };
}

function untouched(h: { p: Bun.Subprocess; log: string }): { alive: boolean; signals: string } {
  const stat = fs.readFileSync(`/proc/${h.p.pid}/stat`, "utf8");
  const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]!;
  return { alive: h.p.exitCode === null && h.p.signalCode === null && (state === "S" || state === "R"), signals: fs.readFileSync(h.log, "utf8").replace("ready\n", "") };
}

/**
 * Runs fn while every read of `watched` is counted: right after the n-th that lists `pid`, leave(pid)
 * runs (the pid leaves the cgroup), whatever the code under test does next with what it read.
 */
function afterNthRead<T>(watched: string, pid: number, n: number, leave: () => void, fn: () => T): T {
  const real = fs.readFileSync;
  let seen = 0;
  (fs as { readFileSync: unknown }).readFileSync = function (this: unknown, ...args: unknown[]) {
    const out = (real as (...a: unknown[]) => unknown).apply(this, args);
    if (String(args[0]) === watched && String(out).split("\n").includes(String(pid)) && ++seen === n) leave();
    return out;
  };
  try {
    return fn();
  } finally {
    fs.readFileSync = real;
  }
}

const without = (file: string, pid: number) =>
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "" && l !== String(pid)).map((l) => `${l}\n`).join(""));

describe("fake cgroupfs: a listed pid that leaves between the read and the kill is not signalled", () => {
  for (const version of [1, 2] as const) {
    for (const n of [1, 2]) {
      test(`v${version}${version === 2 ? " without cgroup.kill" : ""}, leaving after read ${n}`, async () => {
        const fake = keep(version === 1 ? fakeV1({ hierarchies: ["freezer", "pids"], unified: false }) : fakeV2());
        if (version === 1) fakeV1Cgroup(fake.root, ID);
        else fakeV2Cgroup(fake.root, ID);
        const dirs = version === 1 ? ["freezer", "pids"].map((h) => path.join(fake.root, h, "tinydock", ID)) : [path.join(fake.root, "tinydock", ID)];
        const inside = sleeper();
        const host = await hostProcess();
        for (const d of dirs) fs.writeFileSync(path.join(d, "cgroup.procs"), `${inside.pid}\n${host.p.pid}\n`);
        const manager = detectCgroups(fake.root, { settleMs: 300, sys: linuxSys() });
        const cg = manager.open(ID);
        afterNthRead(path.join(dirs[0]!, "cgroup.procs"), host.p.pid, n, () => dirs.forEach((d) => without(path.join(d, "cgroup.procs"), host.p.pid)), () => cg.destroy());
        await inside.exited;
        expect(inside.signalCode).toBe("SIGKILL");
        expect(untouched(host)).toEqual({ alive: true, signals: "" });
        expect(manager.list()).toEqual([]);
        recordCases(`cgroup teardown: fake v${version} pid leaving after read ${n}`, 1);
      });
    }
  }
});

describe.skipIf(!isRoot)("real kernel: a process moved out of the cgroup between the read and the kill is not signalled", () => {
  const made: Cgroup[] = [];
  afterEach(() => {
    for (const cg of made.splice(0)) cg.destroy();
  });
  const unmounts: string[] = [];
  afterAll(() => {
    for (const d of unmounts.splice(0)) {
      linuxSys().umount(d, 2);
      fs.rmdirSync(d);
    }
  });

  /** v1: the host's hierarchies; v2: a fresh cgroup2 mount (the host's unified hierarchy here). */
  function managerFor(version: 1 | 2) {
    if (version === 1) return detectCgroups(ROOT, { sys: linuxSys() });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-cgkill-v2-"));
    linuxSys().mount("none", dir, "cgroup2", 0, null);
    unmounts.push(dir);
    return detectCgroups(dir, { sys: linuxSys() });
  }

  for (const version of [1, 2] as const) {
    test(`v${version}: freeze, read, (host process moved out), pidfds, signal, thaw`, async () => {
      const m = managerFor(version);
      if (m.version !== version) return; // not this kind of host
      const id = `test-cgkill-${process.pid}-${version}`;
      const cg = m.create(id, {});
      made.push(cg);
      const inside = sleeper();
      const host = await hostProcess();
      for (const f of cg.procsFiles) {
        fs.writeFileSync(f, String(inside.pid));
        fs.writeFileSync(f, String(host.p.pid));
      }
      expect(cg.pids()).toEqual([inside.pid, host.p.pid].sort((a, b) => a - b));
      // Moved to the hierarchy's root cgroup: what a pid handed to a host process looks like.
      const moveOut = () => {
        for (const f of cg.procsFiles) fs.writeFileSync(path.join(path.dirname(f), "..", "..", "cgroup.procs"), String(host.p.pid));
      };
      const dir = path.dirname(cg.procsFiles.find((f) => f.includes("/freezer/")) ?? cg.procsFiles[0]!);
      const freezer = version === 1 ? { version, file: path.join(dir, "freezer.state"), dir } : { version, file: path.join(dir, "cgroup.freeze"), dir };
      let reads = 0;
      // No cgroup.kill named: the freeze path, on the kernel's freezer. Read 1 asks whether anything
      // is inside; read 2 is the one the signals follow.
      const pids = () => {
        const out = cg.pids();
        if (++reads === 2) {
          expect(fs.readFileSync(freezer.file, "utf8").trim()).toBe(version === 1 ? "FROZEN" : "1");
          moveOut();
        }
        return out;
      };
      expect(killCgroup({ pids, freezer }, linuxSys(), 3_000)).toEqual([]);
      await inside.exited;
      expect(inside.signalCode).toBe("SIGKILL");
      expect(untouched(host)).toEqual({ alive: true, signals: "" });
      expect(fs.readFileSync(freezer.file, "utf8").trim()).toBe(version === 1 ? "THAWED" : "0");
      cg.destroy();
      expect(m.list()).not.toContain(id);
      recordCases(`cgroup teardown: real v${version} process moved out before the kill`, 1);
    });
  }
});

describe.skipIf(!isRoot)("rm -f leaves nothing: a fork bomb held by --pids-limit, a paused container (v1 and emulated v2)", () => {
  let e: E2e | undefined;
  beforeAll(async () => {
    e = await startE2e({ prefix: "td-cgkill-e2e-" });
  }, 300_000);
  afterAll(async () => {
    await e?.stop();
  });

  /** tinydock as on a cgroup v2 host: its own mount namespace, cgroup2 on /sys/fs/cgroup. */
  function T(v2: boolean, args: string[]): CliResult {
    const argv = v2 ? ["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount -t cgroup2 none /sys/fs/cgroup && exec "$0" "$@"', BINARY, ...args] : [BINARY, ...args];
    const r = Bun.spawnSync(e!.inNs(argv), { env: cliEnv(e!.env), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }
  const ok = (v2: boolean, args: string[]) => {
    const r = T(v2, args);
    if (r.code !== 0) throw new Error(`tinydock ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim();
  };
  /** The container's cgroup directories: v1 every hierarchy's tinydock/<id>, v2 the unified one's. */
  const cgroupDirs = (v2: boolean, id: string) =>
    v2 ? [path.join(ROOT, "unified", "tinydock", id)] : fs.readdirSync(ROOT).filter((h) => h !== "unified").map((h) => path.join(ROOT, h, "tinydock", id));
  const procsIn = (dirs: string[]) => [...new Set(dirs.filter((d) => fs.existsSync(d)).flatMap((d) => pidsBelow(d)))];

  for (const v2 of [false, true]) {
    const where = v2 ? "v2" : "v1";
    // The hybrid host's v2 hierarchy has no pids controller: there, 8 loops that fork without end
    // (pids come and go all through the teardown) stand in for the bomb.
    const bomb = v2 ? ["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do (while :; do sh -c :; done) & done; wait"] : ["--pids-limit", "40", "busybox", "sh", "-c", "b() { b & b & wait; }; b"];
    test(`${where}: rm -f of ${v2 ? "a container forking without end" : "a fork bomb held by --pids-limit 40"}`, async () => {
      const id = ok(v2, ["run", "-d", ...(v2 ? ["busybox", ...bomb] : bomb)]);
      const dirs = cgroupDirs(v2, id);
      await until("the bomb is at work", () => procsIn(dirs).length >= (v2 ? 10 : 30), 30_000);
      ok(v2, ["rm", "-f", id]);
      expect(procsIn(dirs)).toEqual([]);
      expect(dirs.filter((d) => fs.existsSync(d))).toEqual([]);
      recordCases(`cgroup teardown: rm -f fork bomb (${where})`, 1);
    }, 120_000);

    test(`${where}: rm -f of a paused container`, async () => {
      const id = ok(v2, ["run", "-d", "busybox", "sh", "-c", "sleep 300 & sleep 300 & wait"]);
      const dirs = cgroupDirs(v2, id);
      await until("three processes inside", () => procsIn(dirs).length >= 3, 30_000);
      ok(v2, ["pause", id]);
      const pids = procsIn(dirs);
      ok(v2, ["rm", "-f", id]);
      expect(procsIn(dirs)).toEqual([]);
      expect(dirs.filter((d) => fs.existsSync(d))).toEqual([]);
      expect(pids.filter((p) => fs.existsSync(`/proc/${p}`))).toEqual([]);
      recordCases(`cgroup teardown: rm -f paused container (${where})`, 1);
    }, 120_000);
  }
});
