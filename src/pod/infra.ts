// A pod's infra container: a container record without an image whose process is the monitor's
// `pause` mode (src/sys/monitor/pause.c). Its network is attached as any container's (netns file,
// veth, lease, published ports) and its IPC and UTS namespaces are the pause process's; the pod's
// containers join them with the modes `container:<infra id>` (network/attach.ts,
// lifecycle/run/namespaces.ts), so every existing verb (ps, inspect, rm -f, reconcile) handles it.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, InternalError, InvalidArgumentError } from "../errors.ts";
import { attachContainerNetwork, publishContainerPorts, type NetworkOptions } from "../lifecycle/network-setup.ts";
import { processStartTime, sameProcess, signalProcess } from "../lifecycle/liveness.ts";
import { monitorExecutable, startedRunState, writeRunState } from "../lifecycle/monitor.ts";
import { teardownNetwork } from "../lifecycle/network-teardown.ts";
import { ZERO_TIME } from "../lifecycle/state.ts";
import { isMountedNetns, netnsPath } from "../network/netns.ts";
import { runPortBindings } from "../network/portspec.ts";
import { checkNameFree, INFRA_LABEL, containerFiles, containerPaths, newContainerId, saveContainer, type ContainerRecord } from "../store/containers.ts";
import { registerRoot } from "../store/owners.ts";
import { parseStartReport } from "../sys/protocol.ts";
import { spawnReported } from "../sys/reported.ts";
import { runUndo } from "../undo.ts";
import { isMountPoint, unmount } from "../rootfs/mount.ts";
import { shareableShm } from "../lifecycle/run/namespaces.ts";
import { mountShareableShm } from "../lifecycle/run/shm.ts";
import type { PodRecord } from "./store.ts";

export { INFRA_LABEL };

export function infraName(podName: string): string {
  return `${podName}-infra`;
}

/**
 * The infra's network flags: bridge or a user network with its ports published on it, or none (a
 * netns of the pause process's own, lo only) or host (podman's `pod create --network none|host`).
 */
function networkOptions(pod: PodRecord): NetworkOptions {
  if (pod.network.startsWith("container:")) {
    throw new InvalidArgumentError(`Cannot create pod "${pod.name}": network "${pod.network}" is not supported for pods (bridge, none, host or a user network)`);
  }
  if ((pod.network === "none" || pod.network === "host") && pod.publish.length) {
    throw new InvalidArgumentError(`Cannot publish ports of pod "${pod.name}": its network is "${pod.network}"`);
  }
  const { bindings } = runPortBindings({ publish: pod.publish, publishAll: false, networkMode: pod.network });
  return { mode: pod.network, aliases: [], dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], ports: bindings };
}

/** The infra's record and directory, its network attached and ports published; its process not yet started. */
export async function createInfra(ctx: Ctx, pod: PodRecord): Promise<ContainerRecord> {
  const id = pod.infraId;
  const name = infraName(pod.name);
  checkNameFree(ctx.root, name);
  const opts = networkOptions(pod);
  const paths = containerPaths(ctx.root, id);
  const undo: (() => void)[] = [];
  try {
    registerRoot(ctx);
    fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    undo.push(() => fs.rmSync(paths.dir, { recursive: true, force: true }));
    fs.writeFileSync(paths.hostname, `${pod.hostname}\n`, { mode: 0o644 });
    const rec: ContainerRecord = {
      id,
      name,
      image: "",
      imageId: "",
      created: pod.created,
      args: [],
      hostname: pod.hostname,
      state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
      labels: { [INFRA_LABEL]: "true" },
      pod: pod.id,
      autoRemove: false,
      restartPolicy: { name: "no", maximumRetryCount: 0 },
      config: { Hostname: pod.hostname, Image: "", Cmd: [], Entrypoint: null, Env: [], Labels: { [INFRA_LABEL]: "true" } },
      // Sharing ipc, the pod shares its /dev/shm too (podman's): a tmpfs the infra holds, that every
      // member binds as it joins the ipc namespace (`--ipc container:<infra>`, run/namespaces.ts donorShm).
      hostConfig: { NetworkMode: pod.network, ...(pod.share.includes("ipc") ? { IpcMode: "shareable" } : {}) },
      networkOptions: opts,
      cgroupPath: [],
    };
    // Not durable yet (no fsyncs): startInfra saves the running record durably, the last write of
    // `pod create`; a record torn by a power loss before that is an orphan to reconcile.
    saveContainer(ctx.root, rec, false);
    await attachInfraNetwork(ctx, rec, undo);
    return rec;
  } catch (err) {
    runUndo(undo, ctx.log.warn, `cleanup of pod ${pod.name}`);
    throw err;
  }
}

