// A RunPlan for tests that start (or describe) a container: Docker's defaults, root with the default
// capabilities, `true` as the command; the caller names the rootfs and whatever else it needs.
import type { RunPlan } from "../../src/runtime/plan.ts";
import { DEFAULT_DEVICES, DEFAULT_SYMLINKS, defaultMounts, MASKED_PATHS, READONLY_PATHS } from "../../src/runtime/spec.ts";

/** Docker's default capability set (CAP_CHOWN … CAP_AUDIT_WRITE) as a mask. */
export const DEFAULT_CAPS = 0xa80425fbn;

export function testPlan(over: Partial<RunPlan> & Pick<RunPlan, "rootfs" | "rootfsPath">): RunPlan {
  return {
    namespaces: ["mnt", "pid", "uts", "ipc", "net", "cgroup"],
    hostname: "box",
    mounts: defaultMounts({ privileged: false, readonlyRoot: false }),
    maskedPaths: MASKED_PATHS,
    readonlyPaths: READONLY_PATHS,
    readonlyRoot: false,
    devices: DEFAULT_DEVICES,
    symlinks: DEFAULT_SYMLINKS,
    cgroupProcs: [],
    uid: 0,
    gid: 0,
    additionalGids: [],
    capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS, inheritable: 0n, ambient: 0n },
    noNewPrivileges: false,
    seccomp: null,
    rlimits: [],
    args: ["true"],
    env: ["PATH=/bin"],
    cwd: "/",
    stdio: [-1, -1, -1],
    consoleSocket: -1,
    init: false,
    oomScoreAdj: null,
    ...over,
  };
}
