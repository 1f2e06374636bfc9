// cgroup v1: one hierarchy per mounted directory under the root (cpu, memory, …, name=systemd);
// a container gets tinydock/<id> in every one of them, so the freezer (pause), cpuacct (stats)
// and devices work whatever limits it has.
import fs from "node:fs";
import path from "node:path";
import { dirNames } from "../../atomic.ts";
import { errnoCode, FailedPreconditionError, UnavailableError } from "../../errors.ts";
import type { Resources } from "../resources.ts";
import {
  BLKIO_DEVICE_FILES_V1,
  BLKIO_DEVICE_WARNINGS,
  BLKIO_WEIGHT_WARNING,
  CGROUP_PARENT,
  CPU_RT_UNSUPPORTED,
  cgroupManager,
  type Cgroup,
  type CgroupManager,
  type CgroupOptions,
  DEFAULT_SETTLE_MS,
  neededControllers,
  type CgroupPlan,
  type CgroupStats,
  type CgroupWrite,
} from "./cgroup.ts";
import {
  applyWrites,
  childCgroups,
  exists,
  makeCgroupDir,
  pidsBelow,
  primeJoin,
  readControl,
  removeCgroupDir,
  removeIfEmpty,
  writeControl,
} from "./cgroupfs.ts";
import { killCgroup, pidfdSys, type PidfdSys } from "./kill.ts";
import { DOCKER_DEVICE_RULES, v1DeviceWrites, type DeviceRule } from "./devices.ts";
import { parseKeyedFile, parseLimitValue } from "./files.ts";

export interface V1Hierarchy {
  /** Where it is mounted: root/<name>. */
  dir: string;
  /** Controller names, from the directory's name and the symlinks to it ("cpu,cpuacct" → cpu, cpuacct). */
  controllers: string[];
}

export const SWAP_WARNING = "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.";

/**
 * The v1 hierarchies mounted under root: directories (or symlinks to them) with a cgroup.procs.
 * A cgroup2 mount among them (a hybrid host's "unified") has cgroup.controllers and is skipped.
 */
export function discoverV1Hierarchies(root: string): V1Hierarchy[] {
  const names = dirNames(root).sort();
  const byReal = new Map<string, { dir?: string; link?: string; controllers: Set<string> }>();
  // A directory's real path is the root's and its name: only the symlinks (cpu → cpu,cpuacct) are
  // resolved, 3 system calls a hierarchy instead of 7.
  let realRoot: string | undefined;
  for (const name of names) {
    const p = path.join(root, name);
    let real: string;
    let link: boolean;
    try {
      const st = fs.lstatSync(p);
      link = st.isSymbolicLink();
      if (link) {
        if (!fs.statSync(p).isDirectory()) continue;
        real = fs.realpathSync(p);
      } else if (st.isDirectory()) real = path.join((realRoot ??= fs.realpathSync(root)), name);
      else continue;
    } catch {
      continue;
    }
    if (exists(path.join(p, "cgroup.controllers")) || !exists(path.join(p, "cgroup.procs"))) continue;
    const entry = byReal.get(real) ?? { controllers: new Set<string>() };
    if (link) entry.link ??= p;
    else entry.dir = p;
    for (const c of name.split(",")) entry.controllers.add(c);
    byReal.set(real, entry);
  }
  return [...byReal.values()].map((e) => ({ dir: (e.dir ?? e.link)!, controllers: [...e.controllers].sort() }));
}

export function checkV1Controllers(root: string, hierarchies: V1Hierarchy[], r: Resources): void {
  for (const [controller, what] of neededControllers(r, true)) {
    if (!hierarchies.some((h) => h.controllers.includes(controller))) {
      throw new FailedPreconditionError(`Cannot set ${what}: no ${controller} cgroup hierarchy is mounted under ${root}`);
    }
  }
}

export interface V1PlanInput {
  root: string;
  hierarchies: V1Hierarchy[];
  id: string;
  resources: Resources;
  allDevices: boolean;
  /** --device rules, allowed after Docker's. */
  devices?: DeviceRule[];
  /** The cpuset hierarchy's root and tinydock/ values now ("" where tinydock/ is fresh; the root's "" where tinydock/'s are set). */
  cpuset?: { rootCpus: string; rootMems: string; parentCpus: string; parentMems: string };
  /** Where the cgroup is under each hierarchy (cgroupLeaf); tinydock/<id> when absent. */
  rel?: string;
  /** With --cpu-rt-*: tinydock/'s real-time budget and what its other children hold (null: no RT group scheduling). */
  rt?: { parentPeriod: number; parentRuntime: number; siblingsRuntime: number } | null;
}

