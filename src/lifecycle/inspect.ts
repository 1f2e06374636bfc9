// `docker inspect` of a container: Docker's field names and shapes, from state.json (static
// config), run.json + liveness (State) and the image's config where state.json has no Config yet.
import path from "node:path";
import { healthStatusOf, readHealth, type Health } from "./health.ts";
import { readProbeStatus, type ProbeStatus } from "./probe-status.ts";
import type { HealthConfig } from "./run/healthcheck.ts";
import type { Ctx } from "../context.ts";
import type { ContainerConfig, ImageConfig } from "../image/manifest.ts";
import { readBlob } from "../store/content.ts";
import { storeLayout } from "../store/layout.ts";
import { containerFiles, containerPaths, type ContainerRecord } from "../store/containers.ts";
import type { LiveContainer } from "./live.ts";
import { networkSettingsView } from "../network/inspect.ts";
import { logDriverOf } from "./logdriver.ts";

/** Image configs read once per command (ps over many containers of one image). */
export type ImageConfigCache = Map<string, ContainerConfig | undefined>;

export function imageConfigOf(ctx: Ctx, imageId: string, cache: ImageConfigCache = new Map()): ContainerConfig | undefined {
  if (cache.has(imageId)) return cache.get(imageId);
  let cfg: ContainerConfig | undefined;
  try {
    cfg = (JSON.parse(new TextDecoder().decode(readBlob(storeLayout(ctx.root), imageId))) as ImageConfig).config ?? {};
  } catch {
    cfg = undefined; // the image was removed (rmi -f): the container still lists
  }
  cache.set(imageId, cfg);
  return cfg;
}

/** Path and Args as Docker records them: entrypoint + (the command given, or the image's Cmd). */
export function commandOf(ctx: Ctx, rec: Pick<ContainerRecord, "config" | "imageId" | "args">, cache?: ImageConfigCache): { path: string; args: string[] } {
  const cfg = rec.config;
  let argv: string[];
  if (cfg && (Array.isArray(cfg.Entrypoint) || Array.isArray(cfg.Cmd))) {
    // concat, not spreads: `ps` asks this for every container, and a spread iterates in the interpreter.
    argv = (cfg.Entrypoint ?? []).concat(cfg.Cmd ?? []);
  } else {
    const image = imageConfigOf(ctx, rec.imageId, cache);
    argv = (image?.Entrypoint ?? []).concat(rec.args.length > 0 ? rec.args : (image?.Cmd ?? []));
  }
  return { path: argv[0] ?? "", args: argv.slice(1) };
}

/** NetworkSettings.Ports: each exposed port (null when not published) and each published one, "0.0.0.0" for every address. */
function portMap(rec: ContainerRecord, exposed: Record<string, unknown> | undefined): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of Object.keys(exposed ?? {})) out[key] = null;
  for (const p of rec.ports ?? []) {
    const b = normalizePort(p);
    if (!b) continue;
    const key = `${b.containerPort}/${b.protocol}`;
    (out[key] ??= []).push({ HostIp: b.hostIp === "" ? "0.0.0.0" : b.hostIp, HostPort: String(b.hostPort) });
  }
  return out;
}

/** HostConfig's zero values, for records written before they were recorded whole. */
const HOST_CONFIG_ZERO: Record<string, unknown> = {
  Binds: null,
  ContainerIDFile: "",
  NetworkMode: "bridge",
  PortBindings: {},
  VolumeDriver: "",
  VolumesFrom: null,
  CapAdd: null,
  CapDrop: null,
  CgroupnsMode: "private",
  Dns: [],
  DnsOptions: [],
  DnsSearch: [],
  ExtraHosts: null,
  GroupAdd: null,
  IpcMode: "private",
  Cgroup: "",
  Links: null,
  OomScoreAdj: 0,
  PidMode: "",
  Privileged: false,
  PublishAllPorts: false,
  ReadonlyRootfs: false,
  SecurityOpt: null,
  UTSMode: "",
  UsernsMode: "",
  ShmSize: 64 * 1024 * 1024,
  Runtime: "runc",
  CpuShares: 0,
  Memory: 0,
  NanoCpus: 0,
  CgroupParent: "",
  CpuPeriod: 0,
  CpuQuota: 0,
  CpusetCpus: "",
  CpusetMems: "",
  Devices: [],
  DeviceCgroupRules: null,
  MemoryReservation: 0,
  MemorySwap: 0,
  MemorySwappiness: null,
  OomKillDisable: false,
  PidsLimit: null,
  Ulimits: [],
};

/** The image's layers, top first, as Docker's overlay2 GraphDriver.Data.LowerDir ("" when the image is gone). */
function lowerDir(ctx: Ctx, imageId: string): string {
  try {
    // Loaded here, not above: ps and the filters use this module but never a layer list.
    const { lowerLinks } = require("../rootfs/images.ts") as typeof import("../rootfs/images.ts");
    const { loadContainerImage } = require("../store/images.ts") as typeof import("../store/images.ts");
    const layout = storeLayout(ctx.root);
    const image = loadContainerImage(layout, imageId);
    return image ? lowerLinks(layout, image).map((l) => layout.link(l)).join(":") : "";
  } catch {
    return "";
  }
}

