// Starts a container from a RunPlan: encodes it, has the C init (src/sys/init.c) execute it, and
// turns what the init reports into typed errors that name the operation and its arguments.
import os from "node:os";
import { FailedPreconditionError, InvalidArgumentError, SyscallError, TinydockError, type ErrorKind } from "../errors.ts";
import { MS, mountFlagNames, type EarlyContainer, type InitFailure, type Sys } from "../sys/sys.ts";
import { encodePlanAt, InitStage, type EncodedPlan } from "./encode.ts";
import type { RunPlan } from "./plan.ts";

export interface ExitStatus {
  /** Docker's: the process's exit code, or 128 + the signal that killed it. */
  exitCode: number;
  signal?: number;
}

export interface Launched {
  /** The container's PID 1 as the host sees it. */
  pid: number;
  exited: Promise<ExitStatus>;
  /** Sends a signal to the container's PID 1 (a no-op once it has exited). */
  kill(signal: number | NodeJS.Signals): void;
}

/** The command could not be executed: Docker's 127 (not found) or 126 (not executable). */
export class ExecError extends TinydockError {
  readonly errno: string;
  readonly exitCode: 126 | 127;
  constructor(command: string, errno: string, searchedPath: boolean) {
    const exitCode = errno === "ENOENT" ? 127 : 126;
    const kind: ErrorKind = exitCode === 127 ? "NotFound" : errno === "EACCES" || errno === "EPERM" ? "Permission" : "FailedPrecondition";
    super(kind, `exec: "${command}": ${execReason(command, errno, searchedPath)}`);
    this.errno = errno;
    this.exitCode = exitCode;
  }
}

/**
 * Starts the container process; resolves once it has exec'd (or rejects with a typed error).
 * `whileStarting` runs while the process mounts, given the plan's encoding (if it throws, the started process is killed and
 * reaped, then the error goes up). With
 * `early` (Sys.startEarly, already in its cgroups) the plan goes to that waiting process; without,
 * init.c is compiled with TinyCC and clones it now.
 */
export async function launch(sys: Sys, plan: RunPlan, early?: EarlyContainer, whileStarting?: (encoded: EncodedPlan) => void): Promise<Launched> {
  const encoded = encodePlanAt(plan);
  const proc = early ? early.start(encoded.bytes) : sys.spawnContainer(encoded.bytes);
  let sideFailure: { err: unknown } | undefined;
  try {
    whileStarting?.(encoded);
  } catch (err) {
    sideFailure = { err };
  }
  const failure = await proc.started;
  if (failure) {
    await proc.exited; // reaped: nothing is left behind
    throw initError(plan, failure);
  }
  if (sideFailure) {
    proc.kill(9); // it runs its command by now: ended and reaped before the error goes up
    await proc.exited.catch(() => {});
    throw sideFailure.err;
  }
  return {
    pid: proc.pid,
    exited: proc.exited,
    kill: (signal) => proc.kill(signalNumber(signal)),
  };
}

export function signalNumber(signal: number | NodeJS.Signals): number {
  if (typeof signal === "number") {
    if (!Number.isInteger(signal) || signal < 0 || signal > 64) throw new InvalidArgumentError(`Cannot send signal ${signal}: not a signal number`);
    return signal;
  }
  const n = os.constants.signals[signal];
  if (n === undefined) throw new InvalidArgumentError(`Cannot send signal "${signal}": unknown signal`);
  return n;
}

const ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ENOEXEC: "exec format error",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  ELOOP: "too many levels of symbolic links",
  E2BIG: "argument list too long",
  ETXTBSY: "text file busy",
  ENOMEM: "cannot allocate memory",
  ENAMETOOLONG: "file name too long",
};

/** The words runc uses, which Docker users see. */
function execReason(command: string, errno: string, searchedPath: boolean): string {
  if (errno === "ENOENT") return searchedPath ? "executable file not found in $PATH" : `stat ${command}: no such file or directory`;
  return ERRNO_TEXT[errno] ?? errno;
}

const RLIMIT_NAMES = ["cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile", "memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime"];

