// Health checks at run time: the monitor runs the probe (src/sys/monitor/health.c) from a plan made
// here, and records State.Health in containers/<id>/health.json, which inspect and ps read.
import path from "node:path";
import { readJson } from "../atomic.ts";
import type { RunPlan } from "../runtime/plan.ts";
import { monitorHealthSpec, probeArgs, type HealthConfig } from "./run/healthcheck.ts";

/** In the order of health.c's enum health (HEALTH_NAMES); test/unit/sys/protocol.test.ts checks it. */
export const HEALTH_STATUSES = ["starting", "healthy", "unhealthy"] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** Docker's State.Health. */
export interface Health {
  Status: HealthStatus;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

/** What the monitor runs: the container's process plan with the probe's command (stdout and stderr on its fd 3). */
export interface HealthProbe {
  plan: RunPlan;
  /** The monitor's -H value. */
  spec: string;
}

/** The probe of a container's Config.Healthcheck, or nothing for none (no Test, ["NONE"]). */
export function healthProbe(h: HealthConfig | undefined, plan: RunPlan): { health?: HealthProbe } {
  const args = probeArgs(h);
  if (!h || !args) return {};
  return { health: { plan: checkPlan(plan, args), spec: monitorHealthSpec(h) } };
}

/** The plan of a command the monitor runs in the container as a check: the container's, its command replaced, its output on fd 3. */
export function checkPlan(plan: RunPlan, args: string[]): RunPlan {
  return { ...plan, args, stdio: [-1, 3, 3], consoleSocket: -1, init: false, oomScoreAdj: null };
}

export function healthFile(dir: string): string {
  return path.join(dir, "health.json");
}

export function probePlanFile(dir: string): string {
  return path.join(dir, "health.plan");
}

export function readHealth(dir: string): Health | undefined {
  return readJson<Health>(healthFile(dir));
}

/** ps's `health=` value: "none" without a health check, else the recorded status (starting before the first write). */
export function healthStatusOf(config: { Healthcheck?: HealthConfig } | undefined, dir: string): HealthStatus | "none" {
  if (!probeArgs(config?.Healthcheck)) return "none";
  return readHealth(dir)?.Status ?? "starting";
}
