// The live view of a container: state.json + run.json + the facts about its processes, read the
// same way by every command (ps, inspect, stop, rm, wait…) and judged by state.ts.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { readJson } from "../atomic.ts";
import { tryLock } from "../store/lock.ts";
import { cgroupLocator, isFrozen, type CgroupLocator } from "./cgroupdirs.ts";
import { containerFiles, findContainer, isInfraContainer, listContainers, listListed, readContainer, type ContainerRecord, type ListedRecord } from "../store/containers.ts";
import { healthStatusOf, type HealthStatus } from "./health.ts";
import { sameProcess } from "./liveness.ts";
import { containerReady } from "./probe-status.ts";
import type { HealthConfig } from "./run/healthcheck.ts";
import { liveState, type LiveState, type RunRecord } from "./state.ts";

/** `R`: ListedRecord for `ps`, which reads only the listed part of each record (store/containers.ts). */
export interface LiveContainer<R extends ListedRecord = ContainerRecord> {
  record: R;
  run: RunRecord | undefined;
  state: LiveState;
  /** State.Health's status; "none" without a health check. */
  health?: HealthStatus | "none";
  /** Kubernetes' ready: running (not waiting out a restart's back-off), and its startup and readiness probes (if any) passed. */
  ready?: boolean;
}

function readRun(file: string): RunRecord | undefined {
  // A created container has none: asking first is ~5 µs, a failed read's exception ~25 µs (ps -a
  // over many created containers).
  if (!fs.existsSync(file)) return undefined;
  try {
    return readJson<RunRecord>(file);
  } catch {
    return undefined; // unreadable = never started by a supervisor that finished writing it
  }
}

/** Reads one container's live state. `locator` is shared across a listing. */
export function readLive<R extends ListedRecord = ContainerRecord>(ctx: Ctx, record: R, locator: CgroupLocator = cgroupLocator(ctx.cgroupRoot)): LiveContainer<R> {
  const files = containerFiles(ctx.root, record.id);
  const written = readRun(files.run);
  // Only a failed restart's record needs monitor.ts (and the plan decoder behind it): `ps` over
  // healthy containers never loads them.
  const run = (written as { initFailure?: unknown } | undefined)?.initFailure
    ? (require("./monitor.ts") as typeof import("./monitor.ts")).withRestartError(files.dir, written)
    : written;
  const recorded = run ?? (record.state?.status && record.state.status !== "created" && record.state.status !== "exited" ? record.state : undefined);
  const active = recorded !== undefined && recorded.status !== "exited" && recorded.status !== "dead";
  // Legacy foreground runs name no supervisor: the container's own pid stands for it.
  const supervisorAlive = !active
    ? false
    : run?.monitorPid
      ? sameProcess(run.monitorPid, run.monitorStartTime)
      : sameProcess(recorded!.pid, run?.pidStartTime);
  // A pod's infra has no cgroup of its own (its pause process cannot be paused): no freezer to probe
  // under every v1 hierarchy.
  const cgroupless = isInfraContainer(record) && !record.cgroupPath?.length;
  // A supervisor alive does not make its container's process alive: the pid it recorded may be gone
  // (and given to a host process) before the supervisor records the end. Never act on that pid.
  const initGone = supervisorAlive && recorded!.status === "running" && recorded!.pid > 0 && !!run?.monitorPid && !sameProcess(recorded!.pid, run.pidStartTime);
  const frozen = active && recorded!.status === "running" && supervisorAlive && !initGone && !cgroupless ? isFrozen(locator.freezer(record.id, record.cgroupPath)) : false;
  const removing = fs.existsSync(files.removing);
  let locked = false;
  if (removing) {
    try {
      const l = tryLock({ sys: ctx.sys, sleep: ctx.sleep }, files.lock);
      if (l) l.release();
      else locked = true;
    } catch {}
  }
  const state = liveState(record, run, { supervisorAlive, frozen, removing, locked, initGone });
  return {
    record,
    run,
    state,
    health: healthStatusOf(record.config as { Healthcheck?: HealthConfig } | undefined, files.dir),
    ready: containerReady(record, files.dir, state.Running && !state.Restarting),
  };
}

export function listLive(ctx: Ctx): LiveContainer[] {
  return liveOf(ctx, listContainers(ctx.root));
}

/** `ps`'s listing: the listed part of every record, live. */
export function listLiveListed(ctx: Ctx): LiveContainer<ListedRecord>[] {
  return liveOf(ctx, listListed(ctx.root));
}

function liveOf<R extends ListedRecord>(ctx: Ctx, records: R[]): LiveContainer<R>[] {
  const locator = cgroupLocator(ctx.cgroupRoot);
  return records.map((r) => readLive(ctx, r, locator));
}

export function findLive(ctx: Ctx, ref: string): LiveContainer {
  return readLive(ctx, findContainer(ctx.root, ref));
}

/** Re-read by id (after a wait); undefined once removed. */
export function rereadLive(ctx: Ctx, id: string, locator?: CgroupLocator): LiveContainer | undefined {
  const rec = readContainer(ctx.root, id);
  return rec ? readLive(ctx, rec, locator) : undefined;
}
