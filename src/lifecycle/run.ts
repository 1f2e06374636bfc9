// `run`: image → container dir → cgroup → plan → launch → wait → record or remove.
// Everything this creates is undone on every failure path; with --rm also on success.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError, isKind, NotFoundError } from "../errors.ts";
import type { ContainerConfig, ImageConfig } from "../image/manifest.ts";
import { readImageFile } from "../rootfs/imagefile.ts";
import { lowerLinks } from "../rootfs/images.ts";
import { overlayMount } from "../rootfs/mount.ts";
import type { PullOptions } from "../rootfs/pull.ts";
import { detectCgroups, type Cgroup } from "../runtime/cgroups/index.ts";
import { resolveCapabilities, capabilityNames } from "../runtime/capabilities.ts";
import { deviceAllowRule } from "../runtime/cgroups/devicefilter.ts";
import type { DeviceRule } from "../runtime/cgroups/devices.ts";
import { devMajor, devMinor, type DeviceSpec } from "../runtime/devicespec.ts";
import { launch, type Launched } from "../runtime/launch.ts";
import type { Rlimit } from "../runtime/plan.ts";
import type { Resources } from "../runtime/resources.ts";
import { cachedDefaultSeccomp, seccompCacheDir } from "../runtime/seccomp/cache.ts";
import { buildRunPlan, type ResolvedBind, type TmpfsMount } from "../runtime/spec.ts";
import { withImageVolumes, type VolumeSpec } from "../runtime/volumes.ts";
import { readBlob } from "../store/content.ts";
import { resolveImage, type ImageRecord } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import { tryLock } from "../store/lock.ts";
import type { StoreLayout } from "../store/layout.ts";
import { earlyCloneFlags, encodePlan } from "../runtime/encode.ts";
import type { Namespace, RunPlan } from "../runtime/plan.ts";
import type { NetworkSettingsRecord } from "../network/local.ts";
import type { EarlyContainer } from "../sys/sys.ts";
import type { PortBinding } from "../network/portspec.ts";
import { checkNameFree, containerPaths, CREATING_PREFIX, listContainers, newContainerId, randomName, saveContainer, withNamesLock, type ContainerRecord } from "../store/containers.ts";
import { processStartTime } from "./liveness.ts";
import { DEFAULT_LOG_MAX_FILE, DEFAULT_LOG_MAX_SIZE, monitorExecutable, writeRunState, ZERO_TIME, type Detached, type RestartPolicy } from "./monitor.ts";
import { trashContainerDir } from "./trash.ts";
import { prepareVolumes } from "./volumes.ts";
import { runUndo } from "../undo.ts";

export interface RunRequest {
  image: string;
  args: string[];
  entrypoint?: string;
  env: string[];
  user?: string;
  groupAdd: string[];
  workdir?: string;
  hostname?: string;
  name?: string;
  interactive: boolean;
  tty: boolean;
  rm: boolean;
  init: boolean;
  privileged: boolean;
  readOnly: boolean;
  volumes: VolumeSpec[];
  capAdd: string[];
  capDrop: string[];
  /** --device, parsed. */
  devices?: DeviceSpec[];
  noNewPrivileges: boolean;
  seccomp: boolean;
  ulimits: Rlimit[];
  resources: Resources;
  platform?: PullOptions["platform"];
  /** -d: a monitor supervises the container; runDetached returns once it runs. */
  detach?: boolean;
  /** --restart (detached only; Docker refuses it with --rm). */
  restart?: RestartPolicy;
  /** --log-opt max-size/max-file (default 10 MB × 3). */
  logConfig?: { maxSize: number; maxFile: number };
  /** -l/--label */
  labels?: Record<string, string>;
  // network
  /** --network: bridge (default), none, host, container:NAME|ID or a user network. */
  network?: string;
  networkAliases?: string[];
  ip?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  extraHosts?: string[];
  // end network
  // ports
  publish?: string[];
  publishAll?: boolean;
  // end ports
}

export interface RunIo {
  /** Progress of an implicit pull goes here (stderr, as docker run does). */
  pullOut: (line: string) => void;
  stdin: number;
  stdout: number;
  stderr: number;
  ttySlave: number;
}