async function attachInfraNetwork(ctx: Ctx, rec: ContainerRecord, undo: (() => void)[]): Promise<void> {
  const opts = rec.networkOptions!;
  rec.network = await attachContainerNetwork(ctx, rec, opts, undo);
  saveContainer(ctx.root, rec, false);
  await publishContainerPorts(ctx, rec, opts.ports, undo);
  saveContainer(ctx.root, rec, false);
}

/** Is the pause process of this infra alive (run.json's pid, checked by its start time)? */
export function infraRunning(ctx: Ctx, id: string): { pid: number; start: number } | undefined {
  try {
    const run = JSON.parse(fs.readFileSync(containerFiles(ctx.root, id).run, "utf8")) as { status: string; pid: number; pidStartTime: number };
    if (run.status === "running" && sameProcess(run.pid, run.pidStartTime)) return { pid: run.pid, start: run.pidStartTime };
  } catch {}
  return undefined;
}

/**
 * Starts the pause process (the network attached again first when a stop released it). The infra's
 * record is saved without fsync: the pause process syncs it, its directory and `sync` (more files
 * or directories) once this process has exited (monitor/pause.c), off the command's time.
 */
export async function startInfra(ctx: Ctx, rec: ContainerRecord, sync: string[] = []): Promise<number> {
  const running = infraRunning(ctx, rec.id);
  if (running) return running.pid;
  const undo: (() => void)[] = [];
  try {
    const nsFile = netnsPath(ctx.root, rec.id);
    if (!isMountedNetns(nsFile)) await attachInfraNetwork(ctx, rec, undo); // none/host: its files again
    if (rec.hostConfig?.IpcMode === "shareable") {
      const shm = mountShareableShm(ctx, containerPaths(ctx.root, rec.id).dir);
      undo.push(() => unmount(ctx.sys, shm));
    }
    const exe = await monitorExecutable();
    const paths = containerPaths(ctx.root, rec.id);
    // none: the pause process makes the pod's netns ("new"); host: it stays in the host's.
    const local = rec.network?.netns === "new" || rec.network?.netns === "host" ? rec.network.netns : undefined;
    const started = spawnReported([exe, "pause", local ?? nsFile, rec.hostname, paths.state, paths.dir, ...sync], { argv0: "tinydock-pause", holdInput: true });
    const proc = started.proc;
    const report = parseStartReport(started.report);
    if (!report || !("pid" in report)) {
      const code = await proc.exited;
      const why = report && "failure" in report ? `stage ${report.failure.stage}, errno ${report.failure.errno}` : `exit code ${code}`;
      throw new InternalError(`Cannot start the infra of pod container "${rec.name}": the pause process failed (${why})`);
    }
    proc.unref();
    const pid = report.pid;
    const start = processStartTime(pid) ?? 0;
    const startedAt = new Date(ctx.clock()).toISOString();
    writeRunState(paths.dir, startedRunState(pid, start, pid, start, startedAt));
    rec.state = { ...rec.state, status: "running", pid, startedAt };
    saveContainer(ctx.root, rec, false);
    return pid;
  } catch (err) {
    runUndo(undo, ctx.log.warn, `cleanup of infra ${rec.name}`);
    throw err;
  }
}

/** Ends the pause process and releases the network (as a stopped container's, Docker's way). */
export async function stopInfra(ctx: Ctx, rec: ContainerRecord): Promise<void> {
  const running = infraRunning(ctx, rec.id);
  if (running) {
    signalProcess(ctx.sys, running.pid, running.start, 9);
    for (let i = 0; i < 400 && sameProcess(running.pid, running.start); i++) await Bun.sleep(5);
  }
  await teardownNetwork(ctx, rec);
  const shm = shareableShm(containerPaths(ctx.root, rec.id).dir);
  if (isMountPoint(shm)) unmount(ctx.sys, shm); // mounted again, empty, by the next start (Docker's)
  delete rec.ports;
  const finishedAt = new Date(ctx.clock()).toISOString();
  writeRunState(containerPaths(ctx.root, rec.id).dir, {
    status: "exited",
    pid: 0,
    pidStartTime: 0,
    monitorPid: 0,
    monitorStartTime: 0,
    startedAt: rec.state.startedAt || ZERO_TIME,
    finishedAt,
    exitCode: 137,
    oomKilled: false,
    restartCount: 0,
    error: "",
  });
  rec.state = { ...rec.state, status: "exited", pid: 0, exitCode: 137, finishedAt };
  saveContainer(ctx.root, rec);
}

export function checkInfraRunning(ctx: Ctx, pod: PodRecord): number {
  const r = infraRunning(ctx, pod.infraId);
  if (!r) throw new FailedPreconditionError(`Cannot join pod "${pod.name}": its infra is not running`);
  return r.pid;
}
