// A container made and planned, not started: what run, run -d and create share. Each step makes one
// thing and pushes its undo; a failing step undoes every earlier one (in reverse), so nothing is
// left behind: no cgroup, directory, network, port rule or volume.
import { DEFAULT_CONSOLE_SIZE } from "../tty.ts";
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../../context.ts";
import { FailedPreconditionError, isKind, NotFoundError } from "../../errors.ts";
import type { ContainerConfig, ImageConfig } from "../../image/manifest.ts";
import type { NetworkSettingsRecord } from "../../network/local.ts";
import type { DeviceRule } from "../../runtime/cgroups/devices.ts";
import { detectCgroups, type Cgroup, type CgroupManager } from "../../runtime/cgroups/index.ts";
import { earlyCloneFlags } from "../../runtime/encode.ts";
import type { Namespace, RunPlan } from "../../runtime/plan.ts";
import type { ResolvedBind, TmpfsMount } from "../../runtime/spec.ts";
import { readBlob } from "../../store/content.ts";
import { checkNameFree, containerPaths, CREATING_PREFIX, namesInUse, newContainerId, randomName, saveContainer, withNamesLock, type ContainerPaths, type ContainerRecord } from "../../store/containers.ts";
import { resolveImage, type ImageRecord } from "../../store/images.ts";
import { openStore } from "../../store/init.ts";
import type { StoreLayout } from "../../store/layout.ts";
import { tryLock, type Lock } from "../../store/lock.ts";
import type { EarlyContainer, EarlyLog } from "../../sys/sys.ts";
import { markPending, registerRoot } from "../../store/owners.ts";
import { runUndo } from "../../undo.ts";
import { DEFAULT_LOG_MAX_FILE, DEFAULT_LOG_MAX_SIZE, monitorExecutable } from "../monitor.ts";
import { applyNetworkToPlan, attachContainerNetwork, publishContainerPorts, type NetworkOptions } from "../network-setup.ts";
import { containerRecord, mountsRecord } from "../record.ts";
import { imageUserSpec } from "../../runtime/user.ts";
import { withImageVolumes, type VolumeSpec } from "../../runtime/volumes.ts";
import { prepareVolumes } from "../volumes.ts";
import { hostDevices } from "./devices.ts";
import { allPrivate, ownNamespaces, pid1OrFail, pidNamespaceToJoin, type ResolvePid1 } from "./namespaces.ts";
import type { ProcessRef } from "../../sys/procfs.ts";
import { applyPlanFlags } from "./plan-flags.ts";
import { applySysctls } from "./sysctls.ts";
import { containerCapabilities, containerPlan, seccompFilter } from "./plan.ts";
import type { RunIo, RunRequest } from "./request.ts";

type Undo = (() => void)[];

/** How the container will be run: a foreground run's init starts early; create and run -d wait. */
export type PrepareMode = "foreground" | "detached" | "create";

export interface Prepared {
  id: string;
  name: string;
  paths: ContainerPaths;
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
  t: PhaseTimer;
}

