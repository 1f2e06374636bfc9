// The container's plan (runtime/spec.ts's RunPlan) from the request and what was made for it: the
// capabilities the engine can hand out, the seccomp filter, the image's rootfs and /etc files.
import fs from "node:fs";
import os from "node:os";
import type { Ctx } from "../../context.ts";
import type { ContainerConfig } from "../../image/manifest.ts";
import { readImageFile } from "../../rootfs/imagefile.ts";
import { imageOverlay } from "../../rootfs/images.ts";
import { capabilityNames, resolveCapabilities } from "../../runtime/capabilities.ts";
import type { Capabilities, RunPlan } from "../../runtime/plan.ts";
import { cachedDefaultSeccomp, seccompCacheDir } from "../../runtime/seccomp/cache.ts";
import { buildRunPlan, type ResolvedBind, type TmpfsMount } from "../../runtime/spec.ts";
import type { ContainerPaths } from "../../store/containers.ts";
import type { ImageRecord } from "../../store/images.ts";
import type { StoreLayout } from "../../store/layout.ts";
import type { RunRequest, SecurityRequest } from "./request.ts";

/** The capability sets asked for, within the engine's own: nobody can hand out one it lacks. */
export function containerCapabilities(s: SecurityRequest): Capabilities {
  const wanted = resolveCapabilities({ add: s.capAdd, drop: s.capDrop, privileged: s.privileged, lastCap: lastCap() });
  // --privileged means all of the engine's own.
  const own = ownBoundingSet();
  return { ...wanted, bounding: wanted.bounding & own, effective: wanted.effective & own, permitted: wanted.permitted & own };
}

/** Docker's default filter for these capabilities (compiled once per set, cached), or none. */
export function seccompFilter(ctx: Ctx, s: SecurityRequest, caps: Capabilities): Uint8Array | null {
  if (!s.seccomp || s.privileged) return null;
  return cachedDefaultSeccomp(seccompCacheDir(ctx.root), capabilityNames(caps.bounding), {
    arch: process.arch === "arm64" ? "aarch64" : "x86_64",
    kernelRelease: os.release(),
  });
}

/** What the plan is made of besides the request. */
export interface PlanParts {
  layout: StoreLayout;
  image: ImageRecord;
  config: ContainerConfig;
  paths: ContainerPaths;
  hostname: string;
  devices: RunPlan["devices"];
  binds: ResolvedBind[];
  tmpfs: TmpfsMount[];
  cgroupProcs: string[];
  capabilities: Capabilities;
  seccomp: Uint8Array | null;
  stdio: [number, number, number];
  consoleSocket: number;
}

export function containerPlan(ctx: Ctx, req: RunRequest, p: PlanParts): RunPlan {
  const { process: proc, security } = req;
  const { layout, image, paths } = p;
  return buildRunPlan({
    config: p.config,
    args: proc.args,
    ...(proc.entrypoint !== undefined ? { entrypoint: proc.entrypoint } : {}),
    env: proc.env,
    ...(proc.user !== undefined ? { user: proc.user } : {}),
    groupAdd: proc.groupAdd,
    ...(proc.workdir !== undefined ? { workdir: proc.workdir } : {}),
    hostname: p.hostname,
    tty: proc.tty,
    init: proc.init,
    privileged: security.privileged,
    devices: p.devices,
    readonlyRoot: security.readOnly,
    noNewPrivileges: security.noNewPrivileges,
    passwd: readImageFile(ctx.sys, layout, image, "/etc/passwd"),
    group: readImageFile(ctx.sys, layout, image, "/etc/group"),
    rootfs: imageOverlay(layout, image, { upper: paths.upper, work: paths.work, target: paths.rootfs }),
    rootfsPath: paths.rootfs,
    etcFiles: { hostname: paths.hostname, hosts: paths.hosts, resolvConf: paths.resolvConf },
    binds: p.binds,
    tmpfs: p.tmpfs,
    cgroupProcs: p.cgroupProcs,
    capabilities: p.capabilities,
    seccomp: p.seccomp,
    rlimits: req.resources.ulimits,
    stdio: p.stdio,
    consoleSocket: p.consoleSocket,
    timeNamespace: timeNamespaceAvailable(),
  });
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

function ownBoundingSet(): bigint {
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync("/proc/self/status", "utf8"));
    if (m) return BigInt(`0x${m[1]}`);
  } catch {}
  return (1n << 64n) - 1n;
}
