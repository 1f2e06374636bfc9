// docker-run semantics → a RunPlan: Docker's default mounts, devices, masked and read-only paths,
// command, environment, user and hardening. Pure: every fact from the outside world (image
// config, passwd text, resolved volumes, cgroup files, compiled seccomp) comes in as data.
import path from "node:path";
import { FailedPreconditionError } from "../errors.ts";
import type { ContainerConfig } from "../image/manifest.ts";
import type { Mount } from "../rootfs/mount.ts";
import { MS } from "../sys/sys.ts";
import { capabilitiesForUser } from "./capabilities.ts";
import { containerEnv, envValue, DEFAULT_PATH } from "./env.ts";
import type { Capabilities, ContainerMount, Namespace, Rlimit, RunPlan } from "./plan.ts";
import { parseGroup, parsePasswd, resolveUser } from "./user.ts";

/** Docker's masked paths (moby oci/defaults.go). */
export const MASKED_PATHS = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

export const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

const NOSUID_NOEXEC_NODEV = MS.NOSUID | MS.NOEXEC | MS.NODEV;

export function defaultMounts(opts: { privileged: boolean; readonlyRoot: boolean }): ContainerMount[] {
  const sysFlags = NOSUID_NOEXEC_NODEV | (opts.privileged ? 0 : MS.RDONLY);
  return [
    { source: "proc", target: "/proc", fstype: "proc", flags: NOSUID_NOEXEC_NODEV, data: null },
    { source: "tmpfs", target: "/dev", fstype: "tmpfs", flags: MS.NOSUID | MS.STRICTATIME, data: "mode=755,size=65536k" },
    { source: "devpts", target: "/dev/pts", fstype: "devpts", flags: MS.NOSUID | MS.NOEXEC, data: "newinstance,ptmxmode=0666,mode=0620,gid=5" },
    { source: "sysfs", target: "/sys", fstype: "sysfs", flags: sysFlags, data: null },
    { source: "mqueue", target: "/dev/mqueue", fstype: "mqueue", flags: NOSUID_NOEXEC_NODEV, data: null },
    { source: "shm", target: "/dev/shm", fstype: "tmpfs", flags: NOSUID_NOEXEC_NODEV, data: "mode=1777,size=65536k" },
  ];
}

export const DEFAULT_DEVICES: RunPlan["devices"] = [
  { path: "/dev/null", type: "c", major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/zero", type: "c", major: 1, minor: 5, mode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/full", type: "c", major: 1, minor: 7, mode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/random", type: "c", major: 1, minor: 8, mode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/urandom", type: "c", major: 1, minor: 9, mode: 0o666, uid: 0, gid: 0 },
  { path: "/dev/tty", type: "c", major: 5, minor: 0, mode: 0o666, uid: 0, gid: 0 },
];

export const DEFAULT_SYMLINKS: RunPlan["symlinks"] = [
  { target: "/proc/self/fd", path: "/dev/fd" },
  { target: "/proc/self/fd/0", path: "/dev/stdin" },
  { target: "/proc/self/fd/1", path: "/dev/stdout" },
  { target: "/proc/self/fd/2", path: "/dev/stderr" },
  { target: "pts/ptmx", path: "/dev/ptmx" },
  { target: "/proc/kcore", path: "/dev/core" },
];

/** Entrypoint + Cmd as Docker combines them: --entrypoint resets the image's Cmd. */
export function resolveArgs(config: ContainerConfig, args: string[], entrypoint?: string): string[] {
  let ep: string[];
  let cmd: string[];
  if (entrypoint !== undefined) {
    ep = entrypoint === "" ? [] : [entrypoint];
    cmd = args;
  } else {
    ep = config.Entrypoint ?? [];
    cmd = args.length ? args : (config.Cmd ?? []);
  }
  const all = [...ep, ...cmd];
  if (all.length === 0) throw new FailedPreconditionError("No command specified");
  return all;
}

/** A bind mount the engine resolved: host source (a file or dir) onto a container path. */
export interface ResolvedBind {
  source: string;
  target: string;
  readonly: boolean;
  kind: "dir" | "file";
}

export interface TmpfsMount {
  target: string;
  flags: number;
  data: string;
}