export async function prepareContainer(ctx: Ctx, req: RunRequest, io: RunIo, mode: PrepareMode): Promise<Prepared> {
  // A foreground run's record is written again, durably, when it ends (or the directory goes with
  // --rm); after a power loss mid-run the container is gone anyway: no fsyncs on its way to start.
  // A detached run's record is made durable by its monitor once it has reported the start
  // (monitor/state.c sync_record), so the CLI does not wait for the disk either.
  const durable = mode !== "foreground";
  const durableRecord = mode === "create";
  const layout = openStore(ctx.root);
  const t = phaseTimer(ctx);
  const cgroups = detectCgroups(ctx.cgroupRoot, { sys: ctx.sys });
  const id = newContainerId();
  const name = containerName(ctx, req.name);
  const paths = containerPaths(ctx.root, id);
  const hostname = req.process.hostname ?? id.slice(0, 12);
  const undo: Undo = [];
  const cleanup = () => runUndo(undo, ctx.log.warn, `cleanup of container ${id.slice(0, 12)}`);
  try {
    // Other roots on this host must see the cgroup as someone's before the directory exists.
    const pending = claimId(ctx, id, undo, cgroups, req.resources.cgroupParent);
    const shared = req.volumesFrom || req.links ? await sharedFromOthers(ctx, req, name, mode !== "create") : undefined;
    const devices = hostDevices(req.resources.devices);
    const cgroup = makeCgroup(cgroups, id, req, devices.map((d) => d.rule), io, undo);
    t.mark("cgroup");
    // A foreground run's init: it clones the container's process at once, which waits for its plan.
    const early = mode === "foreground" ? await startEarlyInit(ctx, io, req, undo, foregroundLog(req, paths.dir, id)) : undefined;
    t.mark("init started");
    const image = await findOrPull(ctx, layout, req, io);
    t.mark("image");
    const config = imageConfig(layout, image);
    if (req.process.imageUser) req.process.user = imageUserSpec(config.User ?? "", req.process.imageUser, name);
    const creating = makeContainerDir(ctx, paths, id, undo);
    t.mark("container dir");
    writeContainerFiles(paths, hostname);
    const networkOptions = await networkOptionsOf(req, config, io);
    if (shared?.hosts.length) networkOptions.links = shared.hosts;
    if (shared?.hostConfigLinks.length) req.hostConfig = { ...req.hostConfig, Links: shared.hostConfigLinks };
    const network = await attachContainerNetwork(ctx, { id, name, hostname }, networkOptions, undo);
    t.mark("network");

    const created = new Date(ctx.clock()).toISOString();
    const cgroupPath = cgroup.procsFiles.map((f) => path.dirname(f));
    const state = containerRecord(req, { id, name, hostname, imageId: image.id, created, network, networkOptions, cgroupPath, imageConfig: config });
    await saveNewRecord(ctx, state, req, durableRecord);
    pending.release(); // the record names the cgroup from here
    creating?.release(); // the record exists: from here rm, stop and reconcile judge it by its state
    await publishContainerPorts(ctx, state, networkOptions.ports, undo);
    const { binds, tmpfs } = mountVolumes(ctx, layout, image, config, shared?.volumes ?? req.volumes, req, state, undo, durable);
    t.mark("record, volumes");

    const capabilities = containerCapabilities(req.security);
    const seccomp = seccompFilter(ctx, req.security, capabilities);
    t.mark("seccomp");
    const plan = containerPlan(ctx, req, {
      layout,
      image,
      config,
      paths,
      hostname,
      devices: devices.map((d) => d.node),
      binds,
      tmpfs,
      cgroupProcs: cgroup.procsFiles,
      capabilities,
      seccomp,
      stdio: early ? [early.fdMap[0]!, early.fdMap[1]!, early.fdMap[2]!] : [io.stdin, io.stdout, io.stderr],
      consoleSocket: early ? early.fdMap[3]! : io.consoleSocket,
    });
    if (shared?.env.length) plan.env = (await import("./links.ts")).withLinkEnv(plan.env, shared.env);
    if (req.process.tty) plan.consoleSize = io.consoleSize ?? { ...DEFAULT_CONSOLE_SIZE };
    applyNetworkToPlan(plan, network);
    if (allPrivate(req.namespaces)) applyPlanFlags(plan, req);
    else {
      const { shareShm, shmResolver } = await import("./shm.ts");
      applyPlanFlags(plan, req, await containerPid1(ctx), await shmResolver(ctx));
      if (req.namespaces.ipc === "shareable") shareShm(ctx, plan, paths.dir, req.resources.shmSize, undo);
    }
    if (req.security.sysctls?.length) applySysctls(ctx, req.security.sysctls, network, plan);
    t.mark("plan");
    return { id, name, paths, state, plan, cgroup, network, ...(early ? { early } : {}), cleanup, keep: () => void (undo.length = 0), t };
  } catch (err) {
    cleanup();
    throw err;
  }
}

