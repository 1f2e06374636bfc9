// `start [-a]`: a created (or exited) container runs again under a new monitor, from the plan
// `create` saved (containers/<id>/plan.bin). The cgroup is made again when a cleanup took it.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { runUndo } from "../undo.ts";
import { FailedPreconditionError } from "../errors.ts";
import { detectCgroups } from "../runtime/cgroups/index.ts";
import { decodePlan } from "../runtime/encode.ts";
import type { ProcessRef } from "../sys/procfs.ts";
import { containerFiles, containerPaths, findContainer, lockContainer, saveContainer, type ContainerRecord } from "../store/containers.ts";
import { cgroupParentOf } from "./cgroupdirs.ts";
import { releaseCopyLeftover } from "./container-root.ts";
import { findLive, readLive } from "./live.ts";
import { followLogs, type LogEntry } from "./logs.ts";
import { readRunState, restartPolicyFile, startDetached, type Detached } from "./monitor.ts";
import { applyNetworkToPlan, attachContainerNetwork, publishContainerPorts } from "./network-setup.ts";
import { deviceCgroupRulesFromHostConfig, devicesFromHostConfig, resourcesFromHostConfig } from "./record.ts";
import { detachedRequest, planFile, storedPlan } from "./run.ts";
import { hostDevices } from "./run/devices.ts";
import { rejoinDonors } from "./run/namespaces.ts";
import { blockDeviceOf } from "./run/resource-flags.ts";
import { checkTransition } from "./state.ts";

export interface Started extends Partial<Detached> {
  id: string;
  /** It was running already: nothing was done (Docker's start succeeds then too). */
  alreadyRunning: boolean;
}

export async function startContainer(ctx: Ctx, ref: string): Promise<Started> {
  const { moved, ...started } = await startUnderLock(ctx, ref);
  // Its address changed: the containers linking to it learn the new one (their locks, not ours).
  if (moved) await (await import("./relink.ts")).relinkParents(ctx, moved);
  return started;
}

