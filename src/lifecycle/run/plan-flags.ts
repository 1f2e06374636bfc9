// The flags that change the plan after it is built from the request: --shm-size, --privileged's
// host devices, --ipc/--pid/--uts/--cgroupns. Only a flag that was given costs anything here.
import fs from "node:fs";
import path from "node:path";
import { devMajor, devMinor } from "../../runtime/devicespec.ts";
import type { RunPlan } from "../../runtime/plan.ts";
import { DEFAULT_SYMLINKS } from "../../runtime/spec.ts";
import { applyNamespaceModes, type ResolvePid1, type ResolveShm } from "./namespaces.ts";
import type { RunRequest } from "./request.ts";

/** `pid1Of` (and `shmOf`) are given when a namespace mode is not private (their module is loaded only then). */
export function applyPlanFlags(plan: RunPlan, req: RunRequest, pid1Of?: ResolvePid1, shmOf?: ResolveShm): void {
  if (req.resources.shmSize !== undefined) setShmSize(plan, req.resources.shmSize);
  if (req.process.oomScoreAdj !== undefined) plan.oomScoreAdj = req.process.oomScoreAdj;
  if (req.security.privileged) plan.devices = withHostDevices(plan.devices, readHostDevices("/dev"));
  if (pid1Of) applyNamespaceModes(plan, req.namespaces, pid1Of, shmOf);
}

/** /dev/shm's tmpfs at `bytes` (Docker: size in bytes, rounded by the kernel to pages). */
export function setShmSize(plan: RunPlan, bytes: number): void {
  const shm = plan.mounts.find((m) => m.target === "/dev/shm" && m.fstype === "tmpfs");
  if (shm) shm.data = (shm.data ?? "").split(",").filter((o) => o && !o.startsWith("size=")).concat(`size=${bytes}`).join(",");
}

/** /dev's nodes the container does not get as Docker's: its own console, pts, and the symlinks it makes. */
const SKIPPED = new Set(["/dev/console", ...DEFAULT_SYMLINKS.map((l) => l.path)]);

/** Subdirectories of /dev not walked, as containerd's HostDevices: the container's own, or not devices. */
const SKIPPED_DIRS = new Set(["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]);

/**
 * The host's character and block devices under `dir` and its subdirectories (/dev/net/tun,
 * /dev/dri/card0, /dev/input/event0…), as containerd's HostDevices finds them for --privileged:
 * symlinks skipped, a `console` anywhere skipped, the directories above not entered. The init makes
 * a node's missing parent directories.
 */
export function readHostDevices(dir: string, at = "/dev"): RunPlan["devices"] {
  const out: RunPlan["devices"] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.posix.join(at, e.name);
    if (e.isDirectory()) {
      if (!SKIPPED_DIRS.has(e.name)) out.push(...readHostDevices(path.join(dir, e.name), p));
      continue;
    }
    if (SKIPPED.has(p) || e.name === "console" || !(e.isCharacterDevice() || e.isBlockDevice())) continue;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(path.join(dir, e.name));
    } catch {
      continue; // gone meanwhile
    }
    const type = st.isCharacterDevice() ? "c" : st.isBlockDevice() ? "b" : null;
    if (!type) continue;
    out.push({ path: p, type, major: devMajor(st.rdev), minor: devMinor(st.rdev), mode: st.mode & 0o777, uid: st.uid, gid: st.gid });
  }
  return out;
}

/** The plan's devices, then each host device at a path not already taken. */
export function withHostDevices(base: RunPlan["devices"], host: RunPlan["devices"]): RunPlan["devices"] {
  const taken = new Set(base.map((d) => d.path));
  return [...base, ...host.filter((d) => !taken.has(d.path))];
}
