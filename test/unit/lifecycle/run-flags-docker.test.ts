// run/create's flags that Docker has beyond the common set: what each puts in the request (and so
// in HostConfig/Config and the cgroup), Docker's errors for bad values, and the refused ones.
import { describe, expect, test } from "bun:test";
import os from "node:os";
import path from "node:path";
import { buildRunRequest } from "../../../src/cli/run-command.ts";
import { list, str } from "../../../src/cli/values.ts";
import type { Ctx } from "../../../src/context.ts";
import { dockerConfig, dockerHostConfig } from "../../../src/lifecycle/docker-config.ts";
import { resourcesToHostConfig } from "../../../src/lifecycle/record.ts";
import { parseBlkioDevice, KERNEL_MEMORY_WARNING, OOM_KILL_DISABLE_NO_MEMORY_WARNING } from "../../../src/lifecycle/run/resource-flags.ts";
import { applyPlanFlags } from "../../../src/lifecycle/run/plan-flags.ts";
import { BLKIO_DEVICE_WARNINGS, CPU_RT_UNSUPPORTED } from "../../../src/runtime/cgroups/cgroup.ts";
import { discoverV1Hierarchies, planV1 } from "../../../src/runtime/cgroups/v1.ts";
import { OOM_KILL_DISABLE_WARNING, planV2 } from "../../../src/runtime/cgroups/v2.ts";
import type { RunPlan } from "../../../src/runtime/plan.ts";
import { fakeV1, removedAfterEach } from "../runtime/cgroups/fake.ts";

const ctx = { platform: { os: "linux", architecture: "amd64" } } as unknown as Ctx;
const req = (argv: Record<string, unknown>) => buildRunRequest(ctx, { image: "busybox", network: "bridge", ...argv }, { list, str });
const hostConfigOf = async (argv: Record<string, unknown>) => {
  const r = await req(argv);
  return { ...dockerHostConfig(r, { ports: [] }), ...resourcesToHostConfig(r.resources.limits) };
};
const ID = "0123456789ab";

