// A pod's containers were planned with the infra's /proc/<pid>/ns/{ipc,uts} of that moment; the
// infra's pause process is a new one after `pod start` or `pod restart`, so their saved plans are
// pointed at it before they start again (run/namespaces.ts joins by /proc path, as Docker does,
// with the pause process's start time, which the container's init checks before it joins).
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { planFile } from "../lifecycle/run.ts";
import type { RunPlan } from "../runtime/plan.ts";
import { decodePlan, encodePlan } from "../runtime/encode.ts";
import { nsJoinPath, type ProcessRef } from "../sys/procfs.ts";
import { infraRunning } from "./infra.ts";
import { containerPaths, type ContainerRecord } from "../store/containers.ts";

/** The plan's IPC/UTS joins of the infra moved to `pid` (pure); which ones the record says. */
export function rejoinedPlan(plan: RunPlan, rec: Pick<ContainerRecord, "hostConfig">, infraId: string, pid: number | ProcessRef): RunPlan {
  const mode = `container:${infraId}`;
  const hc = rec.hostConfig ?? {};
  const moved = new Set<string>([...(hc.IpcMode === mode ? ["ipc"] : []), ...(hc.UTSMode === mode ? ["uts"] : [])]);
  if (!plan.joinNamespaces || moved.size === 0) return plan;
  return { ...plan, joinNamespaces: plan.joinNamespaces.map((j) => (moved.has(j.ns) ? { ...j, path: nsJoinPath(pid, j.ns) } : j)) };
}

export function rejoinInfra(ctx: Ctx, rec: ContainerRecord, infraId: string, pid: number): void {
  const file = planFile(containerPaths(ctx.root, rec.id).dir);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return; // no plan saved: start reports that itself
  }
  const plan = decodePlan(bytes);
  // With the start time run.json recorded for that pause process; when it is gone already the plan
  // is left to its old joins, which the start then refuses.
  const running = infraRunning(ctx, infraId);
  if (running?.pid !== pid) return;
  const next = rejoinedPlan(plan, rec, infraId, { pid, startTime: running.start });
  if (next !== plan) fs.writeFileSync(file, encodePlan(next), { mode: 0o600 });
}
