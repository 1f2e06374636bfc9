// `update`'s resource flags → the HostConfig fields they change, with dockerd's checks (daemon
// verifyPlatformContainerResources with update=true), and their merge into a container's HostConfig
// (container.UpdateContainer): a field given as 0 or "" is not given, and CPU limits set as --cpus
// cannot be changed as a period or quota (nor the reverse). Pure: the host's CPU count comes in.
import { InvalidArgumentError, ParseError } from "../errors.ts";
import { CPU_PERIOD_US, MAX_CPU_SHARES, MIN_CPU_SHARES, MIN_MEMORY, parseMemoryBytes, parseNanoCpus, parseUintList } from "./resources.ts";

/** The resource fields of Docker's HostConfig that `update` can change. */
export interface HostResources {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  /** -1 (or ≤ 0): unlimited. */
  PidsLimit?: number;
  BlkioWeight?: number;
}

export const HOST_RESOURCE_KEYS: readonly (keyof HostResources)[] = [
  "Memory",
  "MemorySwap",
  "MemoryReservation",
  "NanoCpus",
  "CpuShares",
  "CpuPeriod",
  "CpuQuota",
  "CpusetCpus",
  "CpusetMems",
  "PidsLimit",
  "BlkioWeight",
];

export interface ResourceUpdateFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

function int(flag: string, input: string): number {
  if (!/^[-+]?\d+$/.test(input.trim()) || !Number.isSafeInteger(Number(input))) throw new ParseError(`invalid argument "${input}" for "--${flag}" flag: not an integer`);
  return Number(input);
}

const invalid = (msg: string): never => {
  throw new InvalidArgumentError(msg);
};

/** The fields the flags set (Docker reads 0 and "" as not set, but --pids-limit as set whatever its value). */
export function parseResourceUpdate(f: ResourceUpdateFlags, hostCpus: number): HostResources {
  const u: HostResources = {};
  const set = <K extends keyof HostResources>(k: K, v: HostResources[K]) => {
    if (v !== 0 && v !== "") u[k] = v;
  };
  if (f.memory !== undefined) set("Memory", parseMemoryBytes(f.memory, "memory"));
  if (f.memorySwap !== undefined) set("MemorySwap", f.memorySwap.trim() === "-1" ? -1 : parseMemoryBytes(f.memorySwap, "memory-swap"));
  if (f.memoryReservation !== undefined) set("MemoryReservation", parseMemoryBytes(f.memoryReservation, "memory-reservation"));
  if (f.cpus !== undefined) set("NanoCpus", Number(parseNanoCpus(f.cpus)));
  if (f.cpuShares !== undefined) {
    const n = int("cpu-shares", f.cpuShares);
    set("CpuShares", n === 0 ? 0 : Math.min(MAX_CPU_SHARES, Math.max(MIN_CPU_SHARES, n)));
  }
  if (f.cpuPeriod !== undefined) set("CpuPeriod", int("cpu-period", f.cpuPeriod));
  if (f.cpuQuota !== undefined) set("CpuQuota", int("cpu-quota", f.cpuQuota));
  if (f.cpusetCpus !== undefined) set("CpusetCpus", f.cpusetCpus.trim());
  if (f.cpusetMems !== undefined) set("CpusetMems", f.cpusetMems.trim());
  if (f.pidsLimit !== undefined) u.PidsLimit = Math.max(-1, int("pids-limit", f.pidsLimit)) || -1;
  if (f.blkioWeight !== undefined) set("BlkioWeight", int("blkio-weight", f.blkioWeight));

  // dockerd's checks, in its words and order.
  if (u.Memory !== undefined && u.Memory < MIN_MEMORY) invalid("Minimum memory limit allowed is 6MB");
  if (u.Memory !== undefined && (u.MemorySwap ?? 0) > 0 && u.MemorySwap! < u.Memory) invalid("Minimum memoryswap limit should be larger than memory limit, see usage");
  if (u.MemoryReservation !== undefined && u.MemoryReservation < MIN_MEMORY) invalid("Minimum memory reservation allowed is 6MB");
  if (u.Memory !== undefined && u.MemoryReservation !== undefined && u.Memory < u.MemoryReservation) {
    invalid("Minimum memory limit can not be less than memory reservation limit, see usage");
  }
  if (u.NanoCpus !== undefined && u.CpuPeriod !== undefined) invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (u.NanoCpus !== undefined && u.CpuQuota !== undefined) invalid("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (u.NanoCpus !== undefined && (u.NanoCpus < 10_000_000 || u.NanoCpus > hostCpus * 1e9)) {
    invalid(`Range of CPUs is from 0.01 to ${hostCpus}.00, as there are only ${hostCpus} CPUs available`);
  }
  if (u.CpuPeriod !== undefined && (u.CpuPeriod < 1000 || u.CpuPeriod > 1_000_000)) invalid("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  if (u.CpuQuota !== undefined && u.CpuQuota > 0 && u.CpuQuota < 1000) invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (u.CpusetCpus !== undefined && parseUintList("cpuset-cpus", u.CpusetCpus) >= hostCpus) {
    invalid(`Requested CPUs are not available - requested ${u.CpusetCpus}, available: ${hostCpus === 1 ? "0" : `0-${hostCpus - 1}`}`);
  }
  if (u.CpusetMems !== undefined) parseUintList("cpuset-mems", u.CpusetMems);
  if (u.BlkioWeight !== undefined && (u.BlkioWeight < 10 || u.BlkioWeight > 1000)) invalid("Range of blkio weight is from 10 to 1000");
  return u;
}

/** `current` with update `u` applied as dockerd applies it; throws its conflicts (the caller adds "Cannot update container ID: "). */
export function mergeResourceUpdate(current: HostResources, u: HostResources): HostResources {
  const has = (v: number | undefined) => (v ?? 0) > 0;
  if (u.NanoCpus !== undefined && has(current.CpuPeriod)) invalid("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
  if (u.NanoCpus !== undefined && has(current.CpuQuota)) invalid("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
  if (u.CpuPeriod !== undefined && has(current.NanoCpus)) invalid("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
  if (u.CpuQuota !== undefined && has(current.NanoCpus)) invalid("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
  // A memory limit above the swap limit the container has, without a new swap limit: refused, even
  // when that swap limit is 0 (none), as dockerd does.
  if (u.Memory !== undefined && u.MemorySwap === undefined && u.Memory > (current.MemorySwap ?? 0)) {
    invalid("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
  }
  return { ...current, ...u };
}

/** The HostConfig fields, as the cgroup layer's Resources take them (--cpus as a quota of the default period). */
export function cpuLimitOf(h: HostResources): { cpuQuota?: number; cpuPeriod?: number } {
  if ((h.NanoCpus ?? 0) > 0) return { cpuPeriod: CPU_PERIOD_US, cpuQuota: Math.round((h.NanoCpus! * CPU_PERIOD_US) / 1e9) };
  return { ...((h.CpuQuota ?? 0) !== 0 ? { cpuQuota: h.CpuQuota! } : {}), ...((h.CpuPeriod ?? 0) > 0 ? { cpuPeriod: h.CpuPeriod! } : {}) };
}
