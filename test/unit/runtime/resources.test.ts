import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ParseError } from "../../../src/errors.ts";
import { parseMemoryBytes, parseResources, sharesToWeight, type ResourceFlags, type Resources } from "../../../src/runtime/resources.ts";
import { recordCases } from "../../helpers/adversarial.ts";

const MiB = 1024 * 1024;

describe("parseMemoryBytes: go-units RAMInBytes", () => {
  const good: [string, number][] = [
    ["1024b", 1024],
    ["1024", 1024],
    ["512k", 512 * 1024],
    ["512K", 512 * 1024],
    ["16m", 16 * MiB],
    ["16M", 16 * MiB],
    ["16mb", 16 * MiB],
    ["16MiB", 16 * MiB],
    ["16 MB", 16 * MiB],
    ["1g", 1024 * MiB],
    ["1.5g", 1536 * MiB],
    ["2t", 2 * 1024 ** 4],
    ["0", 0],
  ];
  for (const [input, want] of good) test(`${input} → ${want}`, () => expect(parseMemoryBytes(input)).toBe(want));

  const bad = ["", "12x", "-1", "m", "1.2.3g", "16 m b", "1e6", "0x10", "9999999999p"];
  for (const input of bad) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      expect(() => parseMemoryBytes(input)).toThrow(ParseError);
      expect(() => parseMemoryBytes(input)).toThrow(`Cannot parse memory "${input}": `);
    });
  }
});

