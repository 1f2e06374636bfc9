// Cgroup.update (`tinydock update` on a live container) on fake cgroupfs roots, v1 and v2.
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { detectCgroups } from "../../../../src/runtime/cgroups/index.ts";
import { BLKIO_WEIGHT_WARNING } from "../../../../src/runtime/cgroups/cgroup.ts";
import { limitWritesV1 } from "../../../../src/runtime/cgroups/v1.ts";
import { fakeSys } from "../../../../src/sys/fake.ts";
import { fakeV1, fakeV1Cgroup, fakeV2, fakeV2Cgroup, read, V1_UNLIMITED, type FakeRoot } from "./fake.ts";

const ID = "0123456789ab";
let fake: FakeRoot | undefined;
afterEach(() => {
  fake?.cleanup();
  fake = undefined;
});

/** What the kernel shows in a subtree_control after "+a +b" was written to it (a plain file keeps the text). */
function settleSubtree(root: string, was: string): void {
  for (const f of [path.join(root, "cgroup.subtree_control"), path.join(root, "tinydock", "cgroup.subtree_control")]) {
    const added = read(f).split(/\s+/).filter((w) => w.startsWith("+")).map((w) => w.slice(1));
    fs.writeFileSync(f, `${[...was.trim().split(/\s+/), ...added].join(" ")}\n`);
  }
}

describe("cgroup v2: update", () => {
  test("writes the limits given and nothing else", () => {
    fake = fakeV2({ subtreeControl: "memory pids\n" });
    fakeV2Cgroup(fake.root, ID);
    fs.writeFileSync(path.join(fake.root, "tinydock", "cgroup.subtree_control"), "memory pids\n");
    const at = (f: string) => path.join(fake!.root, "tinydock", ID, f);
    const cg = detectCgroups(fake.root, { sys: fakeSys() }).open(ID);
    expect(cg.update({ memory: 64 << 20, memorySwap: 128 << 20, memoryReservation: 32 << 20, pidsLimit: 20 })).toEqual([]);
    expect(read(at("memory.max"))).toBe(String(64 << 20));
    expect(read(at("memory.swap.max"))).toBe(String(64 << 20)); // (memory+swap) − memory
    expect(read(at("memory.low"))).toBe(String(32 << 20));
    expect(read(at("pids.max"))).toBe("20");
    expect(read(at("cpu.max"))).toBe("max 100000\n"); // untouched
    // Controllers it had: no subtree_control write.
    expect(read(path.join(fake.root, "cgroup.subtree_control"))).toBe("memory pids\n");
  });

  test("a CPU limit the cgroup was made without enables the controller above it first; a period alone keeps no quota", () => {
    fake = fakeV2({ subtreeControl: "memory pids\n" });
    fakeV2Cgroup(fake.root, ID);
    fs.writeFileSync(path.join(fake.root, "tinydock", "cgroup.subtree_control"), "memory pids\n");
    const at = (f: string) => path.join(fake!.root, "tinydock", ID, f);
    const cg = detectCgroups(fake.root, { sys: fakeSys() }).open(ID);
    cg.update({ cpuPeriod: 50_000, cpusetCpus: "0" });
    expect(read(path.join(fake.root, "cgroup.subtree_control"))).toBe("+cpuset +cpu");
    expect(read(path.join(fake.root, "tinydock", "cgroup.subtree_control"))).toBe("+cpuset +cpu");
    expect(read(at("cpu.max"))).toBe("max 50000");
    expect(read(at("cpuset.cpus"))).toBe("0");
    settleSubtree(fake.root, "memory pids");
    cg.update({ cpuQuota: 25_000, cpuPeriod: 50_000, cpuShares: 512 });
    expect(read(at("cpu.max"))).toBe("25000 50000");
    expect(read(at("cpu.weight"))).toBe("20");
  });

  test("--blkio-weight without io.weight is Docker's warning", () => {
    fake = fakeV2();
    fakeV2Cgroup(fake.root, ID);
    const cg = detectCgroups(fake.root, { sys: fakeSys() }).open(ID);
    expect(cg.update({ blkioWeight: 500 })).toEqual([BLKIO_WEIGHT_WARNING]);
    settleSubtree(fake.root, "");
    fs.writeFileSync(path.join(fake.root, "tinydock", ID, "io.weight"), "default 100\n");
    expect(cg.update({ blkioWeight: 1000 })).toEqual([]);
    expect(read(path.join(fake.root, "tinydock", ID, "io.weight"))).toBe("default 10000");
  });
});

describe("cgroup v1: update", () => {
  test("writes into each limit's hierarchy; cpuset as given", () => {
    fake = fakeV1();
    fakeV1Cgroup(fake.root, ID);
    const at = (h: string, f: string) => path.join(fake!.root, h, "tinydock", ID, f);
    const cg = detectCgroups(fake.root, { sys: fakeSys() }).open(ID);
    const warnings = cg.update({ memory: 64 << 20, memorySwap: 128 << 20, memoryReservation: 32 << 20, cpuQuota: 50_000, cpuPeriod: 100_000, cpusetCpus: "1", pidsLimit: -1, blkioWeight: 300 });
    expect(read(at("memory", "memory.limit_in_bytes"))).toBe(String(64 << 20));
    expect(read(at("memory", "memory.memsw.limit_in_bytes"))).toBe(String(128 << 20));
    expect(read(at("memory", "memory.soft_limit_in_bytes"))).toBe(String(32 << 20));
    expect(read(at("cpu", "cpu.cfs_quota_us"))).toBe("50000");
    expect(read(at("cpuset", "cpuset.cpus"))).toBe("1");
    expect(read(at("pids", "pids.max"))).toBe("max");
    // The fake's blkio, as this host's, has no blkio.weight (no CFQ/BFQ).
    expect(warnings).toEqual([BLKIO_WEIGHT_WARNING]);
    expect(read(at("cpu", "cpu.shares"))).toBe("1024\n");
  });

  test("memory above the memory+swap limit now goes after the new memory+swap limit, below it before", () => {
    const dirOf = (c: string) => (c === "memory" ? "/m" : undefined);
    const files = (w: { file: string }[]) => w.map((x) => path.basename(x.file));
    expect(files(limitWritesV1(dirOf, { memory: 300, memorySwap: 600 }, 200))).toEqual(["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]);
    expect(files(limitWritesV1(dirOf, { memory: 100, memorySwap: 200 }, 400))).toEqual(["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]);
    expect(files(limitWritesV1(dirOf, { memory: 100, memorySwap: 200 }, Number(V1_UNLIMITED)))).toEqual(["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]);
  });
});
