// exec's plan: the container's own (ids, capabilities, seccomp, cgroup) with -e/-u/-w applied;
// and the resources recorded under Docker's HostConfig names, read back by `start`.
import { describe, expect, test } from "bun:test";
import { execPlan } from "../../../src/lifecycle/exec.ts";
import { resourcesFromHostConfig, resourcesToHostConfig } from "../../../src/lifecycle/record.ts";
import type { RunPlan } from "../../../src/runtime/plan.ts";

const CAPS = 0xa80425fbn;
const base = {
  uid: 0,
  gid: 0,
  additionalGids: [10],
  capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, inheritable: 0n, ambient: 0n },
  env: ["PATH=/bin", "HOME=/root", "A=image"],
  cwd: "/srv",
  args: ["sleep", "300"],
  init: true,
  oomScoreAdj: 5,
  noNewPrivileges: true,
  seccomp: new Uint8Array(8),
  cgroupProcs: ["/sys/fs/cgroup/pids/tinydock/x/cgroup.procs"],
} as unknown as RunPlan;
const NO_FILES = { passwd: "", group: "" };
const opts = { args: ["sh"], env: [] as string[], tty: false, detach: false, stdio: [-1, 1, 2] as [number, number, number] };

describe("execPlan", () => {
  test("the container's privileges, a new command, no reaper", () => {
    const p = execPlan(base, NO_FILES, opts);
    expect(p).toMatchObject({ args: ["sh"], uid: 0, gid: 0, additionalGids: [10], cwd: "/srv", init: false, oomScoreAdj: null, noNewPrivileges: true });
    expect(p.capabilities).toEqual(base.capabilities);
    expect(p.seccomp).toBe(base.seccomp);
    expect(p.cgroupProcs).toEqual(base.cgroupProcs);
  });
  test("-e overrides, -w, -t sets TERM", () => {
    const p = execPlan(base, NO_FILES, { ...opts, env: ["A=exec", "B=1"], workdir: "/tmp", tty: true });
    expect(p.env).toEqual(["PATH=/bin", "HOME=/root", "A=exec", "TERM=xterm", "B=1"]);
    expect(p.cwd).toBe("/tmp");
  });
  test("-u 1000:1000: that user's ids, no effective capabilities, the same bounding set", () => {
    const p = execPlan(base, NO_FILES, { ...opts, user: "1000:1000" });
    expect(p).toMatchObject({ uid: 1000, gid: 1000, additionalGids: [] });
    expect(p.capabilities).toEqual({ bounding: CAPS, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n });
  });
});

test("-u by name: resolved in the container's passwd and group", () => {
  const p = execPlan(base, { passwd: "app:x:1000:1000:app:/home/app:/bin/sh\n", group: "app:x:1000:\nextra:x:20:app\n" }, { ...opts, user: "app" });
  expect(p).toMatchObject({ uid: 1000, gid: 1000, additionalGids: [20] });
  expect(p.env).toContain("HOME=/home/app");
  expect(() => execPlan(base, NO_FILES, { ...opts, user: "nobody-here" })).toThrow(/Cannot find user "nobody-here"/);
});