/**
 * The cgroup first: the first migration into it waits out an RCU grace period (5-10 ms here), which
 * create() starts at once (primeJoin) and which then passes while the init is spawned, the image
 * read, the container's directory, network and plan made and the init mounts (it joins last, see
 * init.c). A crash from here on leaves a tinydock/<id> cgroup that reconcile finds by its name, or
 * one under --cgroup-parent that it finds in the pending record (claimId).
 */
function makeCgroup(cgroups: CgroupManager, id: string, req: RunRequest, deviceRules: DeviceRule[], io: RunIo, undo: Undo): Cgroup {
  const rules = req.resources.deviceCgroupRules?.length ? [...deviceRules, ...req.resources.deviceCgroupRules] : deviceRules;
  const parent = req.resources.cgroupParent;
  const cgroup = cgroups.create(id, req.resources.limits, { allDevices: req.security.privileged, devices: rules, ...(parent ? { parent } : {}) });
  for (const w of [...(req.warnings ?? []), ...(cgroup.warnings ?? [])]) io.pullOut(`WARNING: ${w}\n`);
  undo.push(() => cgroup.destroy());
  return cgroup;
}

/**
 * The id marked as this root's (store/owners.ts) until its record exists, so no other root's
 * reconcile takes its cgroup; a cgroup under --cgroup-parent is named there, for this root's
 * reconcile to find after a crash (it scans only tinydock/ by name).
 */
function claimId(ctx: Ctx, id: string, undo: Undo, cgroups: CgroupManager, parent: string | undefined): { release(): void } {
  registerRoot(ctx);
  const pending = markPending(ctx, id, parent ? cgroups.open(id, parent).procsFiles.map((f) => path.dirname(f)) : undefined);
  undo.push(() => pending.release());
  return pending;
}

/** --name, checked early (before any work; again under the names lock when the record is saved), or a generated one. */
function containerName(ctx: Ctx, wanted: string | undefined): string {
  // A generated name avoids the names in use (Docker's generator retries the same way).
  const name = wanted ?? randomName(namesInUse(ctx.root));
  if (wanted) checkNameFree(ctx.root, wanted);
  return name;
}

/**
 * The init of a foreground run, started as soon as the container's directory exists: its process is
 * cloned and waits while the cgroup, network and plan are made (see monitor.c's launch mode). It runs
 * from a sealed memfd, or where memfds are not executable from a read-only copy (ffi.ts
 * memfdExecutable); when neither can be had the run is refused. Never init.c compiled with TinyCC
 * into this process: its clone is this binary, and under --init the container's PID 1 would stay it,
 * the host's tinydock as /proc/1/exe to a container with CAP_SYS_PTRACE (CVE-2019-5736's class).
 */
/**
 * A foreground run's json-file log (Docker keeps one for every container it keeps): the early init
 * tees stdout and stderr into it. None with --rm (the log goes with the container: the caller's fds
 * go to the container directly, the fast path) or with --log-driver none. With -t the CLI copies the
 * terminal (tty.ts) and a copy comes to the init through io.logFeed, logged as stdout.
 */
export function foregroundLog(req: RunRequest, dir: string, id: string): EarlyLog | undefined {
  if (req.lifetime.rm || req.lifetime.logDriver === "none") return undefined;
  const c = req.lifetime.logConfig;
  return { path: path.join(dir, `${id}-json.log`), maxSize: c?.maxSize ?? DEFAULT_LOG_MAX_SIZE, maxFile: c?.maxFile ?? DEFAULT_LOG_MAX_FILE };
}

