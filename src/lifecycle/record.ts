// A container's record (state.json) from what run or create was asked for: tinydock's own fields,
// and Docker's Config/HostConfig names that inspect shows and `start` reads back (the cgroup's
// resources and devices, made again after a cleanup took them).
import path from "node:path";
import type { ContainerConfig } from "../image/manifest.ts";
import type { NetworkSettingsRecord } from "../network/local.ts";
import type { DeviceRule } from "../runtime/cgroups/devices.ts";
import type { DeviceSpec } from "../runtime/devicespec.ts";
import { CPU_PERIOD_US, type BlkioDeviceLimits, type Resources } from "../runtime/resources.ts";
import type { ResolvedBind } from "../runtime/spec.ts";
import type { VolumeSpec } from "../runtime/volumes.ts";
import type { ContainerRecord } from "../store/containers.ts";
import { dockerConfig, dockerHostConfig } from "./docker-config.ts";
import { DEFAULT_LOG_MAX_FILE, DEFAULT_LOG_MAX_SIZE } from "./monitor.ts";
import type { NetworkOptions } from "./network-setup.ts";
import type { RunRequest } from "./run/request.ts";

/** What the record holds beyond the request: made while the container was. */
export interface RecordFacts {
  id: string;
  name: string;
  hostname: string;
  imageId: string;
  created: string;
  network: NetworkSettingsRecord;
  networkOptions: NetworkOptions;
  /** The container's cgroup directories. */
  cgroupPath: string[];
  /** The image's config: Config shows it under what was asked. */
  imageConfig: ContainerConfig;
}

/** A new container's record, in the state `created`. */
export function containerRecord(req: RunRequest, f: RecordFacts): ContainerRecord {
  const { process: p, lifetime } = req;
  return {
    id: f.id,
    name: f.name,
    image: req.image,
    imageId: f.imageId,
    created: f.created,
    args: p.args,
    hostname: f.hostname,
    state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
    ...(req.labels && Object.keys(req.labels).length ? { labels: req.labels } : {}),
    autoRemove: lifetime.rm,
    restartPolicy: lifetime.restart ?? { name: "no", maximumRetryCount: 0 },
    logConfig: lifetime.logConfig ?? { maxSize: DEFAULT_LOG_MAX_SIZE, maxFile: DEFAULT_LOG_MAX_FILE },
    // Docker's Config and HostConfig, whole: inspect shows them, `start` and `stop` read them back.
    config: dockerConfig(req, f.imageConfig, { hostname: f.hostname, ports: f.networkOptions.ports }),
    hostConfig: {
      ...dockerHostConfig(req, { ports: f.networkOptions.ports }),
      // The cgroup's limits under Docker's names, which `start` makes the cgroup again from.
      ...resourcesToHostConfig(req.resources.limits),
    },
    network: f.network,
    networkOptions: f.networkOptions,
    cgroupPath: f.cgroupPath,
    ...(req.pod ? { pod: req.pod } : {}),
    ...(req.probes?.length ? { probes: req.probes } : {}),
    ...(req.fieldRefs ? { fieldRefs: req.fieldRefs } : {}),
  };
}

/**
 * Docker's Mounts (inspect; rm -v and --rm find anonymous volumes here): the volume specs in order,
 * each bind or volume with the bind prepareVolumes resolved for it (same order), tmpfs apart.
 */
