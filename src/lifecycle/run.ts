// `run`: image → container dir → cgroup → plan → launch → wait → record or remove.
// Everything this creates is undone on every failure path; with --rm also on success.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { isKind } from "../errors.ts";
import type { ContainerConfig, ImageConfig } from "../image/manifest.ts";
import { readImageFile } from "../rootfs/imagefile.ts";
import { lowerLinks } from "../rootfs/images.ts";
import { overlayMount } from "../rootfs/mount.ts";
import type { PullOptions } from "../rootfs/pull.ts";
import { detectCgroups, type Cgroup } from "../runtime/cgroups/index.ts";
import { resolveCapabilities, capabilityNames } from "../runtime/capabilities.ts";
import { launch, type Launched } from "../runtime/launch.ts";
import type { Rlimit } from "../runtime/plan.ts";
import type { Resources } from "../runtime/resources.ts";
import { cachedDefaultSeccomp, seccompCacheDir } from "../runtime/seccomp/cache.ts";
import { buildRunPlan, type ResolvedBind, type TmpfsMount } from "../runtime/spec.ts";
import type { VolumeSpec } from "../runtime/volumes.ts";
import { readBlob } from "../store/content.ts";
import { resolveImage, type ImageRecord } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import type { StoreLayout } from "../store/layout.ts";
import { encodePlan } from "../runtime/encode.ts";
import type { JoinNamespace, RunPlan } from "../runtime/plan.ts";
import { checkNameFree, containerFiles, containerPaths, newContainerId, randomName, saveContainer, type ContainerRecord } from "./containers.ts";
import { processStartTime } from "./liveness.ts";
import { DEFAULT_LOG_MAX_FILE, DEFAULT_LOG_MAX_SIZE, writeRunState, ZERO_TIME, type Detached, type RestartPolicy } from "./monitor.ts";
import { containerResolvConf, hostsFile } from "./etc.ts";
import { prepareVolumes } from "./volumes.ts";

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
 * NETWORK ATTACH HOOK (net/ports helpers, lead integrates): make the container's network here —
 * `rec.network = await attachNetwork(ctx, {id: rec.id, name: rec.name, hostname: rec.hostname, mode, aliases})`,
 * then `publishPorts(…)` — push its undo (`detachNetwork`, `unpublishPorts`) onto `undo`, save the
 * record, and return the namespaces the container joins: `[{ ns: "net", path: <root>/netns/<id> }]`
 * (plus "ipc"/"uts" of the other container for --network container:). The container's init
 * setns()es into them (RunPlan.joinNamespaces) instead of creating its own. Teardown on exit is
 * network-teardown.ts's teardownNetwork. With no network (only "none" so far) nothing is joined.
 */
async function attachNetworkHook(_ctx: Ctx, _rec: ContainerRecord, _undo: (() => void)[]): Promise<JoinNamespace[]> {
  return [];
}