async function startEarlyInit(ctx: Ctx, io: RunIo, req: RunRequest, undo: Undo, log: EarlyLog | undefined): Promise<EarlyContainer> {
  // What the plan will create (spec.ts, applyNetworkToPlan): a network namespace only for none; host
  // uses the host's, the others join one by its file, which may not exist yet (the network is made
  // after this): then the mount namespace too waits for the plan, to be unshared after the join, so
  // that the file is looked up among the host's mounts of that moment. A wrong guess is refused when
  // the plan comes.
  const networkMode = req.network.mode;
  const local = networkMode === "none" || networkMode === "host";
  // --pid/--uts/--ipc other than private: that namespace is not the init's own (run/namespaces.ts).
  const own = ownNamespaces(req.namespaces);
  const namespaces: Namespace[] = [...(["pid", "uts", "ipc"] as const).filter((n) => own.has(n)), ...(local ? (["mnt"] as const) : []), ...(networkMode === "none" ? (["net"] as const) : [])];
  const pidNamespace = req.namespaces.pid.startsWith("container:") ? pidNamespaceToJoin(req.namespaces, await containerPid1(ctx)) : undefined;
  let early: EarlyContainer;
  const feed = req.process.tty && io.logFeed !== undefined && io.logFeed >= 0;
  if (log && req.process.tty && !feed) log = undefined; // a terminal without its copy: nothing to log
  try {
    const exe = await monitorExecutable();
    early = ctx.sys.startEarly(exe, {
      cloneFlags: earlyCloneFlags(namespaces),
      fds: [io.stdin, io.stdout, io.stderr, io.consoleSocket, ...(feed ? [io.logFeed!] : [])],
      discardAfterExit: req.lifetime.rm,
      ...(log ? { log: { ...log, feed } } : {}),
      ...(pidNamespace ? { pidNamespace } : {}),
    });
  } catch (err) {
    throw new FailedPreconditionError(`Cannot start the container init: ${(err as Error).message}`, { cause: err });
  }
  undo.push(() => early.abort()); // before the cgroup goes (undo runs in reverse)
  return early;
}

/** The image, pulled first when missing (--pull missing), always (--pull always) or never (refused). */
async function findOrPull(ctx: Ctx, layout: StoreLayout, req: RunRequest, io: RunIo): Promise<ImageRecord> {
  if (req.pull !== "always") {
    try {
      return resolveImage(layout, req.image).record;
    } catch (err) {
      if (!isKind(err, "NotFound")) throw err;
      // Docker's words, exit 125.
      if (req.pull === "never") throw new NotFoundError(`No such image: ${withTag(req.image)}`, { cause: err });
    }
    io.pullOut(`Unable to find image '${req.image}' locally\n`);
  }
  const { pullImage } = await import("../../rootfs/pull.ts");
  const res = await pullImage(ctx, req.image, req.platform ? { platform: req.platform } : {});
  io.pullOut(`Digest: ${res.digest}\nStatus: Downloaded newer image for ${req.image}\n`);
  return res.record;
}

/** --ipc/--uts container:NAME: that container's PID 1, which must be running. */
async function containerPid1(ctx: Ctx): Promise<ResolvePid1> {
  const { findLive } = await import("../live.ts");
  // A pod's member joins its infra's net, ipc and uts: one reading serves all three.
  const known = new Map<string, ProcessRef>();
  return (ref) => {
    let pid = known.get(ref);
    if (pid === undefined) {
      const c = findLive(ctx, ref);
      pid = { pid: pid1OrFail(ref, c.state.Pid, c.state.Running), startTime: c.state.pidStartTime };
      known.set(ref, pid);
    }
    return pid;
  };
}

/** "busybox" → "busybox:latest", as Docker names a reference in its errors. */
function withTag(ref: string): string {
  return ref.includes("@") || ref.slice(ref.lastIndexOf("/") + 1).includes(":") ? ref : `${ref}:latest`;
}

function imageConfig(layout: StoreLayout, image: ImageRecord): ContainerConfig {
  const config = JSON.parse(new TextDecoder().decode(readBlob(layout, image.id))) as ImageConfig;
  return config.config ?? {};
}

/**
 * The directory appears with its lock already held (made under a temporary name, locked, renamed),
 * and the lock is kept until the record exists: a directory without state.json whose lock is free
 * is what a killed create left, and reconcile removes it at once.
 */
