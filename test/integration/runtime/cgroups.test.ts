// The cgroup managers against the real kernel (root). v1: the host's hierarchies under the cgroup
// root. v2: the root itself on a v2 host; on a hybrid host the "unified" mount (hugetlb only) and a
// fresh cgroup2 mount of the same hierarchy. Every cgroup is named tinydock/test-<random> and
// removed in afterEach even when a test fails; the suite ends with a leak check.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createContext } from "../../../src/context.ts";
import { FailedPreconditionError, SyscallError } from "../../../src/errors.ts";
import { detectCgroups, type CgroupManager } from "../../../src/runtime/cgroups/index.ts";
import { parseResources } from "../../../src/runtime/resources.ts";
import { linuxSys } from "../../../src/sys/linux.ts";
import { findLeaks } from "../../helpers/leakcheck.ts";
import { until } from "../../helpers/e2e.ts";

const ROOT = createContext({ env: { TINYDOCK_CONFIG: "/nonexistent/config.json" } }).cgroupRoot;
const RUN = `test-${Math.random().toString(36).slice(2, 10)}`;
const isRoot = process.getuid?.() === 0;
const version = (() => {
  try {
    return detectCgroups(ROOT, { sys: linuxSys() }).version;
  } catch {
    return 0;
  }
})();
const unified = path.join(ROOT, "unified");
const hybrid = version === 1 && fs.existsSync(path.join(unified, "cgroup.controllers"));

let n = 0;
const newId = () => `${RUN}-${++n}`;
/** What afterEach must remove: [manager, id]. */
const made: [CgroupManager, string][] = [];
const sleepers: Bun.Subprocess[] = [];
const unmounts: string[] = [];

