import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { FailedPreconditionError, InternalError } from "../../../../src/errors.ts";
import { compileDeviceFilter, deviceAllowRule } from "../../../../src/runtime/cgroups/devicefilter.ts";
import { DOCKER_DEVICE_RULES } from "../../../../src/runtime/cgroups/devices.ts";
import { fakeSys } from "../../../../src/sys/fake.ts";
import { detectCgroups } from "../../../../src/runtime/cgroups/index.ts";
import { planV2, SWAP_WARNING_V2, SWAPPINESS_WARNING } from "../../../../src/runtime/cgroups/v2.ts";
import { parseResources } from "../../../../src/runtime/resources.ts";
import { fakeV2, fakeV2Cgroup, loggedPidfds, read, removedAfterEach, type FakeRoot } from "./fake.ts";

const ID = "0123456789ab";
const keep = removedAfterEach();
let fake: FakeRoot | undefined;

function setup(opts: { swap?: boolean; kill?: boolean; controllers?: string; subtreeControl?: string } = {}) {
  fake = keep(fakeV2(opts));
  fakeV2Cgroup(fake.root, ID, opts);
  // The sleepers destroy() kills are real: its pidfds too.
  const sys = Object.assign(fakeSys(), loggedPidfds().sys);
  const manager = detectCgroups(fake.root, { settleMs: 100, sys });
  const at = (file: string) => path.join(fake!.root, "tinydock", ID, file);
  return { root: fake.root, manager, at, sys };
}

const FLAGS = { memory: "16m", cpus: "0.5", pidsLimit: "10", cpusetCpus: "0", cpuShares: "700" };

describe("cgroup v2: create", () => {
  test("enables controllers top-down and writes every limit", () => {
    const { root, manager, at } = setup();
    const cg = manager.create(ID, parseResources(FLAGS, 2));
    expect(manager.version).toBe(2);
    expect(cg.warnings).toEqual([]);
    expect(read(path.join(root, "cgroup.subtree_control"))).toBe("+cpuset +cpu +memory +pids");
    expect(read(path.join(root, "tinydock", "cgroup.subtree_control"))).toBe("+cpuset +cpu +memory +pids");
    expect(read(at("memory.max"))).toBe("16777216");
    expect(read(at("memory.swap.max"))).toBe("16777216"); // (memory+swap) − memory
    expect(read(at("cpu.max"))).toBe("50000 100000");
    expect(read(at("cpu.weight"))).toBe("27"); // runc: 1 + ((700 − 2) × 9999) / 262142
    expect(read(at("cpuset.cpus"))).toBe("0");
    expect(read(at("cpuset.mems"))).toBe("\n"); // inherited: v2 needs no copy
    expect(read(at("pids.max"))).toBe("10");
    expect(cg.procsFiles).toEqual([at("cgroup.procs")]);
  });

  test("the whole plan; controllers already enabled are not written again", () => {
    const root = "/sys/fs/cgroup";
    const plan = planV2({
      root,
      id: ID,
      resources: parseResources({ memory: "1g", memorySwap: "-1", memorySwappiness: "0", cpus: "1.5", pidsLimit: "0" }, 2),
      available: ["cpuset", "cpu", "io", "memory", "hugetlb", "pids"],
      rootEnabled: ["cpuset", "cpu", "io", "memory", "pids"],
      parentEnabled: ["memory"],
    });
    expect(plan.writes).toEqual([
      { file: "/sys/fs/cgroup/tinydock/cgroup.subtree_control", value: "+cpu +pids" },
      { file: `/sys/fs/cgroup/tinydock/${ID}/memory.max`, value: "1073741824" },
      { file: `/sys/fs/cgroup/tinydock/${ID}/memory.swap.max`, value: "max", ifMissing: SWAP_WARNING_V2 },
      { file: `/sys/fs/cgroup/tinydock/${ID}/cpu.max`, value: "150000 100000" },
      { file: `/sys/fs/cgroup/tinydock/${ID}/pids.max`, value: "max" },
    ]);
    expect(plan.warnings).toEqual([SWAPPINESS_WARNING]);
  });

  test("no limits: memory and pids are still enabled (stats, OOM), nothing else written", () => {
    const { root, manager, at } = setup({ subtreeControl: "cpuset cpu io memory hugetlb pids rdma misc\n" });
    const cg = manager.create(ID, {});
    expect(read(path.join(root, "cgroup.subtree_control"))).toBe("cpuset cpu io memory hugetlb pids rdma misc\n");
    expect(read(path.join(root, "tinydock", "cgroup.subtree_control"))).toBe("+memory +pids");
    expect(read(at("memory.max"))).toBe("max\n");
    expect(read(at("pids.max"))).toBe("max\n");
    expect(cg.warnings).toEqual([]);
  });

  test("a hierarchy with none of them (the hybrid host's hugetlb-only mount) writes nothing", () => {
    const { root, manager } = setup({ controllers: "hugetlb\n" });
    manager.create(ID, {});
    expect(read(path.join(root, "cgroup.subtree_control"))).toBe("\n");
    expect(read(path.join(root, "tinydock", "cgroup.subtree_control"))).toBe("\n");
  });

  test("a limit whose controller the host lacks is refused before anything is made", () => {
    const { root, manager } = setup({ controllers: "memory pids\n" });
    expect(() => manager.create("other", parseResources({ cpus: "1" }, 2))).toThrow(FailedPreconditionError);
    expect(() => manager.create("other", parseResources({ cpus: "1" }, 2))).toThrow(
      `Cannot set CPU limit: the cpu controller is not available in ${root}`,
    );
    expect(fs.existsSync(path.join(root, "tinydock", "other"))).toBe(false);
  });

  test("without swap accounting: memory.max only, with Docker's warning; swappiness is v1 only", () => {
    const { manager, at } = setup({ swap: false });
    const cg = manager.create(ID, parseResources({ memory: "16m", memorySwappiness: "10" }, 2));
    expect(read(at("memory.max"))).toBe("16777216");
    expect(fs.existsSync(at("memory.swap.max"))).toBe(false);
    expect(cg.warnings).toEqual([SWAPPINESS_WARNING, SWAP_WARNING_V2]);
  });
});

