// cgroup v2: one hierarchy at the root; a container's cgroup is root/tinydock/<id>, with the
// controllers it needs enabled in root's and tinydock/'s cgroup.subtree_control. Device rules are an
// eBPF program attached to the cgroup (devicefilter.ts), before any process can be in it.
import fs from "node:fs";
import path from "node:path";
import { FailedPreconditionError, InternalError } from "../../errors.ts";
import { blkioToIoWeight, sharesToWeight, type Resources } from "../resources.ts";
import {
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
} from "./cgroupfs.ts";
import { killCgroup, pidfdSys, type PidfdSys } from "./kill.ts";
import { compileDeviceFilter } from "./devicefilter.ts";
import { DOCKER_DEVICE_RULES } from "./devices.ts";
import { parseControllerList, parseKeyedFile, parseLimitValue } from "./files.ts";

export const SWAP_WARNING_V2 = "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.";
export const OOM_KILL_DISABLE_WARNING = "Your kernel does not support OomKillDisable. OomKillDisable discarded.";
export const SWAPPINESS_WARNING = "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.";

/** The throttles as io.max keys (runc's v2 io.max lines). */
const IO_MAX_KEYS = [
  ["readBps", "rbps"],
  ["writeBps", "wbps"],
  ["readIops", "riops"],
  ["writeIops", "wiops"],
] as const;

/** The order controllers are named in subtree_control writes (the kernel's own order). */
const ORDER = ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"];
/** Enabled whenever the host has them, for stats and OOM reporting even without limits. */
const ALWAYS = ["memory", "pids"];

export function checkV2Controllers(root: string, available: string[], r: Resources): void {
  for (const [controller, what] of neededControllers(r, false)) {
    if (!available.includes(controller)) {
      throw new FailedPreconditionError(`Cannot set ${what}: the ${controller} controller is not available in ${root}`);
    }
  }
}

export interface V2PlanInput {
  root: string;
  id: string;
  resources: Resources;
  /** root/cgroup.controllers */
  available: string[];
  /** root/cgroup.subtree_control and tinydock/cgroup.subtree_control now. */
  rootEnabled: string[];
  parentEnabled: string[];
  /** Where the cgroup is under the root (cgroupLeaf); tinydock/<id> when absent. */
  rel?: string;
  /** A --cgroup-parent's levels between the root and the cgroup's parent, each with its subtree_control now. */
  between?: { dir: string; enabled: string[] }[];
}

/** Every write that creates a container's v2 cgroup, in order. Pure. */
export function planV2(input: V2PlanInput): CgroupPlan {
  const { root, id, resources: r, available } = input;
  checkV2Controllers(root, available, r);
  if (r.cpuRtPeriod !== undefined || r.cpuRtRuntime !== undefined) throw new FailedPreconditionError(CPU_RT_UNSUPPORTED);
  const wanted = new Set([
    ...neededControllers(r, false).map(([c]) => c),
    ...ALWAYS.filter((c) => available.includes(c)),
    ...((r.blkioWeight !== undefined || r.blkioDevices) && available.includes("io") ? ["io"] : []),
  ]);
  const ordered = [...wanted].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  const dir = path.join(root, input.rel ?? path.join(CGROUP_PARENT, id));
  const parent = path.dirname(dir);
  const writes: CgroupWrite[] = [];
  const warnings: string[] = [];
  const enable = (where: string, enabled: string[]) => {
    const missing = ordered.filter((c) => !enabled.includes(c));
    if (missing.length) writes.push({ file: path.join(where, "cgroup.subtree_control"), value: missing.map((c) => `+${c}`).join(" ") });
  };
  enable(root, input.rootEnabled);
  for (const b of input.between ?? []) enable(b.dir, b.enabled);
  enable(parent, input.parentEnabled);

  const put = (file: string, value: string | number, ifMissing?: string) =>
    writes.push({ file: path.join(dir, file), value: String(value), ...(ifMissing ? { ifMissing } : {}) });
  if (r.memory !== undefined) put("memory.max", r.memory);
  // v2 limits swap alone: memory.swap.max = (memory+swap) − memory.
  if (r.memorySwap !== undefined) put("memory.swap.max", r.memorySwap < 0 ? "max" : r.memorySwap - (r.memory ?? 0), SWAP_WARNING_V2);
  if (r.memoryReservation !== undefined) put("memory.low", r.memoryReservation);
  if (r.memorySwappiness !== undefined) warnings.push(SWAPPINESS_WARNING);
  if (r.oomKillDisable) warnings.push(OOM_KILL_DISABLE_WARNING);
  if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined) put("cpu.max", `${r.cpuQuota === undefined || r.cpuQuota < 0 ? "max" : r.cpuQuota} ${r.cpuPeriod ?? 100_000}`);
  if (r.cpuShares !== undefined) put("cpu.weight", sharesToWeight(r.cpuShares));
  if (r.cpusetCpus !== undefined) put("cpuset.cpus", r.cpusetCpus);
  if (r.cpusetMems !== undefined) put("cpuset.mems", r.cpusetMems);
  if (r.pidsLimit !== undefined) put("pids.max", r.pidsLimit > 0 ? r.pidsLimit : "max");
  if (r.blkioWeight !== undefined) put("io.weight", `default ${blkioToIoWeight(r.blkioWeight)}`, BLKIO_WEIGHT_WARNING);
  for (const d of r.blkioDevices?.weight ?? []) put("io.weight", `${d.major}:${d.minor} ${blkioToIoWeight(d.value)}`, BLKIO_DEVICE_WARNINGS.weight);
  for (const [k, key] of IO_MAX_KEYS) for (const d of r.blkioDevices?.[k] ?? []) put("io.max", `${d.major}:${d.minor} ${key}=${d.value}`, BLKIO_DEVICE_WARNINGS[k]);
  return { writes, warnings };
}