describe("resource flags", () => {
  test("--memory-reservation, --blkio-weight, --cpu-period, --cpu-quota: the cgroup's limits, HostConfig under Docker's names", async () => {
    const r = await req({ memory: "64m", "memory-reservation": "32m", "blkio-weight": 300, "cpu-period": 50000, "cpu-quota": 25000 });
    expect(r.resources.limits).toMatchObject({ memory: 64 * 2 ** 20, memoryReservation: 32 * 2 ** 20, blkioWeight: 300, cpuPeriod: 50000, cpuQuota: 25000 });
    const hc = await hostConfigOf({ "memory-reservation": "32m", "cpu-period": 50000, "cpu-quota": 25000, "blkio-weight": 300 });
    expect(hc).toMatchObject({ MemoryReservation: 32 * 2 ** 20, CpuPeriod: 50000, CpuQuota: 25000, NanoCpus: 0, BlkioWeight: 300 });
    // --cpus stays NanoCpus (Docker's CpuPeriod/CpuQuota 0).
    expect(await hostConfigOf({ cpus: "0.5" })).toMatchObject({ NanoCpus: 500_000_000, CpuPeriod: 0, CpuQuota: 0 });
    expect((await req({ "cpu-quota": -1 })).resources.limits.cpuQuota).toBe(-1);
  });
  test.each([
    [{ cpus: "1", "cpu-period": 50000 }, "Conflicting options: Nano CPUs and CPU Period cannot both be set"],
    [{ cpus: "1", "cpu-quota": 50000 }, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"],
    [{ "cpu-period": 999 }, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"],
    [{ "cpu-quota": 999 }, "CPU cfs quota can not be less than 1ms (i.e. 1000)"],
    [{ "memory-reservation": "1m" }, "Minimum memory reservation allowed is 6MB"],
    [{ memory: "16m", "memory-reservation": "32m" }, "Minimum memory limit can not be less than memory reservation limit, see usage"],
    [{ "blkio-weight": 5 }, "Range of blkio weight is from 10 to 1000"],
    [{ "cpu-rt-period": 1000, "cpu-rt-runtime": 2000 }, "cpu-rt-runtime cannot be higher than cpu-rt-period"],
    [{ "oom-score-adj": 1001 }, "Invalid value 1001, range for oom score adj is [-1000, 1000]"],
    [{ "cpu-count": 2 }, "Invalid QoS settings: --cpu-count is supported for Windows containers only"],
    [{ "cpu-percent": 50 }, "Invalid QoS settings: --cpu-percent is supported for Windows containers only"],
    [{ "io-maxbandwidth": "10m" }, "Invalid QoS settings: --io-maxbandwidth is supported for Windows containers only"],
    [{ "io-maxiops": "10" }, "Invalid QoS settings: --io-maxiops is supported for Windows containers only"],
    [{ "device-read-bps": ["/dev/null:1mb"] }, 'Cannot use "/dev/null" for a block I/O limit: not a block device'],
    [{ "device-write-iops": ["/dev/nosuch-td:10"] }, 'Cannot use block device "/dev/nosuch-td": ENOENT'],
  ])("%p is refused", async (argv, message) => {
    await expect(req(argv)).rejects.toThrow(message);
  });
  test("--cpu-rt-*, --oom-kill-disable, --oom-score-adj, --kernel-memory (Docker's warnings)", async () => {
    const r = await req({ "cpu-rt-period": 1000000, "cpu-rt-runtime": 5000, "oom-kill-disable": true, "oom-score-adj": -500, "kernel-memory": "50m" });
    expect(r.resources.limits).toMatchObject({ cpuRtPeriod: 1000000, cpuRtRuntime: 5000, oomKillDisable: true });
    expect(r.process.oomScoreAdj).toBe(-500);
    expect(r.warnings).toEqual([KERNEL_MEMORY_WARNING, OOM_KILL_DISABLE_NO_MEMORY_WARNING]);
    expect({ ...dockerHostConfig(r, { ports: [] }), ...resourcesToHostConfig(r.resources.limits) }).toMatchObject({
      CpuRealtimePeriod: 1000000, CpuRealtimeRuntime: 5000, OomKillDisable: true, OomScoreAdj: -500, KernelMemory: 50 * 2 ** 20,
    });
    expect((await req({ memory: "64m", "oom-kill-disable": true })).warnings).toBeUndefined();
    const plan = { mounts: [], devices: [], oomScoreAdj: null } as unknown as RunPlan;
    applyPlanFlags(plan, r);
    expect(plan.oomScoreAdj).toBe(-500);
  });
  test("DEVICE:VALUE as Docker's CLI reads it", () => {
    expect(parseBlkioDevice("/dev/sda:1mb", "bps")).toEqual({ path: "/dev/sda", value: 1048576 });
    expect(parseBlkioDevice("/dev/sda:500", "weight")).toEqual({ path: "/dev/sda", value: 500 });
    expect(parseBlkioDevice("/dev/sda:20", "iops")).toEqual({ path: "/dev/sda", value: 20 });
    expect(() => parseBlkioDevice("/dev/sda", "bps")).toThrow("bad format: /dev/sda");
    expect(() => parseBlkioDevice("sda:1", "bps")).toThrow("bad format for device path: sda:1");
    expect(() => parseBlkioDevice("/dev/sda:5", "weight")).toThrow("invalid weight for device: /dev/sda:5");
    expect(() => parseBlkioDevice("/dev/sda:x", "bps")).toThrow("invalid rate for device: /dev/sda:x. The correct format is <device-path>:<number>[<unit>]");
    expect(() => parseBlkioDevice("/dev/sda:1.5", "iops")).toThrow("invalid rate for device: /dev/sda:1.5. The correct format is <device-path>:<number>.");
  });
});

describe("the new limits in the cgroup plans", () => {
  const dev = { path: "/dev/vda", major: 254, minor: 0 };
  const devices = { weight: [{ ...dev, value: 500 }], readBps: [{ ...dev, value: 1048576 }], writeIops: [{ ...dev, value: 30 }] };
  const keep = removedAfterEach();
  test("v1: oom_control, the real-time budget (tinydock/ grown to fit), one write a device", () => {
    const { root } = keep(fakeV1({}));
    const input = { root, hierarchies: discoverV1Hierarchies(root), id: ID, allDevices: true };
    const plan = planV1({ ...input, resources: { oomKillDisable: true, cpuRtPeriod: 500000, cpuRtRuntime: 5000, blkioDevices: devices }, rt: { parentPeriod: 1000000, parentRuntime: 0, siblingsRuntime: 3000 } });
    const rel = (f: string) => path.relative(root, f);
    expect(plan.writes.map((w) => [rel(w.file), w.value, w.ifMissing])).toEqual([
      ["cpu/tinydock/cpu.rt_runtime_us", "13000", undefined],
      [`memory/tinydock/${ID}/memory.oom_control`, "1", undefined],
      [`cpu/tinydock/${ID}/cpu.rt_period_us`, "500000", undefined],
      [`cpu/tinydock/${ID}/cpu.rt_runtime_us`, "5000", undefined],
      [`blkio/tinydock/${ID}/blkio.weight_device`, "254:0 500", BLKIO_DEVICE_WARNINGS.weight],
      [`blkio/tinydock/${ID}/blkio.throttle.read_bps_device`, "254:0 1048576", BLKIO_DEVICE_WARNINGS.readBps],
      [`blkio/tinydock/${ID}/blkio.throttle.write_iops_device`, "254:0 30", BLKIO_DEVICE_WARNINGS.writeIops],
    ]);
    // A budget that fits already is left alone; no RT group scheduling is Docker's error.
    const fits = planV1({ ...input, resources: { cpuRtRuntime: 5000 }, rt: { parentPeriod: 1000000, parentRuntime: 950000, siblingsRuntime: 0 } });
    expect(fits.writes.map((w) => rel(w.file))).toEqual([`cpu/tinydock/${ID}/cpu.rt_runtime_us`]);
    expect(() => planV1({ ...input, resources: { cpuRtRuntime: 5000 }, rt: null })).toThrow(CPU_RT_UNSUPPORTED);
  });
  test("v2: io.weight and io.max lines, OomKillDisable discarded with Docker's warning, no real-time", () => {
    const base = { root: "/sys/fs/cgroup", id: ID, available: ["cpu", "io", "memory", "pids"], rootEnabled: ["cpu", "io", "memory", "pids"], parentEnabled: ["io", "memory", "pids"] };
    const plan = planV2({ ...base, resources: { oomKillDisable: true, blkioDevices: devices } });
    expect(plan.writes.map((w) => [w.file, w.value])).toEqual([
      [`/sys/fs/cgroup/tinydock/${ID}/io.weight`, "254:0 4950"],
      [`/sys/fs/cgroup/tinydock/${ID}/io.max`, "254:0 rbps=1048576"],
      [`/sys/fs/cgroup/tinydock/${ID}/io.max`, "254:0 wiops=30"],
    ]);
    expect(plan.warnings).toEqual([OOM_KILL_DISABLE_WARNING]);
    expect(() => planV2({ ...base, resources: { cpuRtRuntime: 1000 } })).toThrow(CPU_RT_UNSUPPORTED);
  });
});

describe("compat flags", () => {
  test("accepted in the one form this engine honours, shown under Docker's keys", async () => {
    const r = await req({ annotation: ["a=1", "b"], domainname: "example.test", isolation: "default", runtime: "runc", userns: "host", "volume-driver": "local", "detach-keys": "ctrl-a,x", "disable-content-trust": true });
    expect(dockerHostConfig(r, { ports: [] })).toMatchObject({ Annotations: { a: "1", b: "" }, Isolation: "default", Runtime: "runc", UsernsMode: "host", VolumeDriver: "local" });
    expect(dockerConfig(r, {}, { hostname: "h", ports: [] }).Domainname).toBe("example.test");
    expect(r.security.sysctls).toEqual([{ key: "kernel.domainname", value: "example.test", ns: "uts" }]);
  });
  test("--cgroup-parent: HostConfig.CgroupParent as given, and the cgroup's parent", async () => {
    const r = await req({ "cgroup-parent": "/mine/sub" });
    expect(dockerHostConfig(r, { ports: [] }).CgroupParent).toBe("/mine/sub");
    expect(r.resources.cgroupParent).toBe("/mine/sub");
  });
  test.each([
    [{ isolation: "hyperv" }, `Invalid isolation: "hyperv" - linux only supports 'default'`],
    [{ runtime: "kata" }, "unknown or invalid runtime name: kata"],
    [{ userns: "private" }, "invalid USER mode: private"],
    [{ "volume-driver": "nfs" }, 'error looking up volume plugin nfs: plugin "nfs" not found'],
    [{ "detach-keys": "ctrl-1" }, "Invalid detach keys (ctrl-1) provided"],
    [{ gpus: "all" }, 'could not select device driver "" with capabilities: [[gpu]]'],
    [{ "storage-opt": ["size=10G"] }, "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"],
    [{ "cgroup-parent": "/a/../b" }, 'Cannot use --cgroup-parent "/a/../b": ".." is not a plain cgroup name'],
    [{ "cgroup-parent": "/tinydock" }, 'Cannot use --cgroup-parent "/tinydock": tinydock/ holds the engine\'s own cgroups'],
    [{ ip6: "fd00::2" }, "Cannot use --ip6 fd00::2: networks here are IPv4 only"],
    [{ "use-api-socket": true }, "Cannot use --use-api-socket"],
    [{ "disable-content-trust": false }, "Cannot use --disable-content-trust=false"],
    [{ domainname: "x", uts: "host" }, "Conflicting options: domainname and the UTS mode"],
    [{ annotation: ["=v"] }, 'invalid annotation "=v": the key is empty'],
  ])("%p is refused", async (argv, message) => {
    await expect(req(argv)).rejects.toThrow(message);
  });
});

test("the host has CPUs to check against", () => expect(os.availableParallelism()).toBeGreaterThan(0));
