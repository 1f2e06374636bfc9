// A recording Sys for unit tests: every call is appended to `calls`; xattrs and locks are kept in
// memory so code that reads back what it wrote behaves as on a real kernel.
import { SyscallError } from "../errors.ts";
import type { ContainerProcess, EarlyContainer, InitFailure, ProcessExit, Sys } from "./sys.ts";

export interface FakeCall {
  op: keyof Sys;
  args: unknown[];
}

/** How a fake container behaves: fails at start-up, or runs until it exits (or is killed). */
export interface FakeSpawn {
  failure?: InitFailure;
  /** Exit as soon as started (after a failure: exit code 1 unless given); without it the container
   * runs until kill() or exit(). */
  exit?: ProcessExit;
}

export interface FakeContainerProcess extends ContainerProcess {
  /** The encoded plan it was started with. */
  plan: Uint8Array;
  /** Signals sent through kill(), in order. */
  signals: number[];
  /** End it as if PID 1 exited. */
  exit(e: ProcessExit): void;
}

export interface FakeEarlyContainer extends EarlyContainer {
  /** Directories handed to discard(), in order. */
  discarded: string[];
  aborted: boolean;
}

export interface FakeSys extends Sys {
  calls: FakeCall[];
  /** Make the next call of `op` fail with this errno name. */
  failNext(op: keyof Sys, code: string): void;
  /** Script the next spawnContainer (default: starts and runs until killed). */
  nextSpawn(behaviour: FakeSpawn): void;
  /** Every container spawnContainer (or an early container's start) returned, in order. */
  spawned: FakeContainerProcess[];
  /** Every early container startEarly returned, in order. */
  earlyStarted: FakeEarlyContainer[];
  /** Replies the fake kernel gives netlinkRecv, in order (default: an ack of the last request). */
  netlinkReplies: Uint8Array[];
  /** Every netlink request sent, in order. */
  netlinkSent: Uint8Array[];
}