export interface RunHooks {
  /** Called once the container runs: wire signals, tty resize. */
  started?: (c: Launched) => void;
}

async function findOrPull(ctx: Ctx, layout: StoreLayout, req: RunRequest, io: RunIo): Promise<ImageRecord> {
  try {
    return resolveImage(layout, req.image).record;
  } catch (err) {
    if (!isKind(err, "NotFound")) throw err;
  }
  io.pullOut(`Unable to find image '${req.image}' locally\n`);
  const { pullImage } = await import("../rootfs/pull.ts");
  const res = await pullImage(ctx, req.image, req.platform ? { platform: req.platform } : {});
  io.pullOut(`Digest: ${res.digest}\nStatus: Downloaded newer image for ${req.image}\n`);
  return res.record;
}

function timeNamespaceAvailable(): boolean {
  return fs.existsSync("/proc/self/ns/time");
}

function lastCap(): number {
  try {
    return Number(fs.readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim());
  } catch {
    return 40;
  }
}

/** With TINYDOCK_DEBUG_TIMING=1 (read through ctx.timing) prints where a run's time went. */
function phaseTimer(ctx: Ctx) {
  let last = performance.now();
  const phases: [string, number][] = [["process start → run", last]];
  return {
    mark(name: string) {
      const now = performance.now();
      phases.push([name, now - last]);
      last = now;
    },
    report() {
      if (!ctx.timing) return;
      for (const [name, ms] of phases) process.stderr.write(`timing: ${ms.toFixed(1).padStart(7)} ms  ${name}\n`);
    },
  };
}

function ownBoundingSet(): bigint {
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync("/proc/self/status", "utf8"));
    if (m) return BigInt(`0x${m[1]}`);
  } catch {}
  return (1n << 64n) - 1n;
}

export interface RunOutcome {
  id: string;
  exitCode: number;
  oomKilled: boolean;
}

/**
 * What run's network flags asked for (state.json `networkOptions`): `start` attaches again from
 * it after a cleanup detached the network (the address is released on stop, as Docker does).
 */
export interface NetworkOptions {
  mode: string;
  aliases: string[];
  ip?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
  /** -p/-P as runPortBindings resolved them (host port 0 = a random one at each publish). */
  ports: PortBinding[];
}

// network: netns file, veth, lease, /etc/hosts and resolv.conf (src/network/attach.ts)
export async function attachContainerNetwork(ctx: Ctx, rec: Pick<ContainerRecord, "id" | "name" | "hostname">, o: NetworkOptions, undo: (() => void)[]): Promise<NetworkSettingsRecord> {
  const local = await import("../network/local.ts");
  const request = {
    id: rec.id,
    name: rec.name,
    hostname: rec.hostname,
    mode: o.mode,
    aliases: o.aliases,
    ...(o.ip !== undefined ? { ip: o.ip } : {}),
    dns: o.dns,
    dnsSearch: o.dnsSearch,
    dnsOptions: o.dnsOptions,
    extraHosts: o.extraHosts,
  };
  // none and host make nothing in the kernel: no undo, and no netlink/IPAM code to load.
  if (local.isLocalMode(o.mode)) return local.attachLocal(ctx, request);
  const { attachNetwork, detachNetwork } = await import("../network/attach.ts");
  const network = await attachNetwork(ctx, request);
  undo.push(() => detachNetwork(ctx, rec.id, network));
  return network;
}
// end network

// ports: -p/-P on the endpoint (src/network/ports.ts), after the record exists (the bindings go
// into its state.json); undone before the network goes
export async function publishContainerPorts(ctx: Ctx, rec: ContainerRecord, ports: PortBinding[], undo: (() => void)[]): Promise<void> {
  const ep = rec.network?.endpoint;
  if (ports.length === 0 || !ep) return;
  const { publishPorts, unpublishPortsSync } = await import("../network/ports.ts");
  undo.push(() => unpublishPortsSync(ctx, rec.id));
  const bindings = await publishPorts(ctx, { id: rec.id, ip: ep.ipAddress, bridge: ep.bridge, subnet: ep.subnet, bindings: ports });
  rec.ports = bindings as unknown as Record<string, unknown>[]; // later saves of the record keep them
}
// end ports

