// Docker's resource flags (-m, --memory-swap, --memory-swappiness, --cpus, --cpu-shares,
// --cpuset-cpus, --cpuset-mems, --pids-limit) → the limits a cgroup gets. Pure: the host's CPU
// count comes in as a number. The result is what dockerd would hold after its own defaults
// (daemon_unix.go adaptContainerSettings), so the cgroup layer writes it as it is.
import { ParseError } from "../errors.ts";

export interface Resources {
  /** Bytes (memory.limit_in_bytes / memory.max). */
  memory?: number;
  /** Memory plus swap, in bytes; -1 = unlimited swap. */
  memorySwap?: number;
  /** 0–100 (cgroup v1 only). */
  memorySwappiness?: number;
  /** Microseconds of CPU per period (cpu.cfs_quota_us / the first half of cpu.max). */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** 2–262144 (cpu.shares; v2 converts it to cpu.weight with sharesToWeight). */
  cpuShares?: number;
  /** A CPU list as the kernel takes it: "0-1,3". */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** A number of tasks; -1 = unlimited. */
  pidsLimit?: number;
  /** Bytes: the soft limit (memory.soft_limit_in_bytes / memory.low). */
  memoryReservation?: number;
  /** 10–1000 (blkio.weight; v2 converts it to io.weight with blkioToIoWeight). */
  blkioWeight?: number;
  /** --cpus as given (HostConfig.NanoCpus): cpuQuota/cpuPeriod hold what it becomes; no file of its own. */
  nanoCpus?: number;
  /** Microseconds (cpu.rt_period_us / cpu.rt_runtime_us; v1 only). */
  cpuRtPeriod?: number;
  cpuRtRuntime?: number;
  /** memory.oom_control = 1 (v1 only). */
  oomKillDisable?: boolean;
  /** Per block device: --blkio-weight-device (10–1000) and the throttles (bytes or IOs per second). */
  blkioDevices?: BlkioDeviceLimits;
}

/** A block device's limit: the node's major:minor (its path kept for HostConfig). */
export interface BlkioDeviceValue {
  path: string;
  major: number;
  minor: number;
  value: number;
}

export interface BlkioDeviceLimits {
  weight?: BlkioDeviceValue[];
  readBps?: BlkioDeviceValue[];
  writeBps?: BlkioDeviceValue[];
  readIops?: BlkioDeviceValue[];
  writeIops?: BlkioDeviceValue[];
}

/** The flags as the CLI hands them over: strings, or numbers when yargs parsed them (maybe NaN). */
export interface ResourceFlags {
  memory?: string | number;
  memorySwap?: string | number;
  memorySwappiness?: string | number;
  cpus?: string | number;
  cpuShares?: string | number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string | number;
}

/** Docker's linuxMinMemory. */
export const MIN_MEMORY = 6 * 1024 * 1024;
/** Docker's --cpus is turned into a quota over this period (daemon/oci_linux.go). */
export const CPU_PERIOD_US = 100_000;
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262_144;

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

function fail(flag: string, input: string, reason: string): never {
  throw new ParseError(`Cannot parse ${flag} "${input}": ${reason}`);
}

/** go-units RAMInBytes: "16m", "1.5g", "512k", "1024b", "64MiB", "16 MB", plain bytes; binary units. */
export function parseMemoryBytes(input: string, flag = "memory"): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(input);
  if (!m) fail(flag, input, "not a size like 1024b, 512k, 16m or 1g");
  const bytes = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? "").toLowerCase()] ?? 1));
  if (!Number.isSafeInteger(bytes)) fail(flag, input, "size is too large");
  return bytes;
}

function integer(flag: string, input: string): number {
  if (!/^[-+]?\d+$/.test(input)) fail(flag, input, "not an integer");
  const n = Number(input);
  if (!Number.isSafeInteger(n)) fail(flag, input, "integer is too large");
  return n;
}

/** --cpus as Docker's ParseCPUs: an exact decimal → nano-CPUs (as bigint, so nothing rounds). */
export function parseNanoCpus(input: string): bigint {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(input);
  if (!m || (m[1] === "" && (m[2] ?? "") === "")) fail("cpus", input, "not a decimal number of CPUs like 0.5 or 2");
  const frac = (m[2] ?? "").replace(/0+$/, "");
  if (frac.length > 9) fail("cpus", input, "value is too precise");
  return BigInt(m[1] || "0") * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
}