describe("cgroup v2: device rules", () => {
  test("Docker's rules are attached as a device program to the new cgroup, before any limit is written", () => {
    const { root, manager, sys } = setup();
    fs.writeFileSync(path.join(root, "tinydock", ID, "memory.max"), "max\n");
    const seen: string[] = [];
    const attach = sys.attachDeviceFilter;
    sys.attachDeviceFilter = (dir, prog) => {
      seen.push(fs.readFileSync(path.join(dir, "memory.max"), "utf8"));
      attach(dir, prog);
    };
    manager.create(ID, parseResources({ memory: "16m" }, 2));
    expect(sys.calls.filter((c) => c.op === "attachDeviceFilter")).toEqual([
      { op: "attachDeviceFilter", args: [path.join(root, "tinydock", ID), compileDeviceFilter(DOCKER_DEVICE_RULES)] },
    ]);
    expect(seen).toEqual(["max\n"]);
  });

  test("--device rules follow Docker's; --privileged attaches nothing (every device, as on v1)", () => {
    const { manager, sys } = setup();
    const extra = [deviceAllowRule("b", 7, 3, "rwm")];
    manager.create(ID, {}, { devices: extra });
    expect(sys.calls.find((c) => c.op === "attachDeviceFilter")?.args[1]).toEqual(compileDeviceFilter([...DOCKER_DEVICE_RULES, ...extra]));
    fakeV2Cgroup(fake!.root, "priv");
    // A plain file keeps what was written ("+memory +pids"); the kernel would show the names.
    for (const d of [fake!.root, path.join(fake!.root, "tinydock")]) fs.writeFileSync(path.join(d, "cgroup.subtree_control"), "memory pids\n");
    manager.create("priv", {}, { allDevices: true });
    expect(sys.calls.filter((c) => c.op === "attachDeviceFilter").length).toBe(1);
  });

  test("a failed attach removes the cgroup and names the operation; no Sys: refused, never left open", () => {
    const { root, manager, sys } = setup();
    sys.failNext("attachDeviceFilter", "EPERM");
    expect(() => manager.create(ID, {})).toThrow(/attachDeviceFilter .*: EPERM/);
    expect(fs.existsSync(path.join(root, "tinydock", ID))).toBe(false);
    fakeV2Cgroup(root, ID);
    expect(() => detectCgroups(root, { settleMs: 100 }).create(ID, {})).toThrow(InternalError);
    expect(() => detectCgroups(root, { settleMs: 100 }).create(ID, {})).toThrow("its device rules need a way to attach a device program");
  });
});