afterEach(() => {
  for (const p of sleepers.splice(0)) p.kill("SIGKILL");
  for (const [m, id] of made.splice(0)) {
    try {
      m.open(id).destroy();
    } catch (err) {
      console.error(`cleanup of cgroup ${id}: ${(err as Error).message}`);
    }
  }
  for (const dir of unmounts.splice(0)) {
    try {
      linuxSys().umount(dir, 0);
    } catch {}
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

afterAll(() => {
  expect(findLeaks(RUN)).toEqual([]);
});

function track(m: CgroupManager, id: string) {
  made.push([m, id]);
  return id;
}

/** A process that joins the cgroup itself (as the container's init does), then runs `script`. */
function spawnInside(procsFiles: string[], script: string): Bun.Subprocess<"ignore", "pipe", "pipe"> {
  const p = Bun.spawn(["sh", "-c", `for f in "$@"; do echo $$ > "$f" || exit 99; done; ${script}`, "sh", ...procsFiles], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  sleepers.push(p);
  return p;
}

function spawnSleeper(): Bun.Subprocess {
  const p = Bun.spawn(["sleep", "30"], { stdout: "ignore", stderr: "ignore" });
  sleepers.push(p);
  return p;
}

const text = (p: string) => fs.readFileSync(p, "utf8").trim();
describe.skipIf(!isRoot || version !== 1)("cgroup v1 on the real kernel (only on a cgroup v1 host)", () => {
  const at = (h: string, id: string, file: string) => path.join(ROOT, h, "tinydock", id, file);

  test("-m 16m --cpus 0.5 --pids-limit 10 --cpuset-cpus 0 --cpu-shares 700: the kernel reads them back", async () => {
    const m = detectCgroups(ROOT, { sys: linuxSys() });
    const id = track(m, newId());
    const r = parseResources({ memory: "16m", cpus: "0.5", pidsLimit: "10", cpusetCpus: "0", cpuShares: "700" }, os.availableParallelism());
    const cg = m.create(id, r);

    expect(text(at("memory", id, "memory.limit_in_bytes"))).toBe("16777216");
    if (fs.existsSync(at("memory", id, "memory.memsw.limit_in_bytes"))) {
      expect(text(at("memory", id, "memory.memsw.limit_in_bytes"))).toBe("33554432");
      expect(cg.warnings).toEqual([]);
    }
    expect(text(at("cpu", id, "cpu.cfs_quota_us"))).toBe("50000");
    expect(text(at("cpu", id, "cpu.cfs_period_us"))).toBe("100000");
    expect(text(at("cpu", id, "cpu.shares"))).toBe("700");
    expect(text(at("pids", id, "pids.max"))).toBe("10");
    expect(text(at("cpuset", id, "cpuset.cpus"))).toBe("0");
    expect(text(at("cpuset", id, "cpuset.mems"))).toBe(text(path.join(ROOT, "cpuset", "cpuset.mems")));
    const devices = text(at("devices", id, "devices.list")).split("\n");
    expect(devices).not.toContain("a *:* rwm");
    for (const rule of ["c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 5:1 rwm", "c 136:* rwm", "c 10:200 rwm"]) expect(devices).toContain(rule);
    expect(devices).not.toContain("c 10:229 rwm");
    expect(m.list()).toContain(id);

    // Move a real process in through every cgroup.procs file, as the container's init does.
    const sleeper = spawnSleeper();
    for (const f of cg.procsFiles) fs.writeFileSync(f, String(sleeper.pid));
    const own = fs.readFileSync(`/proc/${sleeper.pid}/cgroup`, "utf8");
    for (const h of ["memory", "cpu", "cpuset", "pids", "freezer", "devices", "name=systemd"]) {
      expect(own).toMatch(new RegExp(`^\\d+:${h}:/tinydock/${id}$`, "m"));
    }
    expect(cg.pids()).toEqual([sleeper.pid]);
    const stats = cg.stats();
    expect(stats.pids).toBe(1);
    expect(stats.memoryLimit).toBe(16777216);
    expect(stats.memoryUsage).toBeGreaterThanOrEqual(0);
    expect(stats.cpuUsageNs).toBeGreaterThanOrEqual(0);
    expect(cg.oomKilled()).toBe(false);

    cg.destroy();
    await sleeper.exited;
    expect(sleeper.signalCode).toBe("SIGKILL");
    for (const f of cg.procsFiles) expect(fs.existsSync(path.dirname(f))).toBe(false);
    expect(m.list()).not.toContain(id);
    cg.destroy(); // idempotent
  });

  test("the pids limit holds and destroy() kills every process in it", async () => {
    const m = detectCgroups(ROOT, { sys: linuxSys() });
    const id = track(m, newId());
    const cg = m.create(id, parseResources({ pidsLimit: "10" }, os.availableParallelism()));
    // The shell and 9 sleeps fill the 10; the 11th fork is refused and the shell gives up.
    const p = spawnInside(cg.procsFiles, "i=0; while [ $i -lt 30 ]; do sleep 30 & i=$((i+1)); done; wait");
    expect(await p.exited).not.toBe(0);
    const left = cg.pids();
    expect(left.length).toBe(9);
    expect(text(at("pids", id, "pids.events"))).toMatch(/^max [1-9]/m);
    cg.destroy();
    for (const pid of left) {
      // Gone, or a zombie waiting for its (re)parent to reap it.
      const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, "utf8") : "";
      expect(stat === "" || / Z /.test(stat)).toBe(true);
    }
    expect(fs.existsSync(at("pids", id, ""))).toBe(false);
  });

  test("a value the kernel refuses names the file, and nothing is left behind", () => {
    const m = detectCgroups(ROOT, { sys: linuxSys() });
    const id = track(m, newId());
    let err: unknown;
    try {
      m.create(id, { cpusetCpus: "1023" }); // past parseResources' check: only the kernel says no
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as Error).message).toStartWith(`write "1023" to ${at("cpuset", id, "cpuset.cpus")}: `);
    expect((err as Error).message).toMatch(/: (EINVAL|ERANGE)$/); // 6.x: ERANGE past nr_cpu_ids
    expect(m.list()).not.toContain(id);
    for (const h of ["cpu", "memory", "cpuset", "freezer", "systemd"]) expect(fs.existsSync(at(h, id, ""))).toBe(false);
  });

  test("an OOM kill is reported by oomKilled()", async () => {
    const m = detectCgroups(ROOT, { sys: linuxSys() });
    const id = track(m, newId());
    const cg = m.create(id, parseResources({ memory: "8m", memorySwap: "8m" }, os.availableParallelism()));
    // tail keeps one endless line in memory
    const p = spawnInside(cg.procsFiles, "head -c 200000000 /dev/zero | tail > /dev/null");
    await p.exited;
    expect(cg.oomKilled()).toBe(true);
    cg.destroy();
  });

  test("a frozen-then-busy cgroup still goes: the freezer is thawed after the kill", async () => {
    const m = detectCgroups(ROOT, { sys: linuxSys() });
    const id = track(m, newId());
    const cg = m.create(id, {});
    const p = spawnInside(cg.procsFiles, "while :; do sh -c 'exit 0'; done");
    await until("a process in the cgroup", () => cg.pids().length > 0, 5_000, 10);
    fs.writeFileSync(at("freezer", id, "freezer.state"), "FROZEN"); // as `tinydock pause` would
    cg.destroy();
    await p.exited;
    expect(m.list()).not.toContain(id);
  });
});

/** The hybrid host's v2 hierarchy, where it is mounted now and where we mount it afresh. */
const v2Roots: [string, () => string][] = hybrid
  ? [
      ["the unified mount", () => unified],
      [
        "a fresh cgroup2 mount",
        () => {
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-cgroup2-"));
          unmounts.push(dir);
          linuxSys().mount("none", dir, "cgroup2", 0, null);
          return dir;
        },
      ],
    ]
  : version === 2
    ? [["the cgroup root", () => ROOT]]
    : [];

describe.skipIf(!isRoot || v2Roots.length === 0)("cgroup v2 on the real kernel (only on a cgroup v2 or hybrid host)", () => {
  for (const [where, rootOf] of v2Roots) {
    test(`${where}: create, move a process in, cgroup.events, cgroup.kill, destroy`, async () => {
      const root = rootOf();
      // A v2 manager attaches the device program through Sys (bpf), as the engine's does.
      const m = detectCgroups(root, { sys: linuxSys() });
      expect(m.version).toBe(2);
      const id = track(m, newId());
      const cg = m.create(id, {});
      const dir = path.dirname(cg.procsFiles[0]!);
      expect(text(path.join(dir, "cgroup.events"))).toMatch(/^populated 0$/m);
      expect(m.list()).toContain(id);

      const sleeper = spawnSleeper();
      fs.writeFileSync(cg.procsFiles[0]!, String(sleeper.pid));
      expect(fs.readFileSync(`/proc/${sleeper.pid}/cgroup`, "utf8")).toMatch(new RegExp(`^0::/tinydock/${id}$`, "m"));
      expect(text(path.join(dir, "cgroup.events"))).toMatch(/^populated 1$/m);
      expect(cg.pids()).toEqual([sleeper.pid]);
      expect(cg.stats().pids).toBe(1);
      expect(fs.existsSync(path.join(dir, "cgroup.kill"))).toBe(true);

      cg.destroy();
      await sleeper.exited;
      expect(sleeper.signalCode).toBe("SIGKILL");
      expect(fs.existsSync(dir)).toBe(false);
      expect(m.list()).not.toContain(id);
      cg.destroy();
    });
  }

  test.skipIf(!hybrid)("a limit the unified mount has no controller for is refused, nothing is left (only on a hybrid cgroup host)", () => {
    const m = detectCgroups(unified, { sys: linuxSys() });
    const id = track(m, newId());
    expect(() => m.create(id, parseResources({ memory: "16m" }, os.availableParallelism()))).toThrow(FailedPreconditionError);
    expect(fs.existsSync(path.join(unified, "tinydock", id))).toBe(false);
  });

  test.skipIf(version !== 2)("limits read back (only on a cgroup v2 host)", async () => {
    const m = detectCgroups(ROOT, { sys: linuxSys() });
    const id = track(m, newId());
    const cg = m.create(id, parseResources({ memory: "16m", cpus: "0.5", pidsLimit: "10", cpusetCpus: "0", cpuShares: "700" }, os.availableParallelism()));
    const dir = path.dirname(cg.procsFiles[0]!);
    expect(text(path.join(dir, "memory.max"))).toBe("16777216");
    expect(text(path.join(dir, "cpu.max"))).toBe("50000 100000");
    expect(text(path.join(dir, "cpu.weight"))).toBe("27");
    expect(text(path.join(dir, "pids.max"))).toBe("10");
    expect(text(path.join(dir, "cpuset.cpus"))).toBe("0");
    const p = spawnInside(cg.procsFiles, "sleep 30");
    await until("one process in the cgroup", () => cg.pids().length === 1, 5_000, 10);
    cg.destroy();
    await p.exited;
    expect(fs.existsSync(dir)).toBe(false);
  });
});