/** "0-1,3" as Docker's parsers.ParseUintList; returns the highest number named. */
export function parseUintList(flag: string, input: string): number {
  let max = -1;
  for (const part of input.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) fail(flag, input, `"${part}" is not a number or a range like 0-3`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (!Number.isSafeInteger(hi)) fail(flag, input, `"${part}" is out of range`);
    if (hi < lo) fail(flag, input, `range "${part}" ends before it starts`);
    max = Math.max(max, hi);
  }
  return max;
}

function text(v: string | number | undefined): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === "number" ? String(v) : v.trim();
}

/** Docker's flags → cgroup limits, with dockerd's checks and defaults. `hostCpus`: CPUs available. */
export function parseResources(flags: ResourceFlags, hostCpus: number): Resources {
  const r: Resources = {};

  const memory = text(flags.memory);
  if (memory !== undefined && memory !== "") {
    const bytes = parseMemoryBytes(memory, "memory");
    if (bytes > 0 && bytes < MIN_MEMORY) fail("memory", memory, "the minimum memory limit allowed is 6MB");
    if (bytes > 0) r.memory = bytes; // 0 means no limit, as in Docker
  }

  const swap = text(flags.memorySwap);
  if (swap !== undefined && swap !== "" && swap !== "0") {
    const bytes = swap === "-1" ? -1 : parseMemoryBytes(swap, "memory-swap");
    if (bytes > 0) {
      if (r.memory === undefined) fail("memory-swap", swap, "set --memory too: swap is limited together with memory");
      if (bytes < r.memory) fail("memory-swap", swap, `must be at least the memory limit (${r.memory} bytes)`);
    }
    if (bytes !== 0) r.memorySwap = bytes;
  }
  // dockerd: "By default, MemorySwap is set to twice the size of Memory."
  if (r.memory !== undefined && r.memorySwap === undefined) r.memorySwap = r.memory * 2;

  const swappiness = text(flags.memorySwappiness);
  if (swappiness !== undefined && swappiness !== "") {
    const n = integer("memory-swappiness", swappiness);
    if (n !== -1) {
      // -1 is Docker's "unset"
      if (n < 0 || n > 100) fail("memory-swappiness", swappiness, "valid memory swappiness range is 0-100");
      r.memorySwappiness = n;
    }
  }

  const cpus = text(flags.cpus);
  if (cpus !== undefined && cpus !== "") {
    const nano = parseNanoCpus(cpus);
    if (nano !== 0n) {
      if (nano < 10_000_000n || nano > BigInt(hostCpus) * 1_000_000_000n) {
        fail("cpus", cpus, `range of CPUs is from 0.01 to ${hostCpus}.00, as there are only ${hostCpus} CPUs available`);
      }
      r.cpuPeriod = CPU_PERIOD_US;
      r.cpuQuota = Number((nano * BigInt(CPU_PERIOD_US)) / 1_000_000_000n);
      r.nanoCpus = Number(nano);
    }
  }

  const shares = text(flags.cpuShares);
  if (shares !== undefined && shares !== "") {
    const n = integer("cpu-shares", shares);
    // dockerd clamps to the kernel's range instead of refusing; 0 is "unset".
    if (n !== 0) r.cpuShares = Math.min(MAX_CPU_SHARES, Math.max(MIN_CPU_SHARES, n));
  }

  const cpusetCpus = text(flags.cpusetCpus);
  if (cpusetCpus !== undefined && cpusetCpus !== "") {
    const max = parseUintList("cpuset-cpus", cpusetCpus);
    if (max >= hostCpus) {
      fail("cpuset-cpus", cpusetCpus, `requested CPUs are not available, there are only ${hostCpus} (0-${hostCpus - 1})`);
    }
    r.cpusetCpus = cpusetCpus;
  }
  const cpusetMems = text(flags.cpusetMems);
  if (cpusetMems !== undefined && cpusetMems !== "") {
    parseUintList("cpuset-mems", cpusetMems);
    r.cpusetMems = cpusetMems;
  }

  const pids = text(flags.pidsLimit);
  if (pids !== undefined && pids !== "") {
    const n = integer("pids-limit", pids);
    r.pidsLimit = n <= 0 ? -1 : n; // Docker: 0 or -1 (any n ≤ 0) is unlimited
  }
  return r;
}

/** blkio.weight → cgroup v2 io.weight, as runc's ConvertBlkIOToIOWeightValue. */
export function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** cpu.shares → cgroup v2 cpu.weight, as runc's ConvertCPUSharesToCgroupV2Value. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262_142);
}