export function fakeSys(): FakeSys {
  const calls: FakeCall[] = [];
  const failures = new Map<keyof Sys, string>();
  const xattrs = new Map<string, Map<string, Uint8Array>>();
  const spawns: FakeSpawn[] = [];
  const spawned: FakeContainerProcess[] = [];
  const earlyStarted: FakeEarlyContainer[] = [];
  const record = (op: keyof Sys, args: unknown[]) => {
    calls.push({ op, args });
    const code = failures.get(op);
    if (code) {
      failures.delete(op);
      throw new SyscallError(`${op} ${String(args[0])}`, 0, code);
    }
  };
  const netlinkReplies: Uint8Array[] = [];
  const netlinkSent: Uint8Array[] = [];
  let nextFd = 300;
  const ackOf = (req: Uint8Array | undefined): Uint8Array => {
    const b = new Uint8Array(36);
    const v = new DataView(b.buffer);
    v.setUint32(0, 36, true);
    v.setUint16(4, 2 /* NLMSG_ERROR */, true);
    if (req) {
      v.setUint32(8, new DataView(req.buffer, req.byteOffset).getUint32(8, true), true);
      b.set(req.subarray(0, 16), 20);
    }
    return b;
  };
  return {
    calls,
    netlinkReplies,
    netlinkSent,
    netlinkOpen(netnsPath) {
      record("netlinkOpen", [netnsPath]);
      return nextFd++;
    },
    netlinkSend(fd, msg) {
      record("netlinkSend", [fd, msg]);
      netlinkSent.push(msg);
    },
    netlinkRecv(fd) {
      record("netlinkRecv", [fd]);
      return netlinkReplies.shift() ?? ackOf(netlinkSent[netlinkSent.length - 1]);
    },
    netlinkClose: (...args) => record("netlinkClose", args),
    createNetns: (...args) => record("createNetns", args),
    writeInNetns: (...args) => record("writeInNetns", args),
    failNext(op, code) {
      failures.set(op, code);
    },
    mount: (...args) => record("mount", args),
    umount: (...args) => record("umount", args),
    mknod: (...args) => record("mknod", args),
    lsetxattr(path, name, value) {
      record("lsetxattr", [path, name, value]);
      if (!xattrs.has(path)) xattrs.set(path, new Map());
      xattrs.get(path)!.set(name, value);
    },
    lgetxattr(path, name) {
      record("lgetxattr", [path, name]);
      return xattrs.get(path)?.get(name) ?? null;
    },
    llistxattr(path) {
      record("llistxattr", [path]);
      return [...(xattrs.get(path)?.keys() ?? [])];
    },
    flock(fd, op) {
      record("flock", [fd, op]);
      return true;
    },
    syncfs: (...args) => record("syncfs", args),
    // No holes: data from `offset` on (the reader stops at the end of the file).
    seekExtent: (_fd, offset, whence) => (whence === 3 ? offset : Number.MAX_SAFE_INTEGER),
    // The fake has no file system of its own.
    openat2(...args) {
      record("openat2", args);
      throw new SyscallError(`openat2 ${String(args[1])}`, 38, "ENOSYS");
    },
    attachDeviceFilter: (...args) => record("attachDeviceFilter", args),
    // No processes: every pid is gone.
    pidfdOpen(pid) {
      record("pidfdOpen", [pid]);
      throw new SyscallError(`pidfd_open ${pid}`, 3, "ESRCH");
    },
    pidfdSendSignal(...args) {
      record("pidfdSendSignal", args);
      throw new SyscallError(`pidfd_send_signal ${args[0]}`, 3, "ESRCH");
    },
    consoleSocket() {
      record("consoleSocket", []);
      return [100, 101];
    },
    receiveFd(sock) {
      record("receiveFd", [sock]);
      return 102;
    },
    setWinsize: (...args) => record("setWinsize", args),
    getTermios(fd) {
      record("getTermios", [fd]);
      return new Uint8Array(36);
    },
    setTermios: (...args) => record("setTermios", args),
    nextSpawn(behaviour) {
      spawns.push(behaviour);
    },
    spawned,
    earlyStarted,
    spawnContainer(plan) {
      record("spawnContainer", [plan]);
      return fakeContainer(plan);
    },
    startEarly(executable, options) {
      record("startEarly", [executable, options]);
      let proc: FakeContainerProcess | undefined;
      const early: FakeEarlyContainer = {
        fdMap: options.fds.map((fd, i) => (fd >= 0 ? 3 + i : -1)),
        aborted: false,
        discarded: [],
        ended: Promise.resolve(),
        discard(dir) {
          early.discarded.push(dir);
          return true;
        },
        start(plan) {
          proc = fakeContainer(plan);
          return proc;
        },
        abort() {
          early.aborted = true;
          proc?.kill(9);
        },
      };
      earlyStarted.push(early);
      return early;
    },
  };
  function fakeContainer(plan: Uint8Array): FakeContainerProcess {
    const behaviour = spawns.shift() ?? {};
    let exit!: (e: ProcessExit) => void;
    let over = false;
    const exited = new Promise<ProcessExit>((res) => {
      exit = (e) => {
        if (over) return;
        over = true;
        res(e);
      };
    });
    const proc: FakeContainerProcess = {
      pid: 4200 + spawned.length,
      plan,
      signals: [],
      started: Promise.resolve(behaviour.failure ?? null),
      exited,
      exit,
      kill(signal) {
        if (over) return;
        proc.signals.push(signal);
        // What an unhandled SIGKILL/SIGTERM does to a process that is not PID 1 of its namespace.
        if (signal === 9 || signal === 15) exit({ exitCode: 128 + signal, signal });
      },
    };
    if (behaviour.failure) exit(behaviour.exit ?? { exitCode: 1 });
    else if (behaviour.exit) exit(behaviour.exit);
    spawned.push(proc);
    return proc;
  }
}
