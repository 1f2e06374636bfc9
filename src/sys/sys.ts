// The Sys interface: every system call the engine makes that Node's fs does not offer.
// src/sys/linux.ts implements it over bun:ffi; src/sys/fake.ts records calls for unit tests.

export interface Sys {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount(target: string, flags: number): void;
  mknod(path: string, mode: number, dev: number): void;
  lsetxattr(path: string, name: string, value: Uint8Array): void;
  /** null when the attribute is absent. */
  lgetxattr(path: string, name: string): Uint8Array | null;
  llistxattr(path: string): string[];
  /** Returns false when LOCK_NB was given and the lock is held elsewhere. */
  flock(fd: number, op: number): boolean;
  syncfs(fd: number): void;
  /**
   * lseek(2) with SEEK_DATA (3) or SEEK_HOLE (4): where the next data or hole starts at or after
   * `offset`; -1 when no data follows it (ENXIO). A file system without holes has data up to the end.
   */
  seekExtent(fd: number, offset: number, whence: 3 | 4): number;
  /**
   * A connected pair of unix stream sockets (close-on-exec), [ours, the init's]: runc's console
   * socket. The init of a -t container sends its terminal's master through the second (init/console.c).
   */
  consoleSocket(): [number, number];
  /** The fd sent on `sock` (SCM_RIGHTS), received close-on-exec without waiting; -1 when none is there. */
  receiveFd(sock: number): number;
  /** TIOCSWINSZ on a terminal fd. */
  setWinsize(fd: number, rows: number, cols: number): void;
  /** tcgetattr(3): the terminal's struct termios (src/sys/termios.ts). */
  getTermios(fd: number): Uint8Array;
  /** tcsetattr(3) TCSANOW. */
  setTermios(fd: number, termios: Uint8Array): void;
  /**
   * Starts a container from an encoded RunPlan (src/runtime/encode.ts): clones the C init of
   * src/sys/init.c into new namespaces. Throws when the plan is malformed or clone fails; what goes
   * wrong inside the new process arrives through `started`.
   */
  spawnContainer(plan: Uint8Array): ContainerProcess;
  /**
   * The container's process started ahead of its plan, by the static init `executable` (the monitor
   * binary's `launch` mode, src/sys/monitor.c): cloned at once into the namespaces of `cloneFlags`
   * (of pid, mnt, uts, ipc and net: those the plan will create; the init refuses a plan that does not
   * create them all), it waits for its plan, and what it then does is what spawnContainer's child
   * does (joining the plan's cgroups included). With `discardAfterExit` it waits after the
   * container's end until discard() or abort() is called (or this process exits). `fds` are passed to it from fd 3 up: the plan's stdio and consoleSocket name them as
   * `fdMap` says. Throws when the executable cannot be started (the caller refuses the
   * run: spawnContainer's child would be this process's binary).
   */
  startEarly(executable: string, options: { cloneFlags: number; fds: number[]; discardAfterExit?: boolean; log?: EarlyLog; pidNamespace?: string }): EarlyContainer;

  /**
   * A NETLINK_ROUTE socket (close-on-exec). With `netnsPath` it is opened inside that network
   * namespace (setns there and back on the calling thread); the socket stays bound to it.
   */
  netlinkOpen(netnsPath: string | null): number;
  /** Sends one request to the kernel. */
  netlinkSend(fd: number, msg: Uint8Array): void;
  /** Reads one datagram (blocking; the kernel answers every request with NLM_F_ACK). */
  netlinkRecv(fd: number): Uint8Array;
  netlinkClose(fd: number): void;
  /**
   * A new network namespace kept alive by a bind mount of its nsfs file onto `path` (an existing
   * empty file). Only the calling thread enters it, and it is back in its own netns on return.
   */
  createNetns(path: string): void;
  /**
   * openat2(2) (for `cp`): opens `path` relative to `dirfd` with RESOLVE_* flags, so
   * that a container's symlinks resolve inside its root. Returns the new fd.
   */
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  /**
   * Loads `program` (struct bpf_insn bytes) as a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it
   * to the cgroup v2 directory `cgroupDir` (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI): from then on the
   * kernel asks it about every device node a process of that cgroup makes or opens. The attachment
   * keeps the program; it goes with the cgroup.
   */
  attachDeviceFilter(cgroupDir: string, program: Uint8Array): void;
  /**
   * Writes `value` to `file` (a /proc/sys/net path) from inside the network namespace `netnsPath`:
   * the calling thread enters it for the write only (--sysctl net.*).
   */
  writeInNetns(netnsPath: string, file: string, value: string): void;
  /**
   * pidfd_open(2): an fd (close-on-exec) bound to the process of `pid` now, never to a later one
   * that gets its pid. Throws (ESRCH: no such process; ENOSYS: a kernel before 5.3).
   */
  pidfdOpen(pid: number): number;
  /** pidfd_send_signal(2): throws ESRCH once that process has exited (ENOSYS before 5.1). */
  pidfdSendSignal(pidfd: number, signal: number): void;
}

