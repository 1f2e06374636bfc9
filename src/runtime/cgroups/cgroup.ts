// The one interface over cgroup v1 and v2 (habit 10): src/runtime/cgroups/v1.ts and v2.ts
// implement it, detect.ts picks one. Every container's cgroup is named tinydock/<id>, or
// <parent>/tinydock-<id> under a --cgroup-parent: its name says whose it is either way.
import path from "node:path";
import { InvalidArgumentError } from "../../errors.ts";
import type { Sys } from "../../sys/sys.ts";
import type { Resources } from "../resources.ts";
import type { DeviceRule } from "./devices.ts";

/** The directory under each hierarchy (v1) or the v2 root that holds every container's cgroup. */
export const CGROUP_PARENT = "tinydock";

export interface CgroupStats {
  /** Bytes in use, less inactive page cache (what `docker stats` shows). */
  memoryUsage: number;
  /** Bytes; Infinity when unlimited. */
  memoryLimit: number;
  pids: number;
  cpuUsageNs: number;
}

export interface CgroupOptions {
  /** How long destroy() waits for killed processes to leave and rmdir to stop answering EBUSY (ms). */
  settleMs?: number;
  /** Loads and attaches v2 device programs; a v2 manager without it refuses to create a cgroup
   * (unless every device is allowed) rather than leave the devices open. */
  sys?: Pick<Sys, "attachDeviceFilter"> & Partial<Pick<Sys, "pidfdOpen" | "pidfdSendSignal">>;
}

export const DEFAULT_SETTLE_MS = 3_000;

export interface CreateOptions {
  /** --privileged: no device cgroup rules (v1) nor device program (v2), every device allowed as in Docker. */
  allDevices?: boolean;
  /** Allowed besides Docker's list (--device), after it. */
  devices?: DeviceRule[];
  /** --cgroup-parent, checked by checkCgroupParent: the cgroup is <parent>/tinydock-<id>. */
  parent?: string;
}

export interface Cgroup {
  id: string;
  /** The cgroup.procs files the container's init writes its pid into (→ RunPlan.cgroupProcs). */
  procsFiles: string[];
  /** Limits the kernel could not take and that were left out, in Docker's wording (swap accounting off…). */
  warnings: string[];
  /** v2: memory.events oom_kill > 0; v1: memory.oom_control oom_kill > 0. */
  oomKilled(): boolean;
  stats(): CgroupStats;
  /**
   * `update`: writes the limits `r` sets into the cgroup as it is (enabling a v2 controller it lacks),
   * v1's memory and memory+swap in the order the kernel takes them; returns what it left out.
   */
  update(r: Resources): string[];
  /** Every process in the cgroup (and cgroups below it), sorted. */
  pids(): number[];
  /** Kills what is left (kill.ts: v2's cgroup.kill when present; else freeze, pidfds, SIGKILL, thaw), then
   * rmdir, retrying EBUSY briefly; removes tinydock/ too when it is left empty. Idempotent. */
  destroy(): void;
}

export interface CgroupManager {
  version: 1 | 2;
  /** Where the hierarchies are: the v2 mount, or the directory holding the v1 mounts. */
  root: string;
  /**
   * Creates tinydock/<id> (in every hierarchy on v1) and applies the limits. Right after the mkdirs it
   * starts, in the background, the kernel's wait that the first migration into it costs (primeJoin).
   */
  create(id: string, r: Resources, opts?: CreateOptions): Cgroup;
  /** A handle on tinydock/<id> (or <parent>/tinydock-<id>) whether or not it exists (stats, pause or cleanup from another process). */
  open(id: string, parent?: string): Cgroup;
  /** Every tinydock/<id> cgroup that exists (leak checks, orphan cleanup), sorted. */
  list(): string[];
}

/** One write into a cgroup file: the plans of v1.ts and v2.ts are lists of these (habit 6). */
export interface CgroupWrite {
  file: string;
  value: string;
  /** When set, a missing file is not an error: the write is skipped and this warning kept. */
  ifMissing?: string;
}

export interface CgroupPlan {
  writes: CgroupWrite[];
  warnings: string[];
}

/**
 * Which controller each limit needs ([controller, what the limit is called]): a limit the host cannot
 * enforce is an error, not a silent no-op. `swappiness`: whether the version sets memory.swappiness
 * (v2 has none; it warns and discards the flag).
 */
