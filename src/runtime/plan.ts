// The plan the C init executes between clone and execve: plain data built by TypeScript
// (src/runtime/spec.ts), serialised by encodePlan (src/runtime/encode.ts) and applied by
// src/sys/init.c. Nothing here runs anything.
import type { Mount } from "../rootfs/mount.ts";

export type Namespace = "mnt" | "pid" | "uts" | "ipc" | "net" | "cgroup" | "time";

/** A mount inside the container: targets are absolute paths inside the container's rootfs. */
export interface ContainerMount extends Omit<Mount, "cwd"> {
  /** Create the target as a directory (default) or an empty file (bind mounts of files). */
  targetKind?: "dir" | "file";
  /** After a bind mount, remount with these extra flags (MS_RDONLY…) — binds ignore them at first. */
  remountFlags?: number;
}

export interface Rlimit {
  /** RLIMIT_NOFILE = 7, RLIMIT_NPROC = 6, … */
  resource: number;
  soft: number; // -1 = unlimited
  hard: number;
}

export interface Capabilities {
  /** 64-bit masks (bit n = capability number n), as bigint. */
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export interface RunPlan {
  namespaces: Namespace[];
  hostname: string;
  /** The overlay (or other) mount of the rootfs, made inside the new mount namespace. */
  rootfs: Mount;
  /** Mount point of the rootfs (where `rootfs` is mounted), absolute on the host. */
  rootfsPath: string;
  /** Mounts made under the rootfs before pivot_root, in order. */
  mounts: ContainerMount[];
  /** Made inaccessible after pivot_root: /dev/null bind over files, empty ro tmpfs over dirs. */
  maskedPaths: string[];
  /** Remounted read-only after pivot_root. */
  readonlyPaths: string[];
  /** Make "/" read-only at the end (--read-only). */
  readonlyRoot: boolean;
  /** /dev device nodes to create (or bind from the host when mknod is not allowed): path, type, major, minor, mode. */
  devices: { path: string; type: "c" | "b"; major: number; minor: number; mode: number; uid: number; gid: number }[];
  /** Symlinks to create inside the container after mounts (/dev/fd → /proc/self/fd …). */
  symlinks: { target: string; path: string }[];
  /** cgroup.procs files the child writes its own pid into before unsharing the cgroup namespace. */
  cgroupProcs: string[];
  uid: number;
  gid: number;
  additionalGids: number[];
  capabilities: Capabilities;
  noNewPrivileges: boolean;
  /** A classic-BPF seccomp program (struct sock_filter[] as bytes, 8 bytes per instruction), or null. */
  seccomp: Uint8Array | null;
  rlimits: Rlimit[];
  /** Resolved inside the container: argv[0] without a slash is searched in env PATH. */
  args: string[];
  env: string[];
  cwd: string;
  /** stdio of the container: fds in the calling process to dup onto 0, 1, 2 (-1 = /dev/null). */
  stdio: [number, number, number];
  /**
   * -t: a unix socket (runc's --console-socket) when >= 0. The init opens a pty of the container's
   * own devpts once /dev/pts is mounted, sends the master back through it (SCM_RIGHTS) and makes the
   * slave its controlling terminal and fds 0-2 (stdio is then ignored).
   */
  consoleSocket: number;
  /** -t: the terminal's size, set on it before the command starts (rows, columns); unset: the kernel's 0x0. */
  consoleSize?: { rows: number; cols: number };
  /** Run a reaper as PID 1 that forwards signals and reaps zombies (--init). */
  init: boolean;
  /** oom_score_adj to write, or null. */
  oomScoreAdj: number | null;
  /**
   * Namespaces to join by path (an nsfs file: /run/netns/x, <root>/netns/<id>, /proc/<pid>/ns/net)
   * instead of creating them: the child setns()es into each before its own unshares and mounts. A
   * namespace joined is not also created. net, ipc, uts, cgroup and pid only: pid applies to
   * children only, so the clone's parent enters it and the child is born there (time cannot be
   * joined, and the rootfs needs a mount namespace of its own).
   */
  joinNamespaces?: JoinNamespace[];
  /**
   * --sysctl keys of the namespaces the clone makes (IPC, UTS; net with --network none): written by
   * the child after its namespaces are made and before the rootfs, through the host's /proc, whose
   * /proc/sys shows the writer's namespaces. Paths under /proc/sys/ only.
   */
  sysctls?: { path: string; value: string }[];
}

export interface JoinNamespace {
  ns: Namespace;
  path: string;
}
