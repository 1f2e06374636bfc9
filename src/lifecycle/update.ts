// `update`: new limits and restart policy for a container, as dockerd's ContainerUpdate gives them:
// merged into its HostConfig (so `inspect` shows them and every later start applies them), written
// into its live cgroup when it has one (running, paused or waiting to restart), and a new restart
// policy handed to its monitor, which takes it for the next end of the container.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { describeError, FailedPreconditionError, InvalidArgumentError } from "../errors.ts";
import { detectCgroups } from "../runtime/cgroups/index.ts";
import { cgroupParentOf } from "./cgroupdirs.ts";
import { cpuLimitOf, HOST_RESOURCE_KEYS, mergeResourceUpdate, type HostResources } from "../runtime/resource-update.ts";
import type { Resources } from "../runtime/resources.ts";
import { containerPaths, saveContainer, withContainerLock } from "../store/containers.ts";
import { actorOf, appendEvent } from "./events.ts";
import { readLive, type LiveContainer } from "./live.ts";
import { writeRestartPolicy, type RestartPolicy } from "./monitor.ts";
import { resourcesFromHostConfig } from "./record.ts";

export interface UpdateRequest {
  resources: HostResources;
  restart?: RestartPolicy;
}

/**
 * The cgroup limits an update touches, with the values the merged HostConfig `h` holds: a CPU
 * period is written with its quota, swap with memory (v2 derives its swap limit from both).
 */
export function touchedLimits(u: HostResources, h: HostResources): Resources {
  const all = resourcesFromHostConfig(h as Record<string, unknown>);
  const r: Resources = {};
  if (u.Memory !== undefined || u.MemorySwap !== undefined) {
    if (all.memory !== undefined) r.memory = all.memory;
    if (all.memorySwap !== undefined) r.memorySwap = all.memorySwap;
  }
  if (u.MemoryReservation !== undefined) r.memoryReservation = u.MemoryReservation;
  if (u.NanoCpus !== undefined || u.CpuQuota !== undefined || u.CpuPeriod !== undefined) Object.assign(r, cpuLimitOf(h));
  if (u.CpuShares !== undefined) r.cpuShares = u.CpuShares;
  if (u.CpusetCpus !== undefined) r.cpusetCpus = u.CpusetCpus;
  if (u.CpusetMems !== undefined) r.cpusetMems = u.CpusetMems;
  if (u.PidsLimit !== undefined) r.pidsLimit = u.PidsLimit;
  if (u.BlkioWeight !== undefined) r.blkioWeight = u.BlkioWeight;
  return r;
}

/** Applies `req` to container `c0`; returns the warnings of limits the host could not take. */
export async function updateContainer(ctx: Ctx, c0: LiveContainer, req: UpdateRequest): Promise<string[]> {
  const id = c0.record.id;
  return await withContainerLock(ctx, id, () => {
    const c = readLive(ctx, c0.record);
    const rec = c.record;
    if (c.state.Status === "removing" || c.state.Dead) {
      throw new FailedPreconditionError(`Cannot update container ${id}: container is marked for removal and cannot be "update"`);
    }
    const cannot = (err: unknown): never => {
      throw new InvalidArgumentError(`Cannot update container ${id}: ${describeError(err)}`, { cause: err });
    };
    const hostConfig = { ...(rec.hostConfig ?? {}) };
    const current: HostResources = {};
    for (const k of HOST_RESOURCE_KEYS) if (typeof hostConfig[k] === "number" || typeof hostConfig[k] === "string") (current as Record<string, unknown>)[k] = hostConfig[k];
    let merged: HostResources = current;
    try {
      merged = mergeResourceUpdate(current, req.resources);
      if (req.restart && req.restart.name !== "no" && rec.autoRemove) {
        throw new InvalidArgumentError("Restart policy cannot be updated because AutoRemove is enabled for the container");
      }
    } catch (err) {
      cannot(err);
    }
    // The live cgroup first: what the kernel refuses (a memory limit below what is in use) leaves
    // the record as it was, as dockerd restores its config.
    let warnings: string[] = [];
    const limits = touchedLimits(req.resources, merged);
    if (Object.keys(limits).length) {
      const cg = detectCgroups(ctx.cgroupRoot, { sys: ctx.sys }).open(id, cgroupParentOf(rec));
      if (cg.procsFiles.some((f) => fs.existsSync(f))) {
        try {
          warnings = cg.update(limits);
        } catch (err) {
          cannot(err);
        }
      }
    }
    Object.assign(hostConfig, merged);
    if (req.restart) {
      hostConfig.RestartPolicy = { Name: req.restart.name, MaximumRetryCount: req.restart.maximumRetryCount };
      rec.restartPolicy = { ...req.restart, ...(rec.restartPolicy?.backoff ? { backoff: rec.restartPolicy.backoff } : {}) };
    }
    rec.hostConfig = hostConfig;
    saveContainer(ctx.root, rec);
    // A monitor running now reads it at the container's next end; `start` passes the record's.
    if (req.restart) writeRestartPolicy(containerPaths(ctx.root, id).dir, req.restart);
    appendEvent(ctx.root, "update", actorOf(rec));
    return warnings;
  });
}