// network: a joined netns (bridge, user network, container:) or the host's instead of a new one
export function applyNetworkToPlan(plan: RunPlan, network: NetworkSettingsRecord): void {
  if (network.netns === "host") plan.namespaces = plan.namespaces.filter((n) => n !== "net");
  const others = (plan.joinNamespaces ?? []).filter((j) => j.ns !== "net");
  const joins = [...others, ...network.joinNamespaces];
  if (joins.length) plan.joinNamespaces = joins;
  else delete plan.joinNamespaces;
}
// end network

/** A container made and planned, not started: what create, run and run -d share. */
interface Prepared {
  id: string;
  name: string;
  paths: ReturnType<typeof containerPaths>;
  state: ContainerRecord;
  plan: RunPlan;
  cgroup: Cgroup;
  network: NetworkSettingsRecord;
  /** A foreground run's init, waiting for the plan (absent: launch compiles init.c). */
  early?: EarlyContainer;
  /** Undoes everything made so far (in reverse); a no-op once `keep()` was called. */
  cleanup(): void;
  /** The container stays: nothing more to undo. */
  keep(): void;
  t: ReturnType<typeof phaseTimer>;
}

/** The cgroup files whose oom_kill counter says an OOM kill happened (v2 memory.events, v1 memory.oom_control). */
export function oomFilesOf(procsFiles: string[]): string[] {
  const out: string[] = [];
  for (const f of procsFiles) {
    const dir = path.dirname(f);
    for (const name of ["memory.events", "memory.oom_control"]) {
      if (fs.existsSync(path.join(dir, name))) {
        out.push(path.join(dir, name));
        break;
      }
    }
  }
  return out;
}

/** The tinydock binary (and its script, when not compiled) the monitor execs to clean up. */
export function selfArgv(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}

/**
 * The init of a foreground run, started as soon as the container's directory exists: its process is
 * cloned and waits while the cgroup, network and plan are made (see monitor.c's launch mode). When
 * the embedded static init cannot be executed here (a memfd the kernel will not execute), undefined:
 * launch() then compiles init.c with TinyCC as before.
 */
async function startEarlyInit(ctx: Ctx, io: RunIo, networkMode: string, rm: boolean): Promise<EarlyContainer | undefined> {
  // What the plan will create (spec.ts, applyNetworkToPlan): a network namespace only for none; host
  // uses the host's, the others join one by its file, which may not exist yet (the network is made
  // after this): then the mount namespace too waits for the plan, to be unshared after the join, so
  // that the file is looked up among the host's mounts of that moment. A wrong guess is refused when
  // the plan comes.
  const local = networkMode === "none" || networkMode === "host";
  const namespaces: Namespace[] = ["pid", "uts", "ipc", ...(local ? (["mnt"] as const) : []), ...(networkMode === "none" ? (["net"] as const) : [])];
  try {
    const exe = await monitorExecutable();
    return ctx.sys.startEarly(exe, { cloneFlags: earlyCloneFlags(namespaces), fds: [io.stdin, io.stdout, io.stderr, io.ttySlave], discardAfterExit: rm });
  } catch (err) {
    ctx.log.debug(`the static container init cannot start (${(err as Error).message}): compiling init.c instead`);
    return undefined;
  }
}