describe("resources in HostConfig", () => {
  test("round-trip under Docker's names", () => {
    const r = { memory: 33554432, memorySwap: -1, cpuQuota: 50000, cpuPeriod: 100000, nanoCpus: 500000000, cpuShares: 512, cpusetCpus: "0", pidsLimit: 50 };
    const hc = resourcesToHostConfig(r);
    // --cpus is Docker's NanoCpus; its CpuQuota and CpuPeriod stay 0.
    expect(hc).toEqual({ Memory: 33554432, MemorySwap: -1, NanoCpus: 500000000, CpuShares: 512, CpusetCpus: "0", PidsLimit: 50 });
    expect(resourcesFromHostConfig({ ...hc, Privileged: false, CpuQuota: 0, CpuPeriod: 0 })).toEqual(r);
  });
  test("--cpu-quota/--cpu-period, --memory-reservation, --blkio-weight, --cpu-rt-*, --oom-kill-disable and the per-device limits under their own names", () => {
    const dev = (value: number) => ({ path: "/dev/vda", major: 254, minor: 0, value });
    const r = {
      cpuQuota: 50000, cpuPeriod: 200000, memoryReservation: 8388608, blkioWeight: 300, cpuRtPeriod: 1000000, cpuRtRuntime: 5000, oomKillDisable: true,
      blkioDevices: { weight: [dev(200)], readBps: [dev(1048576)], writeBps: [dev(2097152)], readIops: [dev(100)], writeIops: [dev(200)] },
    };
    const hc = resourcesToHostConfig(r);
    expect(hc).toEqual({
      CpuQuota: 50000, CpuPeriod: 200000, MemoryReservation: 8388608, BlkioWeight: 300, CpuRealtimePeriod: 1000000, CpuRealtimeRuntime: 5000, OomKillDisable: true,
      BlkioWeightDevice: [{ Path: "/dev/vda", Weight: 200 }], BlkioDeviceReadBps: [{ Path: "/dev/vda", Rate: 1048576 }], BlkioDeviceWriteBps: [{ Path: "/dev/vda", Rate: 2097152 }],
      BlkioDeviceReadIOps: [{ Path: "/dev/vda", Rate: 100 }], BlkioDeviceWriteIOps: [{ Path: "/dev/vda", Rate: 200 }],
    });
    expect(resourcesFromHostConfig(hc, () => ({ major: 254, minor: 0 }))).toEqual(r);
    // Without a way to look the nodes up again, the per-device limits are left to the caller.
    const { blkioDevices: _, ...rest } = r;
    expect(resourcesFromHostConfig({ ...hc, OomKillDisable: true })).toEqual(rest);
    expect(resourcesFromHostConfig({ OomKillDisable: false, BlkioWeightDevice: [] }, () => ({ major: 1, minor: 1 }))).toEqual({});
  });
  test("Docker's zero values read as unset; an older record's CpuQuota/CpuPeriod still read", () => {
    const zero = { Memory: 0, MemorySwap: 0, MemorySwappiness: null, NanoCpus: 0, CpuQuota: 0, CpuPeriod: 0, CpuShares: 0, CpusetCpus: "", CpusetMems: "", PidsLimit: null };
    expect(resourcesFromHostConfig(zero)).toEqual({});
    expect(resourcesFromHostConfig({ CpuQuota: 150000, CpuPeriod: 100000, Memory: 8388608 })).toEqual({ cpuQuota: 150000, cpuPeriod: 100000, memory: 8388608 });
  });
});

describe("mountsRecord", () => {
  test("binds, named and anonymous volumes, tmpfs, in order", async () => {
    const { mountsRecord } = await import("../../../src/lifecycle/record.ts");
    const m = mountsRecord(
      [
        { type: "bind", source: "/h", target: "/c", readonly: true },
        { type: "tmpfs", target: "/t", flags: 0, data: "" },
        { type: "volume", name: "data", target: "/d", readonly: false, nocopy: false },
        { type: "volume", target: "/anon", readonly: false, nocopy: false },
      ],
      [
        { source: "/h", target: "/c", readonly: true, kind: "dir" },
        { source: "/r/volumes/data/_data", target: "/d", readonly: false, kind: "dir" },
        { source: "/r/volumes/abc123/_data", target: "/anon", readonly: false, kind: "dir" },
      ],
    );
    expect(m.map((x) => [x.Type, x.Name ?? x.Source, x.Destination, x.RW, x.Anonymous ?? null])).toEqual([
      ["bind", "/h", "/c", false, null],
      ["tmpfs", "", "/t", true, null],
      ["volume", "data", "/d", true, false],
      ["volume", "abc123", "/anon", true, true],
    ]);
  });
});