const hex = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16).padStart(16, "0")}`;

/** The operation (with its arguments) that a failure record stands for. */
export function describeFailure(plan: RunPlan, f: InitFailure): string {
  const i = f.index;
  const m = plan.mounts[i];
  const mountOp = (mt: { source: string; target: string; fstype: string | null; flags: number }): string =>
    `mount ${mt.fstype ?? mt.source} on ${mt.target} (${mountFlagNames(mt.flags)})`;
  switch (f.stage as InitStage) {
    case InitStage.Prctl:
      return `prctl ${f.detail}`;
    case InitStage.Propagation:
      return "make / private (MS_REC|MS_PRIVATE)";
    case InitStage.Cgroup:
      return `join cgroup: write 0 to ${plan.cgroupProcs[i]}`;
    case InitStage.Unshare:
      // "namespaces": the early init's unshare of all the plan's namespaces but pid, cgroup and time
      if (f.detail === "namespaces") return `unshare the ${plan.namespaces.filter((n) => !["pid", "cgroup", "time"].includes(n) && !plan.joinNamespaces?.some((j) => j.ns === n)).join(", ")} namespaces`;
      return `unshare ${f.detail}`;
    case InitStage.OomScoreAdj:
      return `write ${plan.oomScoreAdj} to /proc/self/oom_score_adj`;
    case InitStage.Hostname:
      return `sethostname "${plan.hostname}"`;
    case InitStage.Loopback:
      return `bring up lo (${f.detail})`;
    case InitStage.Rootfs:
      if (f.detail === "chdir") return `chdir ${plan.rootfs.cwd}`;
      if (f.detail === "open") return `open rootfs ${plan.rootfsPath}`;
      return mountOp(plan.rootfs);
    case InitStage.MountTarget:
      return `create mount target ${m?.target} in ${plan.rootfsPath}`;
    case InitStage.Mount:
      return m ? mountOp(m) : `mount #${i}`;
    case InitStage.Remount:
      if (f.detail === "recursive") {
        const why = f.code === "ENOSYS" ? "; the kernel lacks mount_setattr (Linux 5.12), which a read-only bind with submounts needs" : "";
        return `make ${m?.target} read-only with its submounts: mount_setattr ${m?.source} (AT_RECURSIVE, MOUNT_ATTR_RDONLY)${why}`;
      }
      return `remount ${m?.target} (${mountFlagNames(MS.BIND | MS.REMOUNT | (m?.remountFlags ?? 0))})`;
    case InitStage.Device: {
      const d = plan.devices[i];
      const what = f.detail === "parent" ? "create the directory of" : f.detail;
      return `${what} device ${d?.path} (${d?.type} ${d?.major}:${d?.minor})`;
    }
    case InitStage.Symlink:
      return `symlink ${plan.symlinks[i]?.path} -> ${plan.symlinks[i]?.target}`;
    case InitStage.Cwd:
      return `create working directory ${plan.cwd}`;
    case InitStage.PivotRoot:
      return `pivot_root to ${plan.rootfsPath}${f.detail ? ` (${f.detail})` : ""}`;
    case InitStage.Mask:
      return `mask ${plan.maskedPaths[i]}`;
    case InitStage.Readonly:
      return `remount ${plan.readonlyPaths[i]} read-only`;
    case InitStage.ReadonlyRoot:
      return "remount / read-only";
    case InitStage.Rlimit: {
      const r = plan.rlimits[i];
      return `setrlimit ${RLIMIT_NAMES[r?.resource ?? -1] ?? r?.resource} ${r?.soft}:${r?.hard}`;
    }
    case InitStage.Bounding:
      return `drop capability ${i} from the bounding set`;
    case InitStage.Setgroups:
      return `setgroups [${plan.additionalGids.join(" ")}]`;
    case InitStage.Setgid:
      return `setresgid ${plan.gid}`;
    case InitStage.Setuid:
      return `setresuid ${plan.uid}`;
    case InitStage.Capset: {
      const c = plan.capabilities;
      return `capset effective ${hex(c.effective)} permitted ${hex(c.permitted)} inheritable ${hex(c.inheritable)}`;
    }
    case InitStage.Ambient:
      return i < 0 ? "clear the ambient capabilities" : `raise ambient capability ${i}`;
    case InitStage.NoNewPrivs:
      return "prctl PR_SET_NO_NEW_PRIVS";
    case InitStage.Chdir:
      return `chdir ${plan.cwd} as uid ${plan.uid}`;
    case InitStage.Tty:
      return f.detail === "setsid" ? "setsid" : `${f.detail} (the container's terminal, console socket fd ${plan.consoleSocket})`;
    case InitStage.Stdio:
      return `dup fd ${plan.stdio[i]} onto ${i}${f.detail ? ` (${f.detail})` : ""}`;
    case InitStage.CloseFds:
      return "close_range 3..";
    case InitStage.Seccomp:
      return `install the seccomp filter (${(plan.seccomp?.length ?? 0) / 8} instructions)`;
    case InitStage.Fork: {
      // the clone's parent enters a joined PID namespace first (init/spawn.c): its failure is the clone's
      const pidns = plan.joinNamespaces?.find((j) => j.ns === "pid");
      return pidns ? `clone the container's process into the PID namespace ${pidns.path}${plan.init ? " (or fork the command under --init)" : ""}` : "fork the command under --init";
    }
    case InitStage.Signals:
      return "unblock signals";
    case InitStage.JoinNamespace: {
      const j = plan.joinNamespaces?.[i];
      if (!j) return f.detail === "pid" ? "find the container's process (its PID 1 has exited)" : `join the container's ${f.detail} namespace`;
      return `${f.detail === "open" ? "open" : "setns"} ${j?.ns} namespace ${j?.path}`;
    }
    case InitStage.Sysctl: {
      const s = plan.sysctls?.[i];
      return `${f.detail === "open" ? "open" : "write"} sysctl ${s?.path.slice("/proc/sys/".length).replaceAll("/", ".")}${f.detail === "open" ? "" : ` = "${s?.value}"`}`;
    }
    default:
      return `container init stage ${f.stage}${f.detail ? ` (${f.detail})` : ""}`;
  }
}

/** The typed error for what the init (or the monitor, with the same record) reported. */
export function initError(plan: RunPlan, f: InitFailure): TinydockError {
  if (f.stage === InitStage.Exec) return new ExecError(plan.args[0] ?? f.detail, f.code, f.index === 1);
  // runc's words for the mounts it refuses (checkProcMount, and procfs/sysfs on a non-directory).
  const m = plan.mounts[f.index];
  if (f.stage === InitStage.MountTarget && f.detail === "proc") return new FailedPreconditionError(`"${m?.target}" cannot be mounted because it is inside /proc`);
  if (f.stage === InitStage.MountTarget && f.detail === "ordinary") return new FailedPreconditionError(`filesystem "${m?.fstype}" must be mounted on ordinary directory`);
  return new SyscallError(describeFailure(plan, f), f.errno, f.code);
}