/**
 * A child's real-time runtime must fit in its parent's budget, and a new cgroup's is 0: tinydock/'s
 * grows to what its children hold (dockerd fills its parent from --cpu-rt-runtime of the daemon).
 */
function rtBudgetWrites(parent: string, r: Resources, rt: V1PlanInput["rt"]): CgroupWrite[] {
  if (r.cpuRtPeriod === undefined && r.cpuRtRuntime === undefined) return [];
  if (!rt) throw new FailedPreconditionError(CPU_RT_UNSUPPORTED);
  const runtime = r.cpuRtRuntime ?? 0;
  const need = rt.siblingsRuntime + Math.ceil((runtime * rt.parentPeriod) / (r.cpuRtPeriod ?? rt.parentPeriod));
  return runtime > 0 && need > rt.parentRuntime ? [{ file: path.join(parent, "cpu.rt_runtime_us"), value: String(need) }] : [];
}

/** Every write that creates a container's v1 cgroups, in order. Pure. */
export function planV1(input: V1PlanInput): CgroupPlan {
  const { hierarchies, id, resources: r } = input;
  checkV1Controllers(input.root, hierarchies, r);
  const dirOf = (controller: string) => {
    const h = hierarchies.find((x) => x.controllers.includes(controller));
    return h && path.join(h.dir, input.rel ?? path.join(CGROUP_PARENT, id));
  };
  const writes: CgroupWrite[] = [];
  const put = (dir: string | undefined, file: string, value: string | number, ifMissing?: string) => {
    if (dir === undefined) return;
    writes.push({ file: path.join(dir, file), value: String(value), ...(ifMissing ? { ifMissing } : {}) });
  };

  // An empty cpuset refuses tasks, and a v1 child starts empty: fill tinydock/ from the root, then
  // the container from tinydock/ (or from --cpuset-cpus / --cpuset-mems).
  const cpusetDir = dirOf("cpuset");
  if (cpusetDir !== undefined && input.cpuset) {
    const parent = path.dirname(cpusetDir);
    const cs = input.cpuset;
    const parentCpus = cs.parentCpus.trim() || cs.rootCpus.trim();
    const parentMems = cs.parentMems.trim() || cs.rootMems.trim();
    if (cs.parentCpus.trim() === "") put(parent, "cpuset.cpus", parentCpus);
    if (cs.parentMems.trim() === "") put(parent, "cpuset.mems", parentMems);
    put(cpusetDir, "cpuset.cpus", r.cpusetCpus ?? parentCpus);
    put(cpusetDir, "cpuset.mems", r.cpusetMems ?? parentMems);
  }

  const cpuDir = dirOf("cpu");
  if (cpuDir !== undefined) writes.push(...rtBudgetWrites(path.dirname(cpuDir), r, input.rt));
  writes.push(...limitWritesV1(dirOf, r));
  const devices = dirOf("devices");
  if (!input.allDevices) {
    for (const d of v1DeviceWrites([...DOCKER_DEVICE_RULES, ...(input.devices ?? [])])) put(devices, d.allow ? "devices.allow" : "devices.deny", d.rule);
  }
  return { writes, warnings: [] };
}

/**
 * The writes of the memory, CPU, pids and blkio limits `r` sets. `memswNow`: the cgroup's memory+swap
 * limit now; the kernel keeps memsw ≥ memory at every step, so a memory limit above it goes after
 * the new memsw limit, else before.
 */
