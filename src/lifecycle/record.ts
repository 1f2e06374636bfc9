// A container's record (state.json) from what run or create was asked for: tinydock's own fields,
// and Docker's Config/HostConfig names that inspect shows and `start` reads back (the cgroup's
// resources and devices, made again after a cleanup took them).
import path from "node:path";
import type { NetworkSettingsRecord } from "../network/local.ts";
import type { DeviceSpec } from "../runtime/devicespec.ts";
import type { Resources } from "../runtime/resources.ts";
import type { ResolvedBind } from "../runtime/spec.ts";
import type { VolumeSpec } from "../runtime/volumes.ts";
import type { ContainerRecord } from "../store/containers.ts";
import { DEFAULT_LOG_MAX_FILE, DEFAULT_LOG_MAX_SIZE } from "./monitor.ts";
import type { NetworkOptions } from "./network-setup.ts";
import type { LifetimeRequest, RunRequest } from "./run/request.ts";

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
}

/** A new container's record, in the state `created`. */
export function containerRecord(req: RunRequest, f: RecordFacts): ContainerRecord {
  const { process: p, lifetime, security } = req;
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
    config: {
      ...(p.tty ? { Tty: true } : {}),
      ...(p.interactive ? { OpenStdin: true } : {}),
      ...(req.labels ? { Labels: req.labels } : {}),
    },
    hostConfig: {
      AutoRemove: lifetime.rm,
      Privileged: security.privileged,
      ...(req.resources.devices.length ? { Devices: devicesToHostConfig(req.resources.devices) } : {}),
      ReadonlyRootfs: security.readOnly,
      RestartPolicy: { Name: lifetime.restart?.name ?? "no", MaximumRetryCount: lifetime.restart?.maximumRetryCount ?? 0 },
      LogConfig: { Type: "json-file", Config: logOptsConfig(lifetime.logConfig) },
      Init: p.init,
      NetworkMode: req.network.mode,
      // Docker's names; also what `start` makes the cgroup again from after a cleanup took it.
      ...resourcesToHostConfig(req.resources.limits),
    },
    network: f.network,
    networkOptions: f.networkOptions,
    cgroupPath: f.cgroupPath,
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
];

export function resourcesToHostConfig(r: Resources): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, name] of HOST_CONFIG_RESOURCES) if (r[k] !== undefined) out[name] = r[k]!;
  return out;
}

export function resourcesFromHostConfig(h: Record<string, unknown>): Resources {
  const out: Record<string, unknown> = {};
  for (const [k, name] of HOST_CONFIG_RESOURCES) if (h[name] !== undefined) out[k] = h[name];
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

function logOptsConfig(c: LifetimeRequest["logConfig"]): Record<string, string> {
  return c ? { "max-size": String(c.maxSize), "max-file": String(c.maxFile) } : {};
}