/** openat2's resolve flags (linux/openat2.h). */
export const RESOLVE = {
  NO_XDEV: 0x01,
  NO_MAGICLINKS: 0x02,
  NO_SYMLINKS: 0x04,
  BENEATH: 0x08,
  IN_ROOT: 0x10,
} as const;

/** What the container's init reported when it gave up before execve. */
export interface InitFailure {
  /** `enum stage` of src/sys/init/report.c (InitStage in src/runtime/encode.ts). */
  stage: number;
  errno: number;
  /** The errno by name: "EPERM". */
  code: string;
  /** The item of the plan's list the stage was working on (mounts[i], devices[i]…). */
  index: number;
  /** Which step of the stage, or the command for exec. */
  detail: string;
}

export interface ProcessExit {
  /** Docker's exit code: the process's own, or 128 + the signal that killed it. */
  exitCode: number;
  signal?: number;
}

export interface ContainerProcess {
  /** The container's PID 1, as the host sees it. */
  pid: number;
  /** Settles once the init has exec'd the command (null) or given up (what it reported). */
  started: Promise<InitFailure | null>;
  /** Settles when PID 1 has exited and been reaped; never rejects. */
  exited: Promise<ProcessExit>;
  /** Signals PID 1 through its pidfd (never a recycled pid); a no-op once it has exited. */
  kill(signal: number): void;
}

export interface EarlyContainer {
  /** fds[i] as the container's process sees it (-1 stays -1: the init opens /dev/null). */
  fdMap: number[];
  /** Hands over the encoded plan: the process runs it up to execve. Once only. */
  start(plan: Uint8Array): ContainerProcess;
  /**
   * After the container's end (startEarly's `discardAfterExit`): hands over a directory that the
   * init deletes on its own while this process goes on and exits (a --rm container's, already
   * renamed out of the listing). False when the init is gone; the caller then deletes it itself.
   */
  discard(dir: string): boolean;
  /**
   * Settles once the init process is gone. It keeps the container's namespaces (mount, ipc, uts,
   * net) open past the container's end, so that their teardown follows the exit report instead of
   * delaying it; they are released by then. Never rejects.
   */
  ended: Promise<void>;
  /**
   * Ends it (the waiting process, or the container once started) and waits until it is gone, so
   * that its cgroups can be removed next: synchronous, as undo steps are. Idempotent.
   */
  abort(): void;
}

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  NOATIME: 0x400,
  STRICTATIME: 0x1000000,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
} as const;

export const MNT_DETACH = 0x2;
/** open(2)'s O_CLOEXEC, which node:fs does not export. */
export const O_CLOEXEC = 0o2000000;
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

export function makedev(major: number, minor: number): number {
  // glibc's encoding, kept within 2^53 so it stays a safe JS number.
  return (
    ((major & 0xfff) << 8) +
    ((minor & 0xff) >>> 0) +
    ((minor & ~0xff) << 12) +
    (major & ~0xfff) * 2 ** 32
  );
}

/** "MS_BIND|MS_REC" for error messages. */
export function mountFlagNames(flags: number): string {
  const names = Object.entries(MS)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => `MS_${name}`);
  return names.length ? names.join("|") : "0";
}

/** A foreground container's json-file log: the early init tees the container's stdout and stderr (fds[1], fds[2]) into it. */
export interface EarlyLog {
  path: string;
  maxSize: number;
  maxFile: number;
  /** With -t: the last of fds is a pipe carrying the terminal's output (the CLI copies it), logged as stdout; nothing is teed. */
  feed?: boolean;
}