export interface PlanInput {
  config: ContainerConfig;
  args: string[];
  entrypoint?: string;
  /** -e / --env-file, already parsed, in order. */
  env: string[];
  user?: string;
  groupAdd: string[];
  workdir?: string;
  hostname: string;
  tty: boolean;
  init: boolean;
  privileged: boolean;
  /** --device nodes, made after Docker's /dev defaults. */
  devices?: RunPlan["devices"];
  readonlyRoot: boolean;
  noNewPrivileges: boolean;
  /** /etc/passwd and /etc/group of the image, when it has them. */
  passwd?: string;
  group?: string;
  rootfs: Mount;
  rootfsPath: string;
  /** hostname, hosts, resolv.conf files generated for this container. */
  etcFiles: { hostname: string; hosts: string; resolvConf: string };
  binds: ResolvedBind[];
  tmpfs: TmpfsMount[];
  cgroupProcs: string[];
  capabilities: Capabilities;
  seccomp: Uint8Array | null;
  rlimits: Rlimit[];
  stdio: [number, number, number];
  consoleSocket: number;
  /** Whether the kernel has time namespaces (/proc/self/ns/time). */
  timeNamespace: boolean;
}

export function buildRunPlan(input: PlanInput): RunPlan {
  const user = resolveUser(
    input.user ?? input.config.User ?? "",
    parsePasswd(input.passwd ?? ""),
    parseGroup(input.group ?? ""),
    input.groupAdd,
  );
  const env = containerEnv({ image: input.config.Env ?? [], user: input.env, hostname: input.hostname, tty: input.tty, home: user.home });
  const cwd = path.posix.resolve("/", input.workdir || input.config.WorkingDir || "/");
  const mounts: ContainerMount[] = defaultMounts({ privileged: input.privileged, readonlyRoot: input.readonlyRoot });
  const etc: [string, string][] = [
    [input.etcFiles.hostname, "/etc/hostname"],
    [input.etcFiles.hosts, "/etc/hosts"],
    [input.etcFiles.resolvConf, "/etc/resolv.conf"],
  ];
  for (const [source, target] of etc) {
    mounts.push({ source, target, fstype: null, flags: MS.BIND, data: null, targetKind: "file" });
  }
  // User mounts go last, sorted by depth so a parent never covers a child (as Docker sorts them).
  const user_: ContainerMount[] = [
    ...input.binds.map(
      (b): ContainerMount => ({
        source: b.source,
        target: b.target,
        fstype: null,
        flags: MS.BIND | MS.REC,
        data: null,
        targetKind: b.kind,
        // MS_REC: the submounts under the source too (init.c: mount_setattr AT_RECURSIVE).
        ...(b.readonly ? { remountFlags: MS.RDONLY | MS.REC } : {}),
      }),
    ),
    ...input.tmpfs.map((t): ContainerMount => ({ source: "tmpfs", target: t.target, fstype: "tmpfs", flags: t.flags, data: t.data })),
  ];
  user_.sort((a, b) => a.target.split("/").length - b.target.split("/").length);
  const namespaces: Namespace[] = ["mnt", "pid", "uts", "ipc", "net", "cgroup"];
  if (input.timeNamespace) namespaces.push("time");
  return {
    namespaces,
    hostname: input.hostname,
    rootfs: input.rootfs,
    rootfsPath: input.rootfsPath,
    mounts: [...mounts, ...user_],
    maskedPaths: input.privileged ? [] : MASKED_PATHS,
    readonlyPaths: input.privileged ? [] : READONLY_PATHS,
    readonlyRoot: input.readonlyRoot,
    devices: input.devices?.length ? [...DEFAULT_DEVICES, ...input.devices] : DEFAULT_DEVICES,
    symlinks: DEFAULT_SYMLINKS,
    cgroupProcs: input.cgroupProcs,
    uid: user.uid,
    gid: user.gid,
    // runc keeps the primary group in the supplementary list when nothing else is there.
    additionalGids: user.additionalGids.length ? user.additionalGids : [user.gid],
    // Docker's rule: a non-root user keeps only the bounding set; root gets the set effective.
    capabilities: capabilitiesForUser(input.capabilities.bounding, user.uid),
    noNewPrivileges: input.noNewPrivileges,
    seccomp: input.seccomp,
    rlimits: input.rlimits,
    args: resolveArgs(input.config, input.args, input.entrypoint),
    env: envValue(env, "PATH") === undefined ? [`PATH=${DEFAULT_PATH}`, ...env] : env,
    cwd,
    stdio: input.stdio,
    consoleSocket: input.consoleSocket,
    init: input.init,
    oomScoreAdj: null,
  };
}