async function prepareContainer(ctx: Ctx, req: RunRequest, io: RunIo, mode: "foreground" | "detached" | "create"): Promise<Prepared> {
  const deferred = mode === "create";
  // A foreground run's record is written again, durably, when it ends (or the directory goes with
  // --rm); after a power loss mid-run the container is gone anyway: no fsyncs on its way to start.
  const durable = mode !== "foreground";
  const layout = openStore(ctx.root);
  const t = phaseTimer(ctx);
  const cgroups = detectCgroups(ctx.cgroupRoot, { sys: ctx.sys });
  const id = newContainerId();
  // A generated name avoids the names in use (Docker's generator retries the same way).
  const name = req.name ?? randomName(new Set(listContainers(ctx.root).map((c) => c.name)));
  if (req.name) checkNameFree(ctx.root, req.name); // early, before any work; again under the lock below
  const paths = containerPaths(ctx.root, id);
  const hostname = req.hostname ?? id.slice(0, 12);
  const undo: (() => void)[] = [];
  const cleanup = () => runUndo(undo, ctx.log.warn, `cleanup of container ${id.slice(0, 12)}`);
  try {
    // The cgroup first: the first migration into it waits out an RCU grace period (5-10 ms here),
    // which create() starts at once (primeJoin) and which then passes while the init is spawned, the
    // image read, the container's directory, network and plan made and the init mounts (it joins
    // last, see init.c). A crash from here on leaves a tinydock/<id> cgroup that reconcile finds by
    // its name.
    const devices = hostDevices(req.devices ?? []);
    const cgroup = cgroups.create(id, req.resources, { allDevices: req.privileged, devices: devices.map((d) => d.rule) });
    for (const w of cgroup.warnings ?? []) io.pullOut(`WARNING: ${w}\n`);
    undo.push(() => cgroup.destroy());
    t.mark("cgroup");
    // A foreground run's init: it clones the container's process at once, which waits for its plan.
    const early = mode === "foreground" ? await startEarlyInit(ctx, io, req.network ?? "bridge", req.rm) : undefined;
    if (early) undo.push(() => early.abort()); // before the cgroup goes (undo runs in reverse)
    t.mark("init started");
    const record = await findOrPull(ctx, layout, req, io);
    t.mark("image");
    const image = JSON.parse(new TextDecoder().decode(readBlob(layout, record.id))) as ImageConfig;
    const config: ContainerConfig = image.config ?? {};
    fs.mkdirSync(path.dirname(paths.dir), { recursive: true, mode: 0o700 });
    // The directory appears with its lock already held (made under a temporary name, locked,
    // renamed), and the lock is kept until the record exists: a directory without state.json whose
    // lock is free is what a killed create left, and reconcile removes it at once.
    const making = path.join(path.dirname(paths.dir), `${CREATING_PREFIX}${id}`);
    fs.mkdirSync(making, { mode: 0o700 });
    undo.push(() => fs.rmSync(making, { recursive: true, force: true }));
    const creating = tryLock({ sys: ctx.sys, sleep: ctx.sleep }, path.join(making, "lock"));
    undo.push(() => creating?.release());
    fs.renameSync(making, paths.dir);
    undo.push(() => fs.rmSync(paths.dir, { recursive: true, force: true }));
    t.mark("container dir");
    for (const d of [paths.upper, paths.work, paths.rootfs]) fs.mkdirSync(d, { mode: 0o755 });
    fs.writeFileSync(paths.hostname, `${hostname}\n`, { mode: 0o644 });
    // network and ports: what the flags asked for, kept for `start`
    const { runPortBindings } = await import("../network/portspec.ts");
    const published = runPortBindings({ publish: req.publish ?? [], publishAll: req.publishAll ?? false, exposedPorts: config.ExposedPorts, networkMode: req.network ?? "bridge" });
    if (published.warning) io.pullOut(`WARNING: ${published.warning}\n`);
    const networkOptions: NetworkOptions = {
      mode: req.network ?? "bridge",
      aliases: req.networkAliases ?? [],
      ...(req.ip !== undefined ? { ip: req.ip } : {}),
      dns: req.dns ?? [],
      dnsSearch: req.dnsSearch ?? [],
      dnsOptions: req.dnsOptions ?? [],
      extraHosts: req.extraHosts ?? [],
      ports: published.bindings,
    };
    const network = await attachContainerNetwork(ctx, { id, name, hostname }, networkOptions, undo);
    t.mark("network");

    const state: ContainerRecord = {
      id,
      name,
      image: req.image,
      imageId: record.id,
      created: new Date(ctx.clock()).toISOString(),
      args: req.args,
      hostname,
      state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
      ...(req.labels && Object.keys(req.labels).length ? { labels: req.labels } : {}),
      autoRemove: req.rm,
      restartPolicy: req.restart ?? { name: "no", maximumRetryCount: 0 },
      logConfig: req.logConfig ?? { maxSize: DEFAULT_LOG_MAX_SIZE, maxFile: DEFAULT_LOG_MAX_FILE },
      config: {
        ...(req.tty ? { Tty: true } : {}),
        ...(req.interactive ? { OpenStdin: true } : {}),
        ...(req.labels ? { Labels: req.labels } : {}),
      },
      hostConfig: {
        AutoRemove: req.rm,
        Privileged: req.privileged,
        ...(req.devices?.length ? { Devices: req.devices.map((d) => ({ PathOnHost: d.hostPath, PathInContainer: d.containerPath, CgroupPermissions: d.permissions })) } : {}),
        ReadonlyRootfs: req.readOnly,
        RestartPolicy: { Name: req.restart?.name ?? "no", MaximumRetryCount: req.restart?.maximumRetryCount ?? 0 },
        LogConfig: { Type: "json-file", Config: logOptsConfig(req.logConfig) },
        Init: req.init,
        NetworkMode: req.network ?? "bridge",
        // Docker's names; also what `start` makes the cgroup again from after a cleanup took it.
        ...resourcesToHostConfig(req.resources),
      },
      network, // network
      networkOptions,
    };
    state.cgroupPath = cgroup.procsFiles.map((f) => path.dirname(f));
    // Two detached runs or creates with one --name (scripts start them in parallel): the names lock
    // makes the check and the record one step. A foreground run keeps its lock-free start.
    if (req.name && (req.detach || deferred)) {
      await withNamesLock(ctx, () => {
        checkNameFree(ctx.root, req.name!);
        saveContainer(ctx.root, state, durable);
      });
    } else {
      saveContainer(ctx.root, state, durable);
    }
    creating?.release(); // the record exists: from here rm, stop and reconcile judge it by its state
    // ports (after the record exists: the bindings go into its state.json)
    await publishContainerPorts(ctx, state, networkOptions.ports, undo);
    // end ports

    const volumeSpecs = withImageVolumes(req.volumes, config.Volumes);
    const volumes = prepareVolumes(ctx, layout, record, volumeSpecs, undo, req.rm, state.id);
    const binds: ResolvedBind[] = volumes.binds;
    const tmpfs: TmpfsMount[] = volumes.tmpfs;
    if (volumeSpecs.length) {
      state.mounts = mountsRecord(volumeSpecs, binds);
      saveContainer(ctx.root, state, durable);
    }

    t.mark("record, volumes");
    const wanted = resolveCapabilities({ add: req.capAdd, drop: req.capDrop, privileged: req.privileged, lastCap: lastCap() });
    // Nobody can hand out a capability it lacks: --privileged means all of the engine's own.
    const own = ownBoundingSet();
    const caps = { ...wanted, bounding: wanted.bounding & own, effective: wanted.effective & own, permitted: wanted.permitted & own };
    const seccomp =
      req.seccomp && !req.privileged
        ? cachedDefaultSeccomp(seccompCacheDir(ctx.root), capabilityNames(caps.bounding), {
            arch: process.arch === "arm64" ? "aarch64" : "x86_64",
            kernelRelease: os.release(),
          })
        : null;
    t.mark("seccomp");
    const plan = buildRunPlan({
      config,
      args: req.args,
      ...(req.entrypoint !== undefined ? { entrypoint: req.entrypoint } : {}),
      env: req.env,
      ...(req.user !== undefined ? { user: req.user } : {}),
      groupAdd: req.groupAdd,
      ...(req.workdir !== undefined ? { workdir: req.workdir } : {}),
      hostname,
      tty: req.tty,
      init: req.init,
      privileged: req.privileged,
      devices: devices.map((d) => d.node),
      readonlyRoot: req.readOnly,
      noNewPrivileges: req.noNewPrivileges,
      passwd: readImageFile(ctx.sys, layout, record, "/etc/passwd"),
      group: readImageFile(ctx.sys, layout, record, "/etc/group"),
      rootfs: overlayMount({
        lowers: lowerLinks(layout, record),
        upper: paths.upper,
        work: paths.work,
        target: paths.rootfs,
        root: layout.root,
        emptyLower: path.relative(layout.root, layout.emptyDir),
      }),
      rootfsPath: paths.rootfs,
      etcFiles: { hostname: paths.hostname, hosts: paths.hosts, resolvConf: paths.resolvConf },
      binds,
      tmpfs,
      cgroupProcs: cgroup.procsFiles,
      capabilities: caps,
      seccomp,
      rlimits: req.ulimits,
      stdio: early ? [early.fdMap[0]!, early.fdMap[1]!, early.fdMap[2]!] : [io.stdin, io.stdout, io.stderr],
      ttySlave: early ? early.fdMap[3]! : io.ttySlave,
      timeNamespace: timeNamespaceAvailable(),
    });
    applyNetworkToPlan(plan, network); // network
    t.mark("plan");
    return { id, name, paths, state, plan, cgroup, network, ...(early ? { early } : {}), cleanup, keep: () => void (undo.length = 0), t };
  } catch (err) {
    cleanup();
    throw err;
  }
}

