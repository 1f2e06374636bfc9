// `update`'s flags and their merge into a container's HostConfig, in dockerd's words.
import { describe, expect, test } from "bun:test";
import { cpuLimitOf, mergeResourceUpdate, parseResourceUpdate } from "../../../src/runtime/resource-update.ts";

describe("parseResourceUpdate", () => {
  test("the fields the flags set; 0 and empty are not set, --pids-limit ≤ 0 is unlimited", () => {
    expect(parseResourceUpdate({ memory: "300M", memorySwap: "-1", cpus: "1.5", cpuShares: "512", pidsLimit: "0", cpusetCpus: "", blkioWeight: "0" }, 2)).toEqual({
      Memory: 300 * 1024 * 1024,
      MemorySwap: -1,
      NanoCpus: 1_500_000_000,
      CpuShares: 512,
      PidsLimit: -1,
    });
  });

  const refused: [Parameters<typeof parseResourceUpdate>[0], string][] = [
    [{ memory: "4m" }, "Minimum memory limit allowed is 6MB"],
    [{ memory: "100m", memorySwap: "50m" }, "Minimum memoryswap limit should be larger than memory limit, see usage"],
    [{ memoryReservation: "1m" }, "Minimum memory reservation allowed is 6MB"],
    [{ memory: "10m", memoryReservation: "20m" }, "Minimum memory limit can not be less than memory reservation limit, see usage"],
    [{ cpus: "1", cpuPeriod: "100000" }, "Conflicting options: Nano CPUs and CPU Period cannot both be set"],
    [{ cpus: "1", cpuQuota: "50000" }, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"],
    [{ cpus: "3" }, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"],
    [{ cpuPeriod: "500" }, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"],
    [{ cpuQuota: "999" }, "CPU cfs quota can not be less than 1ms (i.e. 1000)"],
    [{ cpusetCpus: "0-2" }, "Requested CPUs are not available - requested 0-2, available: 0-1"],
    [{ blkioWeight: "5" }, "Range of blkio weight is from 10 to 1000"],
  ];
  for (const [flags, message] of refused) {
    test(`refused: ${JSON.stringify(flags)}`, () => expect(() => parseResourceUpdate(flags, 2)).toThrow(message));
  }
});

describe("mergeResourceUpdate", () => {
  test("the update over what the container has", () => {
    expect(mergeResourceUpdate({ Memory: 64, MemorySwap: 128, CpuShares: 100 }, { Memory: 100, PidsLimit: 5 })).toEqual({ Memory: 100, MemorySwap: 128, CpuShares: 100, PidsLimit: 5 });
  });
  test("a memory limit above the swap limit there is needs a new swap limit, even when there is none", () => {
    const msg = "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time";
    expect(() => mergeResourceUpdate({}, { Memory: 100 })).toThrow(msg);
    expect(() => mergeResourceUpdate({ Memory: 64, MemorySwap: 128 }, { Memory: 200 })).toThrow(msg);
    expect(mergeResourceUpdate({}, { Memory: 100, MemorySwap: -1 })).toEqual({ Memory: 100, MemorySwap: -1 });
  });
  test("--cpus and a CFS period or quota exclude each other across updates", () => {
    expect(() => mergeResourceUpdate({ NanoCpus: 5e8 }, { CpuQuota: 20000 })).toThrow("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
    expect(() => mergeResourceUpdate({ NanoCpus: 5e8 }, { CpuPeriod: 20000 })).toThrow("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
    expect(() => mergeResourceUpdate({ CpuQuota: 20000 }, { NanoCpus: 1e9 })).toThrow("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
    expect(() => mergeResourceUpdate({ CpuPeriod: 20000 }, { NanoCpus: 1e9 })).toThrow("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
  });
  test("cpuLimitOf: --cpus as a quota of the default period, else the CFS fields as they are", () => {
    expect(cpuLimitOf({ NanoCpus: 5e8 })).toEqual({ cpuPeriod: 100_000, cpuQuota: 50_000 });
    expect(cpuLimitOf({ CpuQuota: 30_000, CpuPeriod: 60_000 })).toEqual({ cpuQuota: 30_000, cpuPeriod: 60_000 });
    expect(cpuLimitOf({ CpuPeriod: 60_000 })).toEqual({ cpuPeriod: 60_000 });
  });
});