export function limitWritesV1(dirOf: (controller: string) => string | undefined, r: Resources, memswNow = Infinity): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  const put = (dir: string | undefined, file: string, value: string | number, ifMissing?: string) => {
    if (dir === undefined) return;
    writes.push({ file: path.join(dir, file), value: String(value), ...(ifMissing ? { ifMissing } : {}) });
  };
  const memory = dirOf("memory");
  const swapFirst = r.memory !== undefined && r.memorySwap !== undefined && r.memory > memswNow;
  if (swapFirst) put(memory, "memory.memsw.limit_in_bytes", r.memorySwap!, SWAP_WARNING);
  if (r.memory !== undefined) put(memory, "memory.limit_in_bytes", r.memory);
  if (r.memorySwap !== undefined && !swapFirst) put(memory, "memory.memsw.limit_in_bytes", r.memorySwap, SWAP_WARNING);
  if (r.memoryReservation !== undefined) put(memory, "memory.soft_limit_in_bytes", r.memoryReservation);
  if (r.memorySwappiness !== undefined) put(memory, "memory.swappiness", r.memorySwappiness);
  if (r.oomKillDisable) put(memory, "memory.oom_control", 1);

  const cpu = dirOf("cpu");
  if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined) put(cpu, "cpu.cfs_period_us", r.cpuPeriod ?? 100_000);
  if (r.cpuQuota !== undefined) put(cpu, "cpu.cfs_quota_us", r.cpuQuota);
  if (r.cpuShares !== undefined) put(cpu, "cpu.shares", r.cpuShares);
  if (r.cpuRtPeriod !== undefined) put(cpu, "cpu.rt_period_us", r.cpuRtPeriod);
  if (r.cpuRtRuntime !== undefined) put(cpu, "cpu.rt_runtime_us", r.cpuRtRuntime);

  if (r.pidsLimit !== undefined) put(dirOf("pids"), "pids.max", r.pidsLimit > 0 ? r.pidsLimit : "max");
  if (r.blkioWeight !== undefined) put(dirOf("blkio"), "blkio.weight", r.blkioWeight, BLKIO_WEIGHT_WARNING);
  // One write a device: the kernel reads one "major:minor value" line per write.
  for (const k of Object.keys(BLKIO_DEVICE_FILES_V1) as (keyof typeof BLKIO_DEVICE_FILES_V1)[]) {
    for (const d of r.blkioDevices?.[k] ?? []) put(dirOf("blkio"), BLKIO_DEVICE_FILES_V1[k], `${d.major}:${d.minor} ${d.value}`, BLKIO_DEVICE_WARNINGS[k]);
  }
  return writes;
}

class V1Cgroup implements Cgroup {
  readonly procsFiles: string[];
  warnings: string[] = [];
  private readonly dirs: string[];

  constructor(
    private readonly root: string,
    private readonly hierarchies: V1Hierarchy[],
    readonly id: string,
    private readonly rel: string,
    private readonly settleMs: number,
    private readonly sys?: PidfdSys,
  ) {
    this.dirs = hierarchies.map((h) => path.join(h.dir, rel));
    this.procsFiles = this.dirs.map((d) => path.join(d, "cgroup.procs"));
  }

  private dirOf(controller: string): string | undefined {
    const i = this.hierarchies.findIndex((h) => h.controllers.includes(controller));
    return i < 0 ? undefined : this.dirs[i];
  }

  private read(controller: string, file: string): string | undefined {
    const dir = this.dirOf(controller);
    return dir === undefined ? undefined : readControl(path.join(dir, file));
  }

  oomKilled(): boolean {
    const text = this.read("memory", "memory.oom_control");
    if (text === undefined) return false;
    return (parseKeyedFile(text, "memory.oom_control").get("oom_kill") ?? 0) > 0;
  }

  stats(): CgroupStats {
    const usageText = this.read("memory", "memory.usage_in_bytes");
    const limitText = this.read("memory", "memory.limit_in_bytes");
    const statText = this.read("memory", "memory.stat");
    const usage = usageText === undefined ? 0 : parseLimitValue(usageText, "memory.usage_in_bytes");
    const inactive = statText === undefined ? 0 : (parseKeyedFile(statText, "memory.stat").get("total_inactive_file") ?? 0);
    const pidsText = this.read("pids", "pids.current");
    const cpuText = this.read("cpuacct", "cpuacct.usage");
    return {
      memoryUsage: inactive < usage ? usage - inactive : usage,
      memoryLimit: limitText === undefined ? Infinity : parseLimitValue(limitText, "memory.limit_in_bytes"),
      pids: pidsText === undefined ? this.pids().length : parseLimitValue(pidsText, "pids.current"),
      cpuUsageNs: cpuText === undefined ? 0 : parseLimitValue(cpuText, "cpuacct.usage"),
    };
  }