/**
 * --device: each host path's node (followed through symlinks, as Docker does) as the plan makes it in
 * the container, and the device rule that lets the container use it.
 */
export function hostDevices(specs: DeviceSpec[]): { node: RunPlan["devices"][number]; rule: DeviceRule }[] {
  return specs.map((d) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(d.hostPath);
    } catch (err) {
      throw new NotFoundError(`Cannot use device "${d.hostPath}": ${(err as Error).message}`, { cause: err });
    }
    const type = st.isBlockDevice() ? "b" : st.isCharacterDevice() ? "c" : null;
    if (!type) throw new InvalidArgumentError(`Cannot use device "${d.hostPath}": not a device node`);
    const major = devMajor(st.rdev);
    const minor = devMinor(st.rdev);
    return {
      node: { path: d.containerPath, type, major, minor, mode: st.mode & 0o777, uid: 0, gid: 0 },
      rule: deviceAllowRule(type, major, minor, d.permissions),
    };
  });
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

function logOptsConfig(c: RunRequest["logConfig"]): Record<string, string> {
  return c ? { "max-size": String(c.maxSize), "max-file": String(c.maxFile) } : {};
}

/** Where create saves the encoded plan that `start` hands to the monitor. */
export function planFile(dir: string): string {
  return path.join(dir, "plan.bin");
}