async function startUnderLock(ctx: Ctx, ref: string): Promise<Started & { moved?: ContainerRecord }> {
  const rec0 = findContainer(ctx.root, ref);
  const lock = await lockContainer(ctx, rec0.id);
  try {
    const live = readLive(ctx, rec0);
    const rec: ContainerRecord = live.record;
    if (live.state.Running && !live.state.Paused) return { id: rec.id, alreadyRunning: true };
    checkTransition(live.state.Status, "start", rec.id);
    // Its own overlay takes the same upper directory: a killed cp's mount of it goes first.
    releaseCopyLeftover(ctx, rec.id);
    const dir = containerPaths(ctx.root, rec.id).dir;
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(planFile(dir));
    } catch {
      throw new FailedPreconditionError(`Cannot start container ${rec.id}: it has no saved run plan (created by an older tinydock)`);
    }
    const plan = decodePlan(bytes);
    // --link: the linked containers' addresses of now (one may have started since, or again with another).
    const links = rec.hostConfig?.Links as string[] | undefined;
    if (links?.length && rec.networkOptions) {
      const { linksAtStart, relinkEnv } = await import("./run/links.ts");
      const now = linksAtStart(ctx, rec, (r) => readLive(ctx, r).state.Running);
      rec.networkOptions = { ...rec.networkOptions, links: now.hosts };
      plan.env = relinkEnv(plan.env, (rec.config?.Env as string[] | undefined) ?? [], links, now.env);
      // `exec` takes the environment from the saved plan: Docker's exec sees the link variables too.
      fs.writeFileSync(planFile(dir), storedPlan(plan), { mode: 0o600 });
    }
    // --ipc/--pid/--uts container:X: X's namespaces of now (a pod's members: their infra's pause
    // process, new after `pod start`). Saved: the monitor's restarts and exec read the plan.
    if (rejoinDonors(plan, rec.hostConfig ?? {}, (ref) => donorPid1(ctx, ref))) fs.writeFileSync(planFile(dir), storedPlan(plan), { mode: 0o600 });
    // A cleanup after the last run removed the cgroup: the same one (same paths) again.
    if (plan.cgroupProcs.some((f) => !fs.existsSync(f))) {
      // The per-device block I/O limits' nodes looked up again, as --device's are.
      const resources = resourcesFromHostConfig(rec.hostConfig ?? {}, blockDeviceOf);
      // --device: the host's nodes looked up again, their rules as when the container was created.
      const devices = hostDevices(devicesFromHostConfig(rec.hostConfig ?? {}));
      const rules = [...devices.map((d) => d.rule), ...deviceCgroupRulesFromHostConfig(rec.hostConfig ?? {})];
      const parent = cgroupParentOf(rec);
      detectCgroups(ctx.cgroupRoot, { sys: ctx.sys }).create(rec.id, resources, { allDevices: rec.hostConfig?.Privileged === true, devices: rules, ...(parent ? { parent } : {}) });
    }
    // The network a cleanup (or a foreground run's end) detached: attached again, ports published
    // again (random host ports anew, as Docker); the plan joins the new netns.
    const undo: (() => void)[] = [];
    const ipBefore = rec.network?.endpoint?.ipAddress;
    try {
      const owned = rec.network?.netnsPath;
      const attached = owned !== undefined && fs.existsSync(owned);
      // Made by create, its hosts file without the links' addresses of now: made again.
      if (attached && links?.length) await (await import("./network-teardown.ts")).teardownNetwork(ctx, rec);
      if (rec.networkOptions && (!attached || links?.length)) {
        rec.network = await attachContainerNetwork(ctx, rec, rec.networkOptions, undo);
        saveContainer(ctx.root, rec);
        // `network connect`'s networks, connected again (or for the first time, connected while stopped).
        for (const x of rec.networkOptions.connects ?? []) {
          await (await import("../network/connect.ts")).connectNetwork(ctx, rec.id, x.network, x);
          rec.network = findContainer(ctx.root, rec.id).network;
        }
        await publishContainerPorts(ctx, rec, rec.networkOptions.ports, undo);
        saveContainer(ctx.root, rec);
      }
      if (rec.network) applyNetworkToPlan(plan, rec.network);
      // --ipc shareable: its /dev/shm, which the last cleanup unmounted, mounted again (empty, as Docker's).
      if (rec.hostConfig?.IpcMode === "shareable") {
        const { mountShareableShm } = await import("./run/shm.ts");
        const size = rec.hostConfig.ShmSize;
        mountShareableShm(ctx, dir, typeof size === "number" && size > 0 ? size : undefined);
      }
      fs.rmSync(containerFiles(ctx.root, rec.id).stopping, { force: true });
      // The new monitor takes the record's policy (-r), which an `update` wrote too.
      fs.rmSync(restartPolicyFile(dir), { force: true });
      // A plan for the last run's restarts (relink.ts) is not this run's.
      fs.rmSync(path.join(dir, "plan.next"), { force: true });
      const d = await startDetached(ctx, detachedRequest(ctx, rec, dir, plan, plan.cgroupProcs));
      const moved = rec.network?.endpoint?.ipAddress !== ipBefore ? { moved: rec } : {};
      return { id: rec.id, alreadyRunning: false, ...d, ...moved };
    } catch (err) {
      runUndo(undo, ctx.log.warn, `undo start of ${rec.id.slice(0, 12)}`);
      throw err;
    }
  } finally {
    lock.release();
  }
}

/** A donor's running PID 1 (with its start time, which the join checks), or undefined. */
function donorPid1(ctx: Ctx, ref: string): ProcessRef | undefined {
  const { state } = findLive(ctx, ref);
  if (!state.Running || state.Restarting || !state.Pid) return undefined;
  return { pid: state.Pid, startTime: state.pidStartTime };
}

/**
 * `start -a`: the container's output from its log as it comes, until it has exited for good;
 * resolves to its exit code.
 */
export async function attachToLog(ctx: Ctx, id: string, emit: (e: LogEntry) => void, opts: { sinceNs?: bigint; signal?: AbortSignal } = {}): Promise<number> {
  const dir = containerPaths(ctx.root, id).dir;
  const running = () => {
    const rec = findContainer(ctx.root, id);
    return readLive(ctx, rec).state.Running;
  };
  await followLogs(dir, id, { sel: opts.sinceNs === undefined ? {} : { sinceNs: opts.sinceNs }, emit, running, sleep: ctx.sleep, pollMs: 25, ...(opts.signal ? { signal: opts.signal } : {}) });
  return readRunState(dir)?.exitCode ?? 0;
}
