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
import { checkNameFree, containerPaths, newContainerId, randomName, saveContainer, type ContainerRecord } from "./containers.ts";
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

export async function runContainer(ctx: Ctx, req: RunRequest, io: RunIo, hooks: RunHooks = {}): Promise<RunOutcome> {
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
  let cgroup: Cgroup | undefined;
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
    // network: netns file, veth, lease, /etc/hosts and resolv.conf (src/network/attach.ts)
    const { attachNetwork, detachNetwork } = await import("../network/attach.ts");
    const network = await attachNetwork(ctx, {
      id,
      name,
      hostname,
      mode: req.network ?? "bridge",
      aliases: req.networkAliases ?? [],
      ...(req.ip !== undefined ? { ip: req.ip } : {}),
      dns: req.dns ?? [],
      dnsSearch: req.dnsSearch ?? [],
      dnsOptions: req.dnsOptions ?? [],
      extraHosts: req.extraHosts ?? [],
    });
    undo.push(() => detachNetwork(ctx, id, network));
    t.mark("network");
    // end network
    // ports: -p/-P on the endpoint (src/network/ports.ts); undone before the network goes
    const { runPortBindings } = await import("../network/portspec.ts");
    const { publishPorts, unpublishPortsSync } = await import("../network/ports.ts");
    const published = runPortBindings({ publish: req.publish ?? [], publishAll: req.publishAll ?? false, exposedPorts: config.ExposedPorts, networkMode: req.network ?? "bridge" });
    if (published.warning) io.pullOut(`WARNING: ${published.warning}\n`);
    // end ports

    const state: ContainerRecord = {
      id,
      name,
      image: req.image,
      imageId: record.id,
      created: new Date(ctx.clock()).toISOString(),
      args: req.args,
      hostname,
      state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
      network, // network
    };
    saveContainer(ctx.root, state);
    // ports (after the record exists: the bindings go into its state.json)
    if (published.bindings.length > 0 && network.endpoint) {
      const ep = network.endpoint;
      undo.push(() => unpublishPortsSync(ctx, id));
      const bindings = await publishPorts(ctx, { id, ip: ep.ipAddress, bridge: ep.bridge, subnet: ep.subnet, bindings: published.bindings });
      state.ports = bindings as unknown as Record<string, unknown>[]; // later saves of the record keep them
    }
    // end ports

    const volumes = prepareVolumes(ctx, layout, record, req.volumes, undo, req.rm);
    const binds: ResolvedBind[] = volumes.binds;
    const tmpfs: TmpfsMount[] = volumes.tmpfs;

    t.mark("container dir, volumes");
    const cgroups = detectCgroups(ctx.cgroupRoot);
    cgroup = cgroups.create(id, req.resources, { allDevices: req.privileged });
    for (const w of cgroup.warnings ?? []) io.pullOut(`WARNING: ${w}\n`);
    const cg = cgroup;
    undo.push(() => cg.destroy());

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
    // network: a joined netns (bridge, user network, container:) or the host's instead of a new one
    if (network.netns === "host") plan.namespaces = plan.namespaces.filter((n) => n !== "net");
    if (network.joinNamespaces.length) plan.joinNamespaces = [...(plan.joinNamespaces ?? []), ...network.joinNamespaces];
    // end network

    t.mark("plan");
    const launched = await launch(ctx.sys, plan);
    t.mark("launch (compile, clone, mounts, exec)");
    state.state = { ...state.state, status: "running", pid: launched.pid, startedAt: new Date(ctx.clock()).toISOString() };
    saveContainer(ctx.root, state);
    hooks.started?.(launched);
    const status = await launched.exited;
    t.mark("container ran");
    const oomKilled = cgroup.oomKilled();
    const exitCode = oomKilled && status.exitCode === 128 + 9 ? 137 : status.exitCode;
    state.state = { ...state.state, status: "exited", pid: 0, exitCode, oomKilled, finishedAt: new Date(ctx.clock()).toISOString() };
    if (req.rm) {
      cleanup();
    } else {
      // Keep the container (stopped) as Docker does; the cgroup goes, the record stays.
      cgroup.destroy();
      unpublishPortsSync(ctx, id); // ports
      delete state.ports; // ports
      detachNetwork(ctx, id, network); // network: the address is released on stop, as Docker
      saveContainer(ctx.root, state);
      undo.length = 0;
    }
    t.mark("cleanup");
    t.report();
    return { id, exitCode, oomKilled };
  } catch (err) {
    cleanup();
    throw err;
  }
}
