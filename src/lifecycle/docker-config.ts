// Docker's Config and HostConfig (moby api/types/container Config, HostConfig) for a new container,
// as `docker inspect` shows them: what was asked for over the image's config, and Docker's zero
// values for the rest. Pure: the image config and what was made come in as data.
import type { ContainerConfig } from "../image/manifest.ts";
import type { PortBinding } from "../network/portspec.ts";
import { MASKED_PATHS, READONLY_PATHS } from "../runtime/spec.ts";
import { mergeEnv } from "../runtime/env.ts";
import { RLIMIT } from "../runtime/ulimit.ts";
import { mergeHealthcheck, type HealthConfig } from "./run/healthcheck.ts";
import type { RunRequest } from "./run/request.ts";

/** Docker's /dev/shm size when --shm-size is not given. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** The image config as the record keeps it (Healthcheck and OnBuild are not in ContainerConfig's type). */
type ImageConfigIn = ContainerConfig & { Healthcheck?: unknown; OnBuild?: string[] | null; Domainname?: string };

/** Config: Env, Cmd, Entrypoint, User, WorkingDir, Labels, ExposedPorts, StopSignal… as the container runs them. */
export function dockerConfig(req: RunRequest, image: ImageConfigIn, f: { hostname: string; ports: PortBinding[] }): Record<string, unknown> {
  const p = req.process;
  const attached = req.lifetime.detach ? new Set<string>() : new Set(req.attach ?? ["stdout", "stderr", ...(p.interactive ? ["stdin"] : [])]);
  // --entrypoint resets the image's Cmd; "" means none at all.
  const entrypoint = p.entrypoint !== undefined ? (p.entrypoint === "" ? null : [p.entrypoint]) : (image.Entrypoint ?? null);
  const cmd = p.args.length ? p.args : p.entrypoint !== undefined ? null : (image.Cmd ?? null);
  const exposed: Record<string, object> = {};
  for (const k of Object.keys(image.ExposedPorts ?? {})) exposed[k] = {};
  for (const k of req.ports.expose ?? []) exposed[k] = {};
  for (const b of f.ports) exposed[`${b.containerPort}/${b.protocol}`] = {};
  const stopSignal = p.stopSignal ?? image.StopSignal;
  const healthcheck = mergeHealthcheck(req.healthcheck, image.Healthcheck as HealthConfig | undefined);
  return {
    Hostname: f.hostname,
    Domainname: p.domainname ?? "",
    User: p.user ?? image.User ?? "",
    AttachStdin: attached.has("stdin"),
    AttachStdout: attached.has("stdout"),
    AttachStderr: attached.has("stderr"),
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    Tty: p.tty,
    OpenStdin: p.interactive,
    StdinOnce: p.interactive && attached.has("stdin"),
    Env: mergeEnv(image.Env ?? [], p.env),
    Cmd: cmd,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    Image: req.image,
    Volumes: image.Volumes ?? null,
    WorkingDir: p.workdir ?? image.WorkingDir ?? "",
    Entrypoint: entrypoint,
    OnBuild: image.OnBuild ?? null,
    Labels: { ...(image.Labels ?? {}), ...(req.labels ?? {}) },
    ...(stopSignal ? { StopSignal: stopSignal } : {}),
    ...(p.stopTimeout !== undefined ? { StopTimeout: p.stopTimeout } : {}),
    ...(req.network.macAddress ? { MacAddress: req.network.macAddress } : {}),
  };
}

const RLIMIT_NAMES = new Map(Object.entries(RLIMIT).map(([name, n]) => [n as number, name]));