export async function runContainer(ctx: Ctx, req: RunRequest, io: RunIo, hooks: RunHooks = {}): Promise<RunOutcome> {
  const p = await prepareContainer(ctx, req, io, "foreground");
  const { id, paths, state, plan, cgroup, t } = p;
  try {
    // For `exec` into it while it runs and `start` after it ended (no fsync: a page-cache write),
    // written while the container's process mounts.
    const savePlan = () => fs.writeFileSync(planFile(paths.dir), encodePlan({ ...plan, stdio: [-1, -1, -1], ttySlave: -1 }), { mode: 0o600 });
    const launched = await launch(ctx.sys, plan, p.early, savePlan);
    t.mark("launch (compile, clone, mounts, exec)");
    const startedAt = new Date(ctx.clock()).toISOString();
    // Not saved to state.json: the live state is run.json's (two fsyncs less on every run).
    state.state = { ...state.state, status: "running", pid: launched.pid, startedAt };
    // This process supervises the container: run.json names it, as the monitor names itself.
    const run = {
      status: "running" as const,
      pid: launched.pid,
      pidStartTime: processStartTime(launched.pid) ?? 0,
      monitorPid: process.pid,
      monitorStartTime: processStartTime(process.pid) ?? 0,
      startedAt,
      finishedAt: ZERO_TIME,
      exitCode: 0,
      oomKilled: false,
      restartCount: 0,
      error: "",
    };
    writeRunState(paths.dir, run);
    hooks.started?.(launched);
    const status = await launched.exited;
    t.mark("container ran");
    const oomKilled = cgroup.oomKilled();
    const exitCode = oomKilled && status.exitCode === 128 + 9 ? 137 : status.exitCode;
    const finishedAt = new Date(ctx.clock()).toISOString();
    state.state = { ...state.state, status: "exited", pid: 0, exitCode, oomKilled, finishedAt };
    if (req.rm) {
      // The directory leaves the listing in one rename; the early init deletes it while we exit
      // (the upper dir holds whatever the container wrote: deleting it took 2-4 ms for `true`).
      // Handed over first: it deletes while the cleanup below (cgroup, lock) runs.
      const trash = p.early ? trashContainerDir(ctx.root, id) : undefined;
      const handed = trash !== undefined && p.early!.discard(trash);
      p.cleanup();
      if (trash && !handed) fs.rmSync(trash, { recursive: true, force: true });
    } else {
      // Keep the container (stopped) as Docker does; the cgroup goes, the record stays.
      cgroup.destroy();
      if (state.ports?.length) {
        const { unpublishPortsSync } = await import("../network/ports.ts"); // ports
        unpublishPortsSync(ctx, id); // ports
        delete state.ports; // ports
      }
      if (p.network.mode !== "none" && p.network.mode !== "host") {
        const { detachNetwork } = await import("../network/attach.ts"); // network
        detachNetwork(ctx, id, p.network); // network: the address is released on stop, as Docker
      }
      saveContainer(ctx.root, state);
      writeRunState(paths.dir, { ...run, status: "exited", pid: 0, pidStartTime: 0, finishedAt, exitCode, oomKilled });
      p.keep();
      // Its rootfs stays mounted in the namespace the early init holds until it is gone: `start`
      // run next could not mount the same upper and work directories again before that.
      await p.early?.ended;
    }
    t.mark("cleanup");
    t.report();
    return { id, exitCode, oomKilled };
  } catch (err) {
    p.cleanup();
    throw err;
  }
}