/** A container made and planned, not started: what create, run and run -d share. */
interface Prepared {
  id: string;
  name: string;
  paths: ReturnType<typeof containerPaths>;
  state: ContainerRecord;
  plan: RunPlan;
  cgroup: Cgroup;
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

async function prepareContainer(ctx: Ctx, req: RunRequest, io: RunIo): Promise<Prepared> {
  const layout = openStore(ctx.root);
  const t = phaseTimer(ctx);
  const record = await findOrPull(ctx, layout, req, io);
  t.mark("image");
  const image = JSON.parse(new TextDecoder().decode(readBlob(layout, record.id))) as ImageConfig;
  const config: ContainerConfig = image.config ?? {};
  const id = newContainerId();
  const name = req.name ?? randomName();
  if (req.name) checkNameFree(ctx.root, req.name);
  const paths = containerPaths(ctx.root, id);
  const hostname = req.hostname ?? id.slice(0, 12);
  const undo: (() => void)[] = [];
  const cleanup = () => {
    for (const fn of undo.reverse()) {
      try {
        fn();
      } catch (err) {
        ctx.log.warn(`cleanup of container ${id.slice(0, 12)}: ${(err as Error).message}`);
      }
    }
    undo.length = 0;
  };
  try {
    fs.mkdirSync(path.dirname(paths.dir), { recursive: true, mode: 0o700 });
    fs.mkdirSync(paths.dir, { mode: 0o700 });
    undo.push(() => fs.rmSync(paths.dir, { recursive: true, force: true }));
    for (const d of [paths.upper, paths.work, paths.rootfs]) fs.mkdirSync(d, { mode: 0o755 });
    fs.writeFileSync(paths.hostname, `${hostname}\n`, { mode: 0o644 });
    fs.writeFileSync(paths.hosts, hostsFile(hostname), { mode: 0o644 });
    let hostResolv = "";
    try {
      hostResolv = fs.readFileSync("/etc/resolv.conf", "utf8");
    } catch {}
    fs.writeFileSync(paths.resolvConf, containerResolvConf(hostResolv), { mode: 0o644 });

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
        ReadonlyRootfs: req.readOnly,
        RestartPolicy: { Name: req.restart?.name ?? "no", MaximumRetryCount: req.restart?.maximumRetryCount ?? 0 },
        LogConfig: { Type: "json-file", Config: logOptsConfig(req.logConfig) },
        Init: req.init,
        // Docker's names; also what `start` makes the cgroup again from after a cleanup took it.
        ...resourcesToHostConfig(req.resources),
      },
    };
    const cgroups = detectCgroups(ctx.cgroupRoot);
    // Recorded before the cgroup exists, so that a crash in between leaves it findable.
    state.cgroupPath = cgroups.open(id).procsFiles.map((f) => path.dirname(f));
    saveContainer(ctx.root, state);

    const volumes = prepareVolumes(ctx, layout, record, req.volumes, undo, req.rm);
    const binds: ResolvedBind[] = volumes.binds;
    const tmpfs: TmpfsMount[] = volumes.tmpfs;

    t.mark("container dir, volumes");
    const cgroup = cgroups.create(id, req.resources, { allDevices: req.privileged });
    for (const w of cgroup.warnings ?? []) io.pullOut(`WARNING: ${w}\n`);
    undo.push(() => cgroup.destroy());
    const joinNamespaces = await attachNetworkHook(ctx, state, undo);

    const wanted = resolveCapabilities({ add: req.capAdd, drop: req.capDrop, privileged: req.privileged, lastCap: lastCap() });
    // Nobody can hand out a capability it lacks: --privileged means all of the engine's own.
    const own = ownBoundingSet();
    t.mark("cgroup");
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
      stdio: [io.stdin, io.stdout, io.stderr],
      ttySlave: io.ttySlave,
      timeNamespace: timeNamespaceAvailable(),
    });
    if (joinNamespaces.length) plan.joinNamespaces = joinNamespaces;
    t.mark("plan");
    return { id, name, paths, state, plan, cgroup, cleanup, keep: () => void (undo.length = 0), t };
  } catch (err) {
    cleanup();
    throw err;
  }
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
  const p = await prepareContainer(ctx, req, io);
  const { id, paths, state, plan, cgroup, t } = p;
  try {
    // For `exec` into it while it runs and `start` after it ended (no fsync: a page-cache write).
    fs.writeFileSync(planFile(paths.dir), encodePlan({ ...plan, stdio: [-1, -1, -1], ttySlave: -1 }), { mode: 0o600 });
    const launched = await launch(ctx.sys, plan);
    t.mark("launch (compile, clone, mounts, exec)");
    const startedAt = new Date(ctx.clock()).toISOString();
    state.state = { ...state.state, status: "running", pid: launched.pid, startedAt };
    saveContainer(ctx.root, state);
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
      p.cleanup();
    } else {
      // Keep the container (stopped) as Docker does; the cgroup goes, the record stays.
      cgroup.destroy();
      saveContainer(ctx.root, state);
      writeRunState(paths.dir, { ...run, status: "exited", pid: 0, pidStartTime: 0, finishedAt, exitCode, oomKilled });
      p.keep();
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
  const p = await prepareContainer(ctx, { ...req }, { ...io, stdin: -1, stdout: -1, stderr: -1, ttySlave: -1 });
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
  const p = await prepareContainer(ctx, req, { ...io, stdin: -1, stdout: -1, stderr: -1, ttySlave: -1 });
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