export function mountsRecord(specs: VolumeSpec[], binds: ResolvedBind[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let b = 0;
  for (const v of specs) {
    if (v.type === "tmpfs") {
      out.push({ Type: "tmpfs", Source: "", Destination: v.target, Mode: "", RW: true, Propagation: "" });
      continue;
    }
    const bind = binds[b++];
    if (!bind) break;
    if (v.type === "bind") {
      out.push({ Type: "bind", Source: bind.source, Destination: v.target, Mode: "", RW: !v.readonly, Propagation: "rprivate" });
    } else {
      // <root>/volumes/<name>/_data
      const name = path.basename(path.dirname(bind.source));
      out.push({ Type: "volume", Name: name, Source: bind.source, Destination: v.target, Driver: "local", Mode: "", RW: !v.readonly, Propagation: "", Anonymous: v.name === undefined });
    }
  }
  return out;
}

/** Resources under Docker's HostConfig names (absent = unset), and back. */
const HOST_CONFIG_RESOURCES: [keyof Resources, string][] = [
  ["memory", "Memory"],
  ["memorySwap", "MemorySwap"],
  ["memorySwappiness", "MemorySwappiness"],
  ["cpuQuota", "CpuQuota"],
  ["cpuPeriod", "CpuPeriod"],
  ["cpuShares", "CpuShares"],
  ["cpusetCpus", "CpusetCpus"],
  ["cpusetMems", "CpusetMems"],
  ["pidsLimit", "PidsLimit"],
  ["memoryReservation", "MemoryReservation"],
  ["blkioWeight", "BlkioWeight"],
  ["cpuRtPeriod", "CpuRealtimePeriod"],
  ["cpuRtRuntime", "CpuRealtimeRuntime"],
  ["oomKillDisable", "OomKillDisable"],
];

/** The per-device limits under Docker's HostConfig names, with the field each entry's value goes in. */
const BLKIO_DEVICE_KEYS: [keyof BlkioDeviceLimits, string, "Weight" | "Rate"][] = [
  ["weight", "BlkioWeightDevice", "Weight"],
  ["readBps", "BlkioDeviceReadBps", "Rate"],
  ["writeBps", "BlkioDeviceWriteBps", "Rate"],
  ["readIops", "BlkioDeviceReadIOps", "Rate"],
  ["writeIops", "BlkioDeviceWriteIOps", "Rate"],
];

/**
 * The limits set, under Docker's names; --cpus is NanoCpus there (Docker's CpuQuota and CpuPeriod
 * stay 0), --cpu-quota and --cpu-period are themselves.
 */
export function resourcesToHostConfig(r: Resources): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const cpus = r.nanoCpus !== undefined;
  for (const [k, name] of HOST_CONFIG_RESOURCES) if (r[k] !== undefined && !(cpus && (k === "cpuQuota" || k === "cpuPeriod"))) out[name] = r[k]!;
  if (cpus) out.NanoCpus = r.nanoCpus;
  for (const [k, name, field] of BLKIO_DEVICE_KEYS) {
    const list = r.blkioDevices?.[k];
    if (list?.length) out[name] = list.map((d) => ({ Path: d.path, [field]: d.value }));
  }
  return out;
}

/**
 * Back from HostConfig, Docker's zero values read as unset; records of older versions kept
 * CpuQuota/CpuPeriod. The per-device limits only with `deviceOf` (their nodes looked up again).
 */
export function resourcesFromHostConfig(h: Record<string, unknown>, deviceOf?: (path: string) => { major: number; minor: number }): Resources {
  const out: Record<string, unknown> = {};
  const unset = (v: unknown) => v === undefined || v === null || v === "" || v === 0 || v === false;
  for (const [k, name] of HOST_CONFIG_RESOURCES) if (!unset(h[name])) out[k] = h[name];
  const nano = h.NanoCpus;
  if (typeof nano === "number" && nano > 0) {
    out.cpuPeriod = CPU_PERIOD_US;
    out.cpuQuota = Math.round((nano * CPU_PERIOD_US) / 1e9);
    out.nanoCpus = nano;
  }
  const blkio: BlkioDeviceLimits = {};
  for (const [k, name, field] of deviceOf ? BLKIO_DEVICE_KEYS : []) {
    const list = h[name];
    if (Array.isArray(list) && list.length) blkio[k] = list.map((d: Record<string, unknown>) => ({ path: String(d.Path), ...deviceOf!(String(d.Path)), value: Number(d[field]) }));
  }
  if (Object.keys(blkio).length) out.blkioDevices = blkio;
  return out as Resources;
}

interface HostConfigDevice {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** --device under Docker's HostConfig.Devices names, and back. */
export function devicesToHostConfig(specs: DeviceSpec[]): HostConfigDevice[] {
  return specs.map((d) => ({ PathOnHost: d.hostPath, PathInContainer: d.containerPath, CgroupPermissions: d.permissions }));
}

export function devicesFromHostConfig(h: Record<string, unknown>): DeviceSpec[] {
  return ((h.Devices ?? []) as HostConfigDevice[]).map((d) => ({ hostPath: d.PathOnHost, containerPath: d.PathInContainer, permissions: d.CgroupPermissions }));
}

/** --device-cgroup-rule back from HostConfig.DeviceCgroupRules (allow rules). */
export function deviceCgroupRulesFromHostConfig(h: Record<string, unknown>): DeviceRule[] {
  const rules = h.DeviceCgroupRules;
  return Array.isArray(rules) ? rules.filter((r): r is string => typeof r === "string").map((rule) => ({ allow: true, rule })) : [];
}