class V2Cgroup implements Cgroup {
  readonly procsFiles: string[];
  warnings: string[] = [];
  private readonly dir: string;

  constructor(
    private readonly root: string,
    readonly id: string,
    private readonly rel: string,
    private readonly settleMs: number,
    private readonly sys?: PidfdSys,
  ) {
    this.dir = path.join(root, rel);
    this.procsFiles = [path.join(this.dir, "cgroup.procs")];
  }

  private read(file: string): string | undefined {
    return readControl(path.join(this.dir, file));
  }

  oomKilled(): boolean {
    const text = this.read("memory.events");
    if (text === undefined) return false;
    return (parseKeyedFile(text, "memory.events").get("oom_kill") ?? 0) > 0;
  }

  stats(): CgroupStats {
    const current = this.read("memory.current");
    const max = this.read("memory.max");
    const stat = this.read("memory.stat");
    const usage = current === undefined ? 0 : parseLimitValue(current, "memory.current");
    const inactive = stat === undefined ? 0 : (parseKeyedFile(stat, "memory.stat").get("inactive_file") ?? 0);
    const pidsText = this.read("pids.current");
    const cpu = this.read("cpu.stat");
    return {
      memoryUsage: inactive < usage ? usage - inactive : usage,
      memoryLimit: max === undefined ? Infinity : parseLimitValue(max, "memory.max"),
      pids: pidsText === undefined ? this.pids().length : parseLimitValue(pidsText, "pids.current"),
      cpuUsageNs: cpu === undefined ? 0 : (parseKeyedFile(cpu, "cpu.stat").get("usage_usec") ?? 0) * 1000,
    };
  }

  pids(): number[] {
    return [...new Set(pidsBelow(this.dir))].sort((a, b) => a - b);
  }

  update(r: Resources): string[] {
    const plan = planV2(planInputV2(this.root, this.id, this.rel, r, controllers(path.join(this.root, "cgroup.controllers"))));
    return [...plan.warnings, ...applyWrites(plan.writes)];
  }

  destroy(): void {
    if (exists(this.dir)) {
      const freezer = { version: 2 as const, file: path.join(this.dir, "cgroup.freeze"), dir: this.dir };
      killCgroup({ pids: () => this.pids(), freezer, killFiles: [path.join(this.dir, "cgroup.kill")] }, this.sys, this.settleMs);
      removeCgroupDir(this.dir, this.settleMs);
    }
    // tinydock/ goes when empty; a --cgroup-parent stays, as Docker leaves it.
    if (path.dirname(this.rel) === CGROUP_PARENT) removeIfEmpty(path.join(this.root, CGROUP_PARENT));
  }
}

/** planV2's input as the hierarchy is now: every level from the root to the cgroup's parent with its enabled controllers. */
function planInputV2(root: string, id: string, rel: string, r: Resources, available: string[]): V2PlanInput {
  const levels = path.dirname(rel).split("/");
  const between = levels.slice(0, -1).map((_, i) => path.join(root, ...levels.slice(0, i + 1)));
  return {
    root,
    id,
    rel,
    resources: r,
    available,
    rootEnabled: controllers(path.join(root, "cgroup.subtree_control")),
    parentEnabled: controllers(path.join(root, path.dirname(rel), "cgroup.subtree_control")),
    ...(between.length ? { between: between.map((dir) => ({ dir, enabled: controllers(path.join(dir, "cgroup.subtree_control")) })) } : {}),
  };
}

function controllers(file: string): string[] {
  const text = readControl(file);
  return text === undefined ? [] : parseControllerList(text, file);
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

/**
 * This process's own cgroup.procs ("0::/path" of /proc/self/cgroup under the root), only on a real
 * cgroup2 mount, so that writing our pid into it can never move us; null otherwise.
 */
export function ownProcsFileV2(root: string): string | null {
  try {
    const m = /^0::(\/.*)$/m.exec(fs.readFileSync("/proc/self/cgroup", "utf8"));
    if (!m || fs.statfsSync(root).type !== CGROUP2_SUPER_MAGIC) return null;
    const file = path.join(root, m[1]!, "cgroup.procs");
    return exists(file) ? file : null;
  } catch {
    return null;
  }
}

export function createV2Manager(root: string, options: CgroupOptions = {}): CgroupManager {
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  return cgroupManager({
    version: 2,
    root,
    open: (id, rel) => new V2Cgroup(root, id, rel, settleMs, pidfdSys(options)),
    prepare(id, rel, r, opts) {
      const available = controllers(path.join(root, "cgroup.controllers"));
      checkV2Controllers(root, available, r);
      return () => {
        const dir = path.join(root, rel);
        makeCgroupDir(dir);
        primeJoin(ownProcsFileV2(root)); // after the mkdir, before the limits (see cgroupfs.ts)
        // Before anything can join: the container's init joins only once its plan comes, after this.
        if (!opts.allDevices) {
          if (!options.sys) throw new InternalError(`Cannot create cgroup ${dir}: its device rules need a way to attach a device program`);
          options.sys.attachDeviceFilter(dir, compileDeviceFilter([...DOCKER_DEVICE_RULES, ...(opts.devices ?? [])]));
        }
        const plan = planV2(planInputV2(root, id, rel, r, available));
        return [...plan.warnings, ...applyWrites(plan.writes)];
      };
    },
    list: () => childCgroups(path.join(root, CGROUP_PARENT)).sort(),
  });
}