describe("cgroup v2: reading it back", () => {
  test("list()", () => {
    const { root, manager } = setup();
    fs.mkdirSync(path.join(root, "tinydock", "orphan"));
    expect(manager.list()).toEqual([ID, "orphan"]);
  });

  test("oomKilled reads oom_kill from memory.events", () => {
    const { manager, at } = setup();
    const cg = manager.create(ID, {});
    expect(cg.oomKilled()).toBe(false);
    fs.writeFileSync(at("memory.events"), "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n");
    expect(cg.oomKilled()).toBe(true);
    expect(manager.open("gone").oomKilled()).toBe(false);
  });

  test("stats: memory.current less inactive_file, memory.max, pids.current, cpu.stat usage_usec", () => {
    const { manager, at } = setup();
    const cg = manager.create(ID, parseResources({ memory: "16m" }, 2));
    fs.writeFileSync(at("memory.current"), "5000000\n");
    fs.writeFileSync(at("memory.stat"), "anon 100\nfile 2000000\ninactive_file 1000000\n");
    fs.writeFileSync(at("memory.max"), "16777216\n");
    fs.writeFileSync(at("pids.current"), "2\n");
    fs.writeFileSync(at("cpu.stat"), "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
    expect(cg.stats()).toEqual({ memoryUsage: 4_000_000, memoryLimit: 16777216, pids: 2, cpuUsageNs: 1_500_000 });
    fs.writeFileSync(at("memory.max"), "max\n");
    expect(cg.stats().memoryLimit).toBe(Infinity);
  });
});

describe("cgroup v2: destroy", () => {
  test("without cgroup.kill: freeze, SIGKILL each pid, thaw, rmdir; idempotent", async () => {
    const { root, manager, at } = setup();
    const cg = manager.create(ID, {});
    const sleeper = Bun.spawn(["sleep", "30"], { stdout: "ignore", stderr: "ignore" });
    fs.mkdirSync(at("nested"));
    fs.writeFileSync(path.join(at("nested"), "cgroup.procs"), `${sleeper.pid}\n`);
    expect(cg.pids()).toEqual([sleeper.pid]);
    try {
      cg.destroy();
      await sleeper.exited;
      expect(sleeper.signalCode).toBe("SIGKILL");
      expect(fs.existsSync(path.join(root, "tinydock"))).toBe(false);
      expect(manager.list()).toEqual([]);
      cg.destroy();
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  test("with cgroup.kill the kernel does the killing", async () => {
    const { root, manager, at } = setup({ kill: true });
    const cg = manager.create(ID, {});
    fakeV2Cgroup(root, "other");
    // cgroup.kill as a FIFO: a reader outside the cgroup records what destroy() writes into it.
    fs.rmSync(at("cgroup.kill"));
    expect(Bun.spawnSync(["mkfifo", at("cgroup.kill")]).exitCode).toBe(0);
    const written = path.join(root, "kill-written");
    const reader = Bun.spawn(["sh", "-c", 'cat "$0" > "$1"', at("cgroup.kill"), written]);
    try {
      cg.destroy();
      expect(await reader.exited).toBe(0);
    } finally {
      reader.kill("SIGKILL");
    }
    expect(read(written)).toBe("1");
    expect(manager.list()).toEqual(["other"]);
  });
});
