import { describe, expect, spyOn, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { FailedPreconditionError, InvalidArgumentError, SyscallError } from "../../../../src/errors.ts";
import { detectCgroups, DOCKER_DEVICE_RULES } from "../../../../src/runtime/cgroups/index.ts";
import { v1DeviceWrites } from "../../../../src/runtime/cgroups/devices.ts";
import { discoverV1Hierarchies, planV1, SWAP_WARNING } from "../../../../src/runtime/cgroups/v1.ts";
import { parseResources } from "../../../../src/runtime/resources.ts";
import { fakeV1, fakeV1Cgroup, read, V1_UNLIMITED, removedAfterEach, type FakeRoot } from "./fake.ts";

const ID = "0123456789ab";
const keep = removedAfterEach();
let fake: FakeRoot | undefined;

function setup(opts: { memsw?: boolean; hierarchies?: string[] } = {}) {
  fake = keep(fakeV1(opts.hierarchies ? { hierarchies: opts.hierarchies } : {}));
  fakeV1Cgroup(fake.root, ID, opts);
  const manager = detectCgroups(fake.root, { settleMs: 100 });
  const at = (h: string, file: string) => path.join(fake!.root, h, "tinydock", ID, file);
  return { root: fake.root, manager, at };
}

const FLAGS = { memory: "16m", cpus: "0.5", pidsLimit: "10", cpusetCpus: "0", cpuShares: "700" };

describe("cgroup v1: create", () => {
  test("writes every limit into its hierarchy", () => {
    const { root, manager, at } = setup();
    const cg = manager.create(ID, parseResources(FLAGS, 2));
    expect(manager.version).toBe(1);
    expect(cg.warnings).toEqual([]);
    expect(read(at("memory", "memory.limit_in_bytes"))).toBe("16777216");
    expect(read(at("memory", "memory.memsw.limit_in_bytes"))).toBe("33554432");
    expect(read(at("memory", "memory.swappiness"))).toBe("60\n"); // untouched
    expect(read(at("cpu", "cpu.cfs_period_us"))).toBe("100000");
    expect(read(at("cpu", "cpu.cfs_quota_us"))).toBe("50000");
    expect(read(at("cpu", "cpu.shares"))).toBe("700");
    expect(read(at("pids", "pids.max"))).toBe("10");
    expect(read(at("cpuset", "cpuset.cpus"))).toBe("0");
    expect(read(at("cpuset", "cpuset.mems"))).toBe("0");
    // tinydock/ got the root's cpuset first: an empty cpuset refuses tasks.
    expect(read(path.join(root, "cpuset", "tinydock", "cpuset.cpus"))).toBe("0-1");
    expect(read(path.join(root, "cpuset", "tinydock", "cpuset.mems"))).toBe("0");
    // Docker's device list, in order: the last rule of each file stays in the fake.
    expect(read(at("devices", "devices.deny"))).toBe("c 10:229 rwm");
    expect(read(at("devices", "devices.allow"))).toBe("c 10:200 rwm");
    // In every v1 hierarchy, never in the hybrid host's unified mount.
    expect(cg.procsFiles).toEqual(
      ["blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd"].map((h) => at(h, "cgroup.procs")),
    );
    expect(fs.existsSync(path.join(root, "unified", "tinydock"))).toBe(false);
  });

  test("the whole plan, in order", () => {
    const { root } = setup();
    const plan = planV1({
      root,
      hierarchies: discoverV1Hierarchies(root),
      id: ID,
      resources: parseResources({ ...FLAGS, memorySwap: "-1", memorySwappiness: "0" }, 2),
      allDevices: false,
      cpuset: { rootCpus: "0-1\n", rootMems: "0\n", parentCpus: "\n", parentMems: "\n" },
    });
    const rel = (f: string) => path.relative(root, f);
    expect(plan.writes.map((w) => [rel(w.file), w.value])).toEqual([
      ["cpuset/tinydock/cpuset.cpus", "0-1"],
      ["cpuset/tinydock/cpuset.mems", "0"],
      [`cpuset/tinydock/${ID}/cpuset.cpus`, "0"],
      [`cpuset/tinydock/${ID}/cpuset.mems`, "0"],
      [`memory/tinydock/${ID}/memory.limit_in_bytes`, "16777216"],
      [`memory/tinydock/${ID}/memory.memsw.limit_in_bytes`, "-1"],
      [`memory/tinydock/${ID}/memory.swappiness`, "0"],
      [`cpu/tinydock/${ID}/cpu.cfs_period_us`, "100000"],
      [`cpu/tinydock/${ID}/cpu.cfs_quota_us`, "50000"],
      [`cpu/tinydock/${ID}/cpu.shares`, "700"],
      [`pids/tinydock/${ID}/pids.max`, "10"],
      ...v1DeviceWrites(DOCKER_DEVICE_RULES).map((d) => [`devices/tinydock/${ID}/devices.${d.allow ? "allow" : "deny"}`, d.rule]),
    ]);
    expect(plan.writes[0]).toEqual({ file: path.join(root, "cpuset/tinydock/cpuset.cpus"), value: "0-1" });
    expect(plan.writes.find((w) => w.file.endsWith("memsw.limit_in_bytes"))?.ifMissing).toBe(SWAP_WARNING);
  });

  test("Docker's device rules: deny all, then the allowlist", () => {
    expect(DOCKER_DEVICE_RULES[0]).toEqual({ allow: false, rule: "a" });
    const allowed = DOCKER_DEVICE_RULES.filter((d) => d.allow).map((d) => d.rule);
    for (const r of ["c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"]) {
      expect(allowed).toContain(r);
    }
  });

  test("no limits: only cpuset (needed to join) and devices are written", () => {
    const { manager, at } = setup();
    manager.create(ID, {});
    expect(read(at("memory", "memory.limit_in_bytes"))).toBe(`${V1_UNLIMITED}\n`);
    expect(read(at("pids", "pids.max"))).toBe("max\n");
    expect(read(at("cpu", "cpu.cfs_quota_us"))).toBe("-1\n");
    expect(read(at("cpuset", "cpuset.cpus"))).toBe("0-1");
    expect(read(at("devices", "devices.allow"))).toBe("c 10:200 rwm");
  });

  test("--privileged: no device rules", () => {
    const { manager, at } = setup();
    manager.create(ID, {}, { allDevices: true });
    expect(read(at("devices", "devices.allow"))).toBe("");
    expect(read(at("devices", "devices.deny"))).toBe("");
  });

  test("swappiness, unlimited swap and pids", () => {
    const { manager, at } = setup();
    manager.create(ID, parseResources({ memory: "1g", memorySwap: "-1", memorySwappiness: "10", pidsLimit: "-1" }, 2));
    expect(read(at("memory", "memory.limit_in_bytes"))).toBe("1073741824");
    expect(read(at("memory", "memory.memsw.limit_in_bytes"))).toBe("-1");
    expect(read(at("memory", "memory.swappiness"))).toBe("10");
    expect(read(at("pids", "pids.max"))).toBe("max");
  });

  test("without swap accounting the memory limit still applies, with Docker's warning", () => {
    const { manager, at } = setup({ memsw: false });
    const cg = manager.create(ID, parseResources({ memory: "16m" }, 2));
    expect(read(at("memory", "memory.limit_in_bytes"))).toBe("16777216");
    expect(fs.existsSync(at("memory", "memory.memsw.limit_in_bytes"))).toBe(false);
    expect(cg.warnings).toEqual([SWAP_WARNING]);
  });

  test("tinydock/'s cpuset is kept when it is set already", () => {
    const { root, manager, at } = setup();
    fs.writeFileSync(path.join(root, "cpuset", "tinydock", "cpuset.cpus"), "1\n");
    manager.create(ID, {});
    expect(read(path.join(root, "cpuset", "tinydock", "cpuset.cpus"))).toBe("1\n");
    expect(read(at("cpuset", "cpuset.cpus"))).toBe("1");
  });

  test("the root's cpuset is read only while tinydock/'s is empty (the first run)", () => {
    const { root, manager } = setup();
    const rootFiles = [path.join(root, "cpuset", "cpuset.cpus"), path.join(root, "cpuset", "cpuset.mems")];
    const readsOfRoot = () => {
      const seen: string[] = [];
      const real = fs.readFileSync;
      const spy = spyOn(fs, "readFileSync").mockImplementation(((p: fs.PathOrFileDescriptor, ...rest: [never]) => {
        seen.push(String(p));
        return real(p, ...rest);
      }) as typeof fs.readFileSync);
      return { seen: () => seen.filter((p) => rootFiles.includes(p)).length, restore: () => spy.mockRestore() };
    };
    const first = readsOfRoot();
    try {
      manager.create(ID, {});
    } finally {
      first.restore();
    }
    expect(first.seen()).toBe(2);
    fakeV1Cgroup(root, "fedcba987654");
    const second = readsOfRoot();
    try {
      manager.create("fedcba987654", {});
    } finally {
      second.restore();
    }
    expect(second.seen()).toBe(0);
    expect(read(path.join(root, "cpuset", "tinydock", "fedcba987654", "cpuset.cpus"))).toBe("0-1");
  });

  test("a limit without its hierarchy is refused before anything is made", () => {
    const { root, manager } = setup({ hierarchies: ["cpu", "cpuset", "memory", "freezer"] });
    expect(() => manager.create("other", parseResources({ pidsLimit: "10" }, 2))).toThrow(FailedPreconditionError);
    expect(() => manager.create("other", parseResources({ pidsLimit: "10" }, 2))).toThrow(
      `Cannot set pids limit: no pids cgroup hierarchy is mounted under ${root}`,
    );
    expect(fs.existsSync(path.join(root, "cpu", "tinydock", "other"))).toBe(false);
    // Unlimited pids needs no controller.
    expect(() => manager.create(ID, parseResources({ pidsLimit: "-1" }, 2))).not.toThrow();
  });

  test("ids are one plain name", () => {
    const { manager } = setup();
    for (const bad of ["", "../x", "a/b", ".hidden", "a b", "x".repeat(129)]) {
      expect(() => manager.create(bad, {})).toThrow(InvalidArgumentError);
    }
    expect(() => manager.open("../../etc")).toThrow(InvalidArgumentError);
  });

  test("a failed write names the file, and what was made is removed", () => {
    const { root, manager, at } = setup();
    fs.rmSync(at("cpu", "cpu.shares"));
    let err: unknown;
    try {
      manager.create(ID, parseResources({ cpuShares: "700" }, 2));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as Error).message).toBe(`open ${at("cpu", "cpu.shares")} to write "700": ENOENT`);
    expect(fs.readdirSync(root).filter((h) => fs.existsSync(path.join(root, h, "tinydock")))).toEqual([]);
  });
});