/** HostConfig with Docker's zero values for what was not asked (Memory 0, PidsLimit null, …). */
export function dockerHostConfig(req: RunRequest, f: { ports: PortBinding[] }): Record<string, unknown> {
  const { lifetime, security, resources: r, network: n, namespaces: ns } = req;
  const l = r.limits;
  const logType = lifetime.logDriver ?? "json-file";
  const binds = req.volumes.flatMap((v) => (v.type === "bind" ? [`${v.source}:${v.target}${v.readonly ? ":ro" : ""}`] : v.type === "volume" && v.name !== undefined ? [`${v.name}:${v.target}${v.readonly ? ":ro" : ""}`] : []));
  const tmpfs = Object.fromEntries(req.volumes.flatMap((v) => (v.type === "tmpfs" ? [[v.target, v.data]] : [])));
  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const b of f.ports) {
    (portBindings[`${b.containerPort}/${b.protocol}`] ??= []).push({ HostIp: b.hostIp, HostPort: b.hostPort ? String(b.hostPortEnd ? `${b.hostPort}-${b.hostPortEnd}` : b.hostPort) : "" });
  }
  return {
    Binds: binds.length ? binds : null,
    ContainerIDFile: req.cidfile ?? "",
    LogConfig: { Type: logType, Config: logType === "none" ? {} : logOptsConfig(lifetime.logConfig) },
    NetworkMode: n.mode === "bridge" ? "bridge" : n.mode,
    PortBindings: portBindings,
    RestartPolicy: { Name: lifetime.restart?.name ?? "no", MaximumRetryCount: lifetime.restart?.maximumRetryCount ?? 0 },
    AutoRemove: lifetime.rm,
    VolumeDriver: "",
    VolumesFrom: null,
    ConsoleSize: [0, 0],
    CapAdd: security.capAdd.length ? security.capAdd : null,
    CapDrop: security.capDrop.length ? security.capDrop : null,
    CgroupnsMode: ns.cgroupns,
    Dns: n.dns,
    DnsOptions: n.dnsOptions,
    DnsSearch: n.dnsSearch,
    ExtraHosts: n.extraHosts.length ? n.extraHosts : null,
    GroupAdd: req.process.groupAdd.length ? req.process.groupAdd : null,
    IpcMode: ns.ipc,
    Cgroup: "",
    Links: null,
    OomScoreAdj: req.process.oomScoreAdj ?? 0,
    PidMode: ns.pid === "private" ? "" : ns.pid,
    Privileged: security.privileged,
    PublishAllPorts: req.ports.publishAll,
    ReadonlyRootfs: security.readOnly,
    SecurityOpt: securityOpt(req),
    UTSMode: ns.uts === "private" ? "" : ns.uts,
    UsernsMode: "",
    ShmSize: r.shmSize ?? DEFAULT_SHM_SIZE,
    ...(security.sysctls?.length ? { Sysctls: Object.fromEntries(security.sysctls.map((s) => [s.key, s.value])) } : {}),
    ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
    Runtime: "runc",
    Isolation: "",
    CpuShares: l.cpuShares ?? 0,
    Memory: l.memory ?? 0,
    NanoCpus: l.nanoCpus ?? 0,
    CgroupParent: "",
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    // --cpus is NanoCpus in Docker; --cpu-period/--cpu-quota are these (record.ts resourcesToHostConfig).
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: l.cpusetCpus ?? "",
    CpusetMems: l.cpusetMems ?? "",
    Devices: r.devices.map((d) => ({ PathOnHost: d.hostPath, PathInContainer: d.containerPath, CgroupPermissions: d.permissions })),
    DeviceCgroupRules: r.deviceCgroupRules?.length ? r.deviceCgroupRules.map((d) => d.rule) : null,
    DeviceRequests: null,
    MemoryReservation: 0,
    MemorySwap: l.memorySwap ?? 0,
    MemorySwappiness: l.memorySwappiness ?? null,
    OomKillDisable: false,
    PidsLimit: l.pidsLimit ?? null,
    Ulimits: r.ulimits.map((u) => ({ Name: RLIMIT_NAMES.get(u.resource) ?? String(u.resource), Hard: u.hard, Soft: u.soft })),
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: security.privileged ? null : MASKED_PATHS,
    ReadonlyPaths: security.privileged ? null : READONLY_PATHS,
    Init: req.process.init,
    ...req.hostConfig,
  };
}

function securityOpt(req: RunRequest): string[] | null {
  const out: string[] = [];
  if (req.security.noNewPrivileges) out.push("no-new-privileges");
  if (!req.security.seccomp) out.push("seccomp=unconfined");
  return out.length ? out : null;
}

function logOptsConfig(c: RunRequest["lifetime"]["logConfig"]): Record<string, string> {
  return c ? { "max-size": String(c.maxSize), "max-file": String(c.maxFile) } : {};
}