describe("parseResources: Docker's flags and dockerd's checks", () => {
  const good: [string, ResourceFlags, Resources][] = [
    ["nothing", {}, {}],
    ["-m 16m: swap defaults to twice memory", { memory: "16m" }, { memory: 16 * MiB, memorySwap: 32 * MiB }],
    ["-m 6m is the minimum", { memory: "6m" }, { memory: 6 * MiB, memorySwap: 12 * MiB }],
    ["-m 0 is no limit", { memory: "0" }, {}],
    ["--memory-swap -1", { memory: "1g", memorySwap: "-1" }, { memory: 1024 * MiB, memorySwap: -1 }],
    ["--memory-swap -1 as a number", { memory: "1g", memorySwap: -1 }, { memory: 1024 * MiB, memorySwap: -1 }],
    ["--memory-swap equal to memory: no swap", { memory: "16m", memorySwap: "16m" }, { memory: 16 * MiB, memorySwap: 16 * MiB }],
    ["--memory-swap 0 is unset", { memory: "16m", memorySwap: "0" }, { memory: 16 * MiB, memorySwap: 32 * MiB }],
    ["--memory-swap -1 alone", { memorySwap: "-1" }, { memorySwap: -1 }],
    ["--memory-swappiness 0", { memorySwappiness: "0" }, { memorySwappiness: 0 }],
    ["--memory-swappiness 100", { memorySwappiness: 100 }, { memorySwappiness: 100 }],
    ["--memory-swappiness -1 is unset", { memorySwappiness: -1 }, {}],
    ["--cpus 0.5", { cpus: "0.5" }, { cpuQuota: 50_000, cpuPeriod: 100_000, nanoCpus: 500000000 }],
    ["--cpus .5", { cpus: ".5" }, { cpuQuota: 50_000, cpuPeriod: 100_000, nanoCpus: 500000000 }],
    ["--cpus 2 (all of them)", { cpus: "2" }, { cpuQuota: 200_000, cpuPeriod: 100_000, nanoCpus: 2000000000 }],
    ["--cpus 0.01 (the least)", { cpus: "0.01" }, { cpuQuota: 1_000, cpuPeriod: 100_000, nanoCpus: 10000000 }],
    ["--cpus 1.234567891", { cpus: "1.234567891" }, { cpuQuota: 123_456, cpuPeriod: 100_000, nanoCpus: 1234567891 }],
    ["--cpus 1.50000000000", { cpus: "1.50000000000" }, { cpuQuota: 150_000, cpuPeriod: 100_000, nanoCpus: 1500000000 }],
    ["--cpus 0 is unset", { cpus: "0" }, {}],
    ["--cpus as a number", { cpus: 1.5 }, { cpuQuota: 150_000, cpuPeriod: 100_000, nanoCpus: 1500000000 }],
    ["--cpu-shares 700", { cpuShares: "700" }, { cpuShares: 700 }],
    ["--cpu-shares 1 is clamped up", { cpuShares: 1 }, { cpuShares: 2 }],
    ["--cpu-shares too many is clamped down", { cpuShares: "1000000" }, { cpuShares: 262_144 }],
    ["--cpu-shares 0 is unset", { cpuShares: 0 }, {}],
    ["--cpuset-cpus 0", { cpusetCpus: "0" }, { cpusetCpus: "0" }],
    ["--cpuset-cpus 0-1", { cpusetCpus: "0-1" }, { cpusetCpus: "0-1" }],
    ["--cpuset-cpus 0,1", { cpusetCpus: "0,1" }, { cpusetCpus: "0,1" }],
    ["--cpuset-mems 0-1,3", { cpusetMems: "0-1,3" }, { cpusetMems: "0-1,3" }],
    ["--pids-limit 10", { pidsLimit: "10" }, { pidsLimit: 10 }],
    ["--pids-limit -1 is unlimited", { pidsLimit: -1 }, { pidsLimit: -1 }],
    ["--pids-limit 0 is unlimited", { pidsLimit: "0" }, { pidsLimit: -1 }],
    ["empty strings are unset", { memory: "", cpus: "", cpusetCpus: "", pidsLimit: "" }, {}],
    [
      "the integration test's flags",
      { memory: "16m", cpus: "0.5", pidsLimit: "10", cpusetCpus: "0", cpuShares: "700" },
      { memory: 16 * MiB, memorySwap: 32 * MiB, cpuQuota: 50_000, cpuPeriod: 100_000, nanoCpus: 500000000, cpuShares: 700, cpusetCpus: "0", pidsLimit: 10 },
    ],
  ];
  for (const [name, flags, want] of good) test(name, () => expect(parseResources(flags, 2)).toEqual(want));

  const bad: [ResourceFlags, string][] = [
    [{ memory: "12x" }, 'Cannot parse memory "12x": not a size like 1024b, 512k, 16m or 1g'],
    [{ memory: "4m" }, 'Cannot parse memory "4m": the minimum memory limit allowed is 6MB'],
    [{ memory: "1b" }, 'Cannot parse memory "1b": the minimum memory limit allowed is 6MB'],
    [{ memory: "16m", memorySwap: "8m" }, 'Cannot parse memory-swap "8m": must be at least the memory limit (16777216 bytes)'],
    [{ memorySwap: "1g" }, 'Cannot parse memory-swap "1g": set --memory too: swap is limited together with memory'],
    [{ memory: "16m", memorySwap: "-2" }, 'Cannot parse memory-swap "-2": not a size like 1024b, 512k, 16m or 1g'],
    [{ memory: "16m", memorySwap: "lots" }, 'Cannot parse memory-swap "lots": not a size'],
    [{ memorySwappiness: "101" }, 'Cannot parse memory-swappiness "101": valid memory swappiness range is 0-100'],
    [{ memorySwappiness: -2 }, 'Cannot parse memory-swappiness "-2": valid memory swappiness range is 0-100'],
    [{ memorySwappiness: "ten" }, 'Cannot parse memory-swappiness "ten": not an integer'],
    [{ memorySwappiness: Number.NaN }, 'Cannot parse memory-swappiness "NaN": not an integer'],
    [{ cpus: "3" }, 'Cannot parse cpus "3": range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available'],
    [{ cpus: "2.001" }, 'Cannot parse cpus "2.001": range of CPUs is from 0.01 to 2.00'],
    [{ cpus: "0.001" }, 'Cannot parse cpus "0.001": range of CPUs is from 0.01 to 2.00'],
    [{ cpus: "-1" }, 'Cannot parse cpus "-1": not a decimal number of CPUs'],
    [{ cpus: "half" }, 'Cannot parse cpus "half": not a decimal'],
    [{ cpus: "." }, 'Cannot parse cpus ".": not a decimal'],
    [{ cpus: "1/2" }, 'Cannot parse cpus "1/2": not a decimal'],
    [{ cpus: "0.0000000001" }, 'Cannot parse cpus "0.0000000001": value is too precise'],
    [{ cpuShares: "1.5" }, 'Cannot parse cpu-shares "1.5": not an integer'],
    [{ cpuShares: Number.NaN }, 'Cannot parse cpu-shares "NaN": not an integer'],
    [{ cpusetCpus: "0-" }, 'Cannot parse cpuset-cpus "0-": "0-" is not a number or a range like 0-3'],
    [{ cpusetCpus: "1-0" }, 'Cannot parse cpuset-cpus "1-0": range "1-0" ends before it starts'],
    [{ cpusetCpus: "0,,1" }, 'Cannot parse cpuset-cpus "0,,1": "" is not a number'],
    [{ cpusetCpus: "a" }, 'Cannot parse cpuset-cpus "a": "a" is not a number'],
    [{ cpusetCpus: "0-3" }, 'Cannot parse cpuset-cpus "0-3": requested CPUs are not available, there are only 2 (0-1)'],
    [{ cpusetMems: "0 1" }, 'Cannot parse cpuset-mems "0 1": "0 1" is not a number'],
    [{ pidsLimit: "ten" }, 'Cannot parse pids-limit "ten": not an integer'],
    [{ pidsLimit: "1e3" }, 'Cannot parse pids-limit "1e3": not an integer'],
  ];
  for (const [flags, message] of bad) {
    test(`rejects ${JSON.stringify(flags)}`, () => {
      let err: unknown;
      try {
        parseResources(flags, 2);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ParseError);
      expect((err as Error).message).toStartWith(message);
      expect((err as Error).message).not.toContain("\n");
    });
  }

  test("the CPU range follows the host", () => {
    expect(() => parseResources({ cpus: "5" }, 4)).toThrow("from 0.01 to 4.00, as there are only 4 CPUs available");
    expect(parseResources({ cpus: "4", cpusetCpus: "3" }, 4)).toEqual({ cpuQuota: 400_000, cpuPeriod: 100_000, nanoCpus: 4000000000, cpusetCpus: "3" });
  });

  test("any string in any flag either parses or throws a ParseError naming the flag", () => {
    const keys = ["memory", "memorySwap", "memorySwappiness", "cpus", "cpuShares", "cpusetCpus", "cpusetMems", "pidsLimit"] as const;
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.string(), (key, value) => {
        try {
          parseResources({ [key]: value }, 2);
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
          if (!/^Cannot parse [a-z-]+ ".*": .+$/s.test(err.message)) throw new Error(`bad message: ${err.message}`);
        }
      }),
    );
    recordCases("property unit/runtime/resources.test.ts: any string in any flag either parses or throws a ParseError naming the flag", 100);
  });
});

describe("sharesToWeight: runc's cpu.shares → cpu.weight", () => {
  const table: [number, number][] = [
    [0, 0],
    [2, 1],
    [700, 27],
    [1024, 39],
    [262_144, 10_000],
  ];
  for (const [shares, weight] of table) test(`${shares} → ${weight}`, () => expect(sharesToWeight(shares)).toBe(weight));
});