  update(r: Resources): string[] {
    checkV1Controllers(this.root, this.hierarchies, r);
    const memory = this.dirOf("memory");
    const memsw = memory === undefined ? undefined : readControl(path.join(memory, "memory.memsw.limit_in_bytes"));
    const writes = limitWritesV1((c) => this.dirOf(c), r, memsw === undefined ? Infinity : parseLimitValue(memsw, "memory.memsw.limit_in_bytes"));
    const cpuset = this.dirOf("cpuset");
    if (cpuset !== undefined && r.cpusetCpus !== undefined) writes.push({ file: path.join(cpuset, "cpuset.cpus"), value: r.cpusetCpus });
    if (cpuset !== undefined && r.cpusetMems !== undefined) writes.push({ file: path.join(cpuset, "cpuset.mems"), value: r.cpusetMems });
    const warnings = applyWrites(writes);
    if (r.blkioWeight !== undefined && this.dirOf("blkio") === undefined && !warnings.includes(BLKIO_WEIGHT_WARNING)) warnings.push(BLKIO_WEIGHT_WARNING);
    return warnings;
  }

  pids(): number[] {
    const all = new Set<number>();
    for (const d of this.dirs) for (const p of pidsBelow(d)) all.add(p);
    return [...all].sort((a, b) => a - b);
  }

  destroy(): void {
    // The usual end: PID 1 has exited, so the kernel has killed the rest of its PID namespace and
    // the cgroups are empty; rmdir removes them at once. cgroupfs refuses (EBUSY) while a process or
    // a child cgroup is inside, as a plain directory standing in for it in tests does (ENOTEMPTY):
    // then the rest goes the long way, which freezes and kills first (so the freezer's goes last).
    const freezer = this.dirOf("freezer");
    const order = [...this.dirs.filter((d) => d !== freezer), ...(freezer ? [freezer] : [])];
    let removed = 0;
    while (removed < order.length && removedAtOnce(order[removed]!)) removed++;
    const present = order.slice(removed).filter(exists);
    let failure: unknown;
    if (present.length > 0) {
      const state = freezer && path.join(freezer, "freezer.state");
      killCgroup({ pids: () => this.pids(), ...(state ? { freezer: { version: 1 as const, file: state, dir: freezer! } } : {}) }, this.sys, this.settleMs);
      for (const d of present) {
        try {
          removeCgroupDir(d, this.settleMs);
        } catch (err) {
          failure ??= err;
        }
      }
    }
    // tinydock/ goes when empty; a --cgroup-parent stays, as Docker leaves it.
    if (path.dirname(this.rel) === CGROUP_PARENT) for (const h of this.hierarchies) removeIfEmpty(path.join(h.dir, CGROUP_PARENT));
    if (failure) throw failure;
  }
}

/** rmdir that reports success, or ENOENT (already gone), instead of throwing. */
function removedAtOnce(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    return errnoCode(err) === "ENOENT";
  }
}

/**
 * This process's own cgroup.procs in one of the hierarchies, or null: from /proc/self/cgroup, and
 * only on a real cgroupfs mounted at the hierarchy's root (its release_agent is there, and only
 * there), so that writing our pid into it can never move us.
 */
export function ownProcsFile(hierarchies: V1Hierarchy[]): string | null {
  try {
    for (const line of fs.readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
      const m = /^\d+:([^:]+):(\/.*)$/.exec(line);
      if (!m) continue;
      const names = m[1]!.split(",").map((c) => c.replace(/^name=/, ""));
      const h = hierarchies.find((x) => names.every((c) => x.controllers.includes(c)));
      if (!h || fs.statfsSync(h.dir).type !== CGROUP_SUPER_MAGIC || !exists(path.join(h.dir, "release_agent"))) continue;
      const file = path.join(h.dir, m[2]!, "cgroup.procs");
      if (exists(file)) return file;
    }
  } catch {}
  return null;
}

const CGROUP_SUPER_MAGIC = 0x27e0eb;