export function neededControllers(r: Resources, swappiness: boolean): [string, string][] {
  const out: [string, string][] = [];
  const v1Only = swappiness && (r.memorySwappiness !== undefined || r.oomKillDisable === true);
  if (r.memory !== undefined || (r.memorySwap ?? -1) > 0 || r.memoryReservation !== undefined || v1Only) {
    out.push(["memory", "memory limit"]);
  }
  if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined || r.cpuShares !== undefined || r.cpuRtPeriod !== undefined || r.cpuRtRuntime !== undefined) out.push(["cpu", "CPU limit"]);
  if (r.cpusetCpus !== undefined || r.cpusetMems !== undefined) out.push(["cpuset", "cpuset"]);
  if (r.pidsLimit !== undefined && r.pidsLimit > 0) out.push(["pids", "pids limit"]);
  return out;
}

/** What one cgroup version does; cgroupManager adds what both share around it. */
export interface CgroupVersion {
  version: 1 | 2;
  root: string;
  /** A handle on the cgroup at `rel` (cgroupLeaf) under the root or each hierarchy, whether or not it exists. */
  open(id: string, rel: string): Cgroup;
  /**
   * Checks that the host can enforce `r` (throwing before anything is made) and returns what makes
   * the cgroup at `rel` and applies the limits, with the warnings of what it left out.
   */
  prepare(id: string, rel: string, r: Resources, opts: CreateOptions): () => string[];
  list(): string[];
}

/** Docker's warning when the host cannot take --blkio-weight (the limit is left out). */
export const BLKIO_WEIGHT_WARNING = "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.";

/** Docker's warnings when the host cannot take a per-device block I/O limit (it is left out). */
export const BLKIO_DEVICE_WARNINGS = {
  weight: "Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.",
  readBps: "Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.",
  writeBps: "Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.",
  readIops: "Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.",
  writeIops: "Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.",
} as const;

/** v1's file for each per-device limit. */
export const BLKIO_DEVICE_FILES_V1 = {
  weight: "blkio.weight_device",
  readBps: "blkio.throttle.read_bps_device",
  writeBps: "blkio.throttle.write_bps_device",
  readIops: "blkio.throttle.read_iops_device",
  writeIops: "blkio.throttle.write_iops_device",
} as const;

/** Docker's error when the kernel has no real-time group scheduling (or on cgroup v2, which has none). */
export const CPU_RT_UNSUPPORTED = "Your kernel does not support CPU real-time scheduler";

/** A manager over one version: ids checked, and a create that fails half-way destroys what it made. */
export function cgroupManager(v: CgroupVersion): CgroupManager {
  return {
    version: v.version,
    root: v.root,
    create(id: string, r: Resources, opts: CreateOptions = {}): Cgroup {
      checkCgroupId(id);
      const rel = cgroupLeaf(id, opts.parent);
      const make = v.prepare(id, rel, r, opts);
      const cg = v.open(id, rel);
      try {
        cg.warnings = make();
        return cg;
      } catch (err) {
        try {
          cg.destroy();
        } catch {}
        throw err;
      }
    },
    open(id: string, parent?: string): Cgroup {
      checkCgroupId(id);
      return v.open(id, cgroupLeaf(id, parent));
    },
    list: () => v.list(),
  };
}

/** A container id becomes a directory name in every hierarchy: one plain path component only. */
export function checkCgroupId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id)) {
    throw new InvalidArgumentError(`Cannot create cgroup "${id}": a cgroup id is letters, digits, "_", "." and "-" (at most 128)`);
  }
}

/**
 * Where a container's cgroup is, relative to the v2 root or each v1 hierarchy: tinydock/<id>, or
 * under a --cgroup-parent <parent>/tinydock-<id> (Docker's cgroupfs driver makes <parent>/<id>;
 * the prefix keeps the name that leak checks and a person find tinydock's cgroups by).
 */
export function cgroupLeaf(id: string, parent?: string): string {
  return parent ? path.posix.join(checkCgroupParent(parent), `${CGROUP_PARENT}-${id}`) : path.posix.join(CGROUP_PARENT, id);
}

/**
 * --cgroup-parent as a path under the root: absolute or not alike (no daemon's cgroup to be relative
 * to), each component a plain name, none "." or "..", and not inside tinydock/ (whose children are
 * containers by id, the engine's to clean up). Returns it without its leading and trailing "/".
 */
export function checkCgroupParent(parent: string): string {
  const parts = parent.split("/").filter((p) => p !== "");
  const bad = (why: string) => new InvalidArgumentError(`Cannot use --cgroup-parent "${parent}": ${why}`);
  if (parts.length === 0) throw bad("it names no cgroup");
  for (const p of parts) if (p === "." || p === ".." || !/^[A-Za-z0-9_.@:-]{1,255}$/.test(p)) throw bad(`"${p}" is not a plain cgroup name`);
  if (parts[0] === CGROUP_PARENT) throw bad(`${CGROUP_PARENT}/ holds the engine's own cgroups`);
  return parts.join("/");
}