describe("cgroup v1: reading it back", () => {
  test("list() names every tinydock/<id> in any hierarchy", () => {
    const { root, manager } = setup();
    fs.mkdirSync(path.join(root, "freezer", "tinydock", "orphan"));
    expect(manager.list()).toEqual([ID, "orphan"]);
  });

  test("oomKilled reads oom_kill from memory.oom_control", () => {
    const { manager, at } = setup();
    const cg = manager.create(ID, {});
    expect(cg.oomKilled()).toBe(false);
    fs.writeFileSync(at("memory", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 1\noom_kill 1\n");
    expect(cg.oomKilled()).toBe(true);
    expect(manager.open(ID).oomKilled()).toBe(true);
    expect(manager.open("gone").oomKilled()).toBe(false);
  });

  test("stats: usage less inactive file cache, limit, pids, cpuacct", () => {
    const { manager, at } = setup();
    const cg = manager.create(ID, parseResources({ memory: "16m" }, 2));
    fs.writeFileSync(at("memory", "memory.usage_in_bytes"), "5000000\n");
    fs.writeFileSync(at("memory", "memory.stat"), "cache 1000\ntotal_inactive_file 1000000\n");
    fs.writeFileSync(at("pids", "pids.current"), "3\n");
    fs.writeFileSync(at("cpuacct", "cpuacct.usage"), "123456789\n");
    expect(cg.stats()).toEqual({ memoryUsage: 4_000_000, memoryLimit: 16777216, pids: 3, cpuUsageNs: 123456789 });
    fs.writeFileSync(at("memory", "memory.limit_in_bytes"), `${V1_UNLIMITED}\n`);
    expect(cg.stats().memoryLimit).toBe(Infinity);
    expect(manager.open("gone").stats()).toEqual({ memoryUsage: 0, memoryLimit: Infinity, pids: 0, cpuUsageNs: 0 });
  });
});

describe("cgroup v1: destroy", () => {
  test("kills what is inside, removes every directory and tinydock/, and is idempotent", async () => {
    const { root, manager, at } = setup();
    const cg = manager.create(ID, {});
    const sleeper = Bun.spawn(["sleep", "30"], { stdout: "ignore", stderr: "ignore" });
    fs.writeFileSync(at("memory", "cgroup.procs"), `${sleeper.pid}\n`);
    fs.writeFileSync(at("pids", "cgroup.procs"), `${sleeper.pid}\n`);
    expect(cg.pids()).toEqual([sleeper.pid]);
    expect(manager.list()).toEqual([ID]);
    try {
      cg.destroy();
      await sleeper.exited;
      expect(sleeper.signalCode).toBe("SIGKILL");
      expect(manager.list()).toEqual([]);
      for (const h of fs.readdirSync(root)) expect(fs.existsSync(path.join(root, h, "tinydock"))).toBe(false);
      cg.destroy();
      manager.open("never-made").destroy();
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  test("tinydock/ stays while another container's cgroup is in it", () => {
    const { root, manager } = setup();
    fakeV1Cgroup(root, "other");
    const cg = manager.create(ID, {});
    manager.create("other", {});
    cg.destroy();
    expect(manager.list()).toEqual(["other"]);
    expect(fs.existsSync(path.join(root, "memory", "tinydock", "other", "memory.limit_in_bytes"))).toBe(true);
  });
});