function makeContainerDir(ctx: Ctx, paths: ContainerPaths, id: string, undo: Undo): Lock | null {
  fs.mkdirSync(path.dirname(paths.dir), { recursive: true, mode: 0o700 });
  const making = path.join(path.dirname(paths.dir), `${CREATING_PREFIX}${id}`);
  fs.mkdirSync(making, { mode: 0o700 });
  undo.push(() => fs.rmSync(making, { recursive: true, force: true }));
  const creating = tryLock({ sys: ctx.sys, sleep: ctx.sleep }, path.join(making, "lock"));
  undo.push(() => creating?.release());
  fs.renameSync(making, paths.dir);
  undo.push(() => fs.rmSync(paths.dir, { recursive: true, force: true }));
  return creating;
}

/** The overlay's directories and the /etc/hostname the container gets. */
function writeContainerFiles(paths: ContainerPaths, hostname: string): void {
  for (const d of [paths.upper, paths.work, paths.rootfs]) fs.mkdirSync(d, { mode: 0o755 });
  fs.writeFileSync(paths.hostname, `${hostname}\n`, { mode: 0o644 });
}

/** The network flags and the ports -p/-P resolve to against the image: kept for `start`. */
async function networkOptionsOf(req: RunRequest, config: ContainerConfig, io: RunIo): Promise<NetworkOptions> {
  const { runPortBindings } = await import("../../network/portspec.ts");
  const published = runPortBindings({ publish: req.ports.publish, publishAll: req.ports.publishAll, exposedPorts: config.ExposedPorts, networkMode: req.network.mode });
  if (published.warning) io.pullOut(`WARNING: ${published.warning}\n`);
  const n = req.network;
  return {
    mode: n.mode,
    aliases: n.aliases,
    ...(n.ip !== undefined ? { ip: n.ip } : {}),
    dns: n.dns,
    dnsSearch: n.dnsSearch,
    dnsOptions: n.dnsOptions,
    extraHosts: n.extraHosts,
    ...(n.macAddress !== undefined ? { macAddress: n.macAddress } : {}),
    ...(n.linkLocalIps?.length ? { linkLocalIps: n.linkLocalIps } : {}),
    ports: published.bindings,
  };
}

/**
 * Two runs or creates with one --name (scripts start them in parallel, foreground ones too): the
 * names lock makes the check and the record one step, so one wins and the others get Docker's
 * conflict. A run without --name takes no lock (its generated name avoids the names in use).
 */
async function saveNewRecord(ctx: Ctx, state: ContainerRecord, req: RunRequest, durable: boolean): Promise<void> {
  const wanted = req.name;
  if (wanted) {
    await withNamesLock(ctx, () => {
      checkNameFree(ctx.root, wanted);
      saveContainer(ctx.root, state, durable);
    });
  } else {
    saveContainer(ctx.root, state, durable);
  }
}

/** --volumes-from's and --link's containers; a link's address when the container starts now (its live state read: it must be running). */
async function sharedFromOthers(ctx: Ctx, req: RunRequest, name: string, startsNow: boolean) {
  const [{ resolveShared }, { readLive }] = await Promise.all([import("./links.ts"), import("../live.ts")]);
  return resolveShared(ctx, req, name, startsNow ? (rec) => readLive(ctx, rec).state.Running : undefined);
}

/** -v/--mount/--tmpfs, --volumes-from and the image's VOLUMEs: sources made or seeded, and Docker's Mounts in the record. */
function mountVolumes(ctx: Ctx, layout: StoreLayout, image: ImageRecord, config: ContainerConfig, own: VolumeSpec[], req: RunRequest, state: ContainerRecord, undo: Undo, durable: boolean): { binds: ResolvedBind[]; tmpfs: TmpfsMount[] } {
  const specs = withImageVolumes(own, config.Volumes);
  const volumes = prepareVolumes(ctx, layout, image, specs, undo, req.lifetime.rm, state.id);
  if (specs.length) {
    state.mounts = mountsRecord(specs, volumes.binds);
    saveContainer(ctx.root, state, durable);
  }
  return volumes;
}

export type PhaseTimer = ReturnType<typeof phaseTimer>;

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