/** `create`: the container's directory, state.json, cgroup and plan.bin; nothing runs. */
export async function createContainer(ctx: Ctx, req: RunRequest, io: RunIo): Promise<{ id: string }> {
  const p = await prepareContainer(ctx, req, { ...io, stdin: -1, stdout: -1, stderr: -1, ttySlave: -1 }, "create");
  try {
    fs.writeFileSync(planFile(p.paths.dir), encodePlan(p.plan), { mode: 0o600 });
    p.keep();
    return { id: p.id };
  } catch (err) {
    p.cleanup();
    throw err;
  }
}

/** `run -d`: create, then a monitor starts and supervises it. Resolves once the command runs. */
export async function runDetached(ctx: Ctx, req: RunRequest, io: RunIo): Promise<{ id: string } & Detached> {
  const p = await prepareContainer(ctx, req, { ...io, stdin: -1, stdout: -1, stderr: -1, ttySlave: -1 }, "detached");
  try {
    fs.writeFileSync(planFile(p.paths.dir), encodePlan(p.plan), { mode: 0o600 });
    const { startDetached } = await import("./monitor.ts");
    const d = await startDetached(ctx, detachedRequest(p.state, p.paths.dir, p.plan, p.cgroup.procsFiles));
    p.keep();
    p.t.mark("monitor started");
    p.t.report();
    return { id: p.id, ...d };
  } catch (err) {
    p.cleanup();
    throw err;
  }
}

/** What the monitor needs, from the container's record and plan. */
export function detachedRequest(rec: ContainerRecord, dir: string, plan: RunPlan, procsFiles: string[]) {
  return {
    id: rec.id,
    dir,
    plan,
    log: { path: path.join(dir, `${rec.id}-json.log`), maxSize: rec.logConfig?.maxSize ?? DEFAULT_LOG_MAX_SIZE, maxFile: rec.logConfig?.maxFile ?? DEFAULT_LOG_MAX_FILE },
    restart: rec.restartPolicy ?? { name: "no" as const, maximumRetryCount: 0 },
    oomFiles: oomFilesOf(procsFiles),
    cleanupArgv: [...selfArgv(), "container", "cleanup", rec.id],
    tty: rec.config?.Tty === true,
  };
}