/** tinydock/'s real-time period and runtime, and the runtime its children but `id` hold; null without RT group scheduling. */
function readRtBudget(hierarchies: V1Hierarchy[], id: string, rel: string): V1PlanInput["rt"] {
  const cpu = hierarchies.find((h) => h.controllers.includes("cpu"));
  const parent = cpu && path.join(cpu.dir, path.dirname(rel));
  const num = (file: string) => Number(readControl(file) ?? "0") || 0;
  if (!parent || readControl(path.join(parent, "cpu.rt_runtime_us")) === undefined) return null;
  const siblingsRuntime = childCgroups(parent).filter((c) => c !== id).reduce((sum, c) => sum + num(path.join(parent, c, "cpu.rt_runtime_us")), 0);
  return { parentPeriod: num(path.join(parent, "cpu.rt_period_us")) || 1_000_000, parentRuntime: num(path.join(parent, "cpu.rt_runtime_us")), siblingsRuntime };
}

/** The cpuset values planV1 fills from: the root's read only for a parent still empty (the first run only). */
function cpusetNow(dir: string, parent: string): NonNullable<V1PlanInput["cpuset"]> {
  const parentCpus = readControl(path.join(dir, parent, "cpuset.cpus")) ?? "";
  const parentMems = readControl(path.join(dir, parent, "cpuset.mems")) ?? "";
  const root = (f: string, v: string) => (v.trim() === "" ? (readControl(path.join(dir, f)) ?? "") : "");
  return { rootCpus: root("cpuset.cpus", parentCpus), rootMems: root("cpuset.mems", parentMems), parentCpus, parentMems };
}

/** Each level of `rel` under the cpuset hierarchy whose cpus or mems are empty gets its parent's (runc's cpusetEnsureParent). */
function fillCpusetLevels(base: string, rel: string): void {
  let dir = base;
  for (const part of rel.split("/")) {
    const up = dir;
    dir = path.join(dir, part);
    for (const f of ["cpuset.cpus", "cpuset.mems"]) if ((readControl(path.join(dir, f)) ?? "").trim() === "") writeControl(path.join(dir, f), (readControl(path.join(up, f)) ?? "").trim());
  }
}

export function createV1Manager(root: string, options: CgroupOptions = {}): CgroupManager {
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  const hierarchies = discoverV1Hierarchies(root);
  if (hierarchies.length === 0) throw new UnavailableError(`Cannot use cgroups under ${root}: no cgroup hierarchy is mounted there`);
  const cpusetH = hierarchies.find((h) => h.controllers.includes("cpuset"));
  let own: string | null | undefined;
  const ownProcs = () => (own === undefined ? (own = ownProcsFile(hierarchies)) : own);
  return cgroupManager({
    version: 1,
    root,
    open: (id, rel) => new V1Cgroup(root, hierarchies, id, rel, settleMs, pidfdSys(options)),
    prepare(id, rel, r, opts) {
      checkV1Controllers(root, hierarchies, r);
      const parent = path.dirname(rel);
      return () => {
        // Children first (mkdir -p): once tinydock/<id> exists, a concurrent destroy() cannot rmdir tinydock/.
        for (const h of hierarchies) makeCgroupDir(path.join(h.dir, rel));
        // After the mkdirs (the wait holds the cgroup mutex they need), before the limits (which do not).
        primeJoin(ownProcs());
        // A --cgroup-parent's levels may be as fresh as tinydock/: each filled from the one above.
        if (cpusetH && parent !== CGROUP_PARENT) fillCpusetLevels(cpusetH.dir, parent);
        const cpuset = cpusetH && cpusetNow(cpusetH.dir, parent);
        const rt = r.cpuRtPeriod !== undefined || r.cpuRtRuntime !== undefined ? { rt: readRtBudget(hierarchies, id, rel) } : {};
        const plan = planV1({ root, hierarchies, id, rel, resources: r, allDevices: opts.allDevices ?? false, ...(opts.devices ? { devices: opts.devices } : {}), ...(cpuset ? { cpuset } : {}), ...rt });
        return [...plan.warnings, ...applyWrites(plan.writes)];
      };
    },
    list(): string[] {
      const ids = new Set<string>();
      for (const h of hierarchies) for (const id of childCgroups(path.join(h.dir, CGROUP_PARENT))) ids.add(id);
      return [...ids].sort();
    },
  });
}