/** A PortBinding whatever the ports stage named its fields. */
export function normalizePort(p: Record<string, unknown>): { hostIp: string; hostPort: number; containerPort: number; protocol: string } | undefined {
  const pick = (...keys: string[]) => keys.map((k) => p[k]).find((v) => v !== undefined);
  const containerPort = Number(pick("containerPort", "ContainerPort", "PrivatePort"));
  if (!Number.isFinite(containerPort)) return undefined;
  return {
    hostIp: String(pick("hostIp", "hostIP", "HostIp", "IP") ?? "0.0.0.0"),
    hostPort: Number(pick("hostPort", "HostPort", "PublicPort") ?? 0),
    containerPort,
    protocol: String(pick("protocol", "proto", "Protocol", "Type") ?? "tcp"),
  };
}

export function inspectContainer(ctx: Ctx, c: LiveContainer, cache?: ImageConfigCache): Record<string, unknown> {
  const rec = c.record;
  const s = c.state;
  const paths = containerPaths(ctx.root, rec.id);
  const { path: cmdPath, args } = commandOf(ctx, rec, cache);
  const image = imageConfigOf(ctx, rec.imageId, cache);
  const restart = rec.restartPolicy ?? { name: "no", maximumRetryCount: 0 };
  const hostConfig = {
    ...HOST_CONFIG_ZERO,
    RestartPolicy: { Name: restart.name, MaximumRetryCount: restart.maximumRetryCount },
    AutoRemove: rec.autoRemove ?? false,
    LogConfig: {
      Type: "json-file",
      Config: rec.logConfig ? { "max-size": String(rec.logConfig.maxSize), "max-file": String(rec.logConfig.maxFile) } : {},
    },
    ...(rec.hostConfig ?? {}),
  };
  const config = {
    Hostname: rec.hostname,
    Domainname: "",
    User: image?.User ?? "",
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ExposedPorts: image?.ExposedPorts,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: image?.Env ?? [],
    Cmd: rec.args.length > 0 ? rec.args : (image?.Cmd ?? null),
    Image: rec.image,
    Volumes: image?.Volumes ?? null,
    WorkingDir: image?.WorkingDir ?? "",
    Entrypoint: image?.Entrypoint ?? null,
    OnBuild: null,
    Labels: rec.labels ?? image?.Labels ?? {},
    ...(image?.StopSignal ? { StopSignal: image.StopSignal } : {}),
    ...(rec.config ?? {}),
  };
  const network = networkSettingsView(rec.network, !s.Running, rec.networkOptions?.connects);
  return {
    Id: rec.id,
    Created: rec.created,
    Path: cmdPath,
    Args: args,
    State: {
      Status: s.Status,
      Running: s.Running,
      Paused: s.Paused,
      Restarting: s.Restarting,
      OOMKilled: s.OOMKilled,
      Dead: s.Dead,
      Pid: s.Pid,
      ExitCode: s.ExitCode,
      Error: s.Error,
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
      ...healthView(rec.config, paths.dir),
      ...probesView(rec, paths.dir),
    },
    Image: rec.imageId,
    ResolvConfPath: paths.resolvConf,
    HostnamePath: paths.hostname,
    HostsPath: paths.hosts,
    LogPath: logDriverOf(rec) === "none" ? "" : containerFiles(ctx.root, rec.id).log,
    Name: `/${rec.name}`,
    RestartCount: s.RestartCount,
    Driver: "overlay2",
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: null,
    HostConfig: hostConfig,
    GraphDriver: { Name: "overlay2", Data: { LowerDir: lowerDir(ctx, rec.imageId), MergedDir: paths.rootfs, UpperDir: paths.upper, WorkDir: paths.work } },
    Mounts: rec.mounts ?? [],
    Config: config,
    NetworkSettings: {
      Bridge: "",
      SandboxID: "",
      SandboxKey: "",
      // Released with the network when it stops, as Docker's releaseNetwork empties them.
      Ports: s.Running ? portMap(rec, config.ExposedPorts as Record<string, unknown> | undefined) : {},
      Gateway: "",
      IPAddress: "",
      IPPrefixLen: 0,
      MacAddress: "",
      Networks: {},
      ...network,
    },
  };
}

/** State.Probes when the container has Kubernetes probes: Started, Ready and each probe's last result. */
function probesView(rec: ContainerRecord, dir: string): { Probes?: ProbeStatus } {
  if (!rec.probes?.length) return {};
  return { Probes: readProbeStatus(dir) ?? { Started: false, Ready: false, Probes: [] } };
}

/** State.Health when the container has a health check: the monitor's record, "starting" before its first. */
function healthView(config: Record<string, unknown> | undefined, dir: string): { Health?: Health } {
  const status = healthStatusOf(config as { Healthcheck?: HealthConfig } | undefined, dir);
  if (status === "none") return {};
  return { Health: readHealth(dir) ?? { Status: status, FailingStreak: 0, Log: [] } };
}
