// The real Sys: thin wrappers over libc that turn -1 into a SyscallError naming the call.
import fs from "node:fs";
import { InternalError, InvalidArgumentError, SyscallError } from "../errors.ts";
import { cstr, errno, errnoName, initLib, lib } from "./ffi.ts";
import { LOCK_NB, MS, mountFlagNames, type ContainerProcess, type InitFailure, type ProcessExit, type Sys } from "./sys.ts";

const ENODATA = 61;
/** The same number on x86_64 and aarch64 (the generic syscall table). */
const SYS_OPENAT2 = 437;
const TIOCSPTLCK = 0x40045431;
const TIOCGPTN = 0x80045430;
const TIOCSWINSZ = 0x5414;
const EWOULDBLOCK = 11;
const ERANGE = 34;

function fail(operation: string): never {
  const n = errno();
  throw new SyscallError(operation, n, errnoName(n));
}

export function linuxSys(): Sys {
  return {
    mount(source, target, fstype, flags, data) {
      const rc = lib().mount(cstr(source), cstr(target), cstr(fstype), flags, cstr(data));
      if (rc !== 0) fail(`mount ${fstype ?? source ?? "none"} on ${target} (${mountFlagNames(flags)})`);
    },
    umount(target, flags) {
      if (lib().umount2(cstr(target), flags) !== 0) fail(`umount ${target}`);
    },
    mknod(path, mode, dev) {
      if (lib().mknod(cstr(path), mode, dev) !== 0) fail(`mknod ${path} (mode 0${mode.toString(8)})`);
    },
    lsetxattr(path, name, value) {
      const buf = Buffer.from(value);
      if (lib().lsetxattr(cstr(path), cstr(name), buf.length ? buf : null, buf.length, 0) !== 0) {
        fail(`setxattr ${name} on ${path}`);
      }
    },
    lgetxattr(path, name) {
      let size = 256;
      for (;;) {
        const buf = Buffer.alloc(size);
        const n = Number(lib().lgetxattr(cstr(path), cstr(name), buf, size));
        if (n >= 0) return new Uint8Array(buf.subarray(0, n));
        const e = errno();
        if (e === ENODATA) return null;
        if (e === ERANGE && size < 1 << 20) {
          size *= 4;
          continue;
        }
        throw new SyscallError(`getxattr ${name} on ${path}`, e, errnoName(e));
      }
    },
    llistxattr(path) {
      let size = 1024;
      for (;;) {
        const buf = Buffer.alloc(size);
        const n = Number(lib().llistxattr(cstr(path), buf, size));
        if (n >= 0) return buf.subarray(0, n).toString("utf8").split("\0").filter(Boolean);
        const e = errno();
        if (e === ERANGE && size < 1 << 20) {
          size *= 4;
          continue;
        }
        throw new SyscallError(`listxattr ${path}`, e, errnoName(e));
      }
    },
    flock(fd, op) {
      if (lib().flock(fd, op) === 0) return true;
      const e = errno();
      if (e === EWOULDBLOCK && op & LOCK_NB) return false;
      throw new SyscallError(`flock fd ${fd}`, e, errnoName(e));
    },
    openPty() {
      const master = fs.openSync("/dev/ptmx", fs.constants.O_RDWR | fs.constants.O_NOCTTY);
      try {
        const arg = Buffer.alloc(4);
        if (lib().ioctl(master, TIOCSPTLCK, arg) !== 0) fail("ioctl TIOCSPTLCK on /dev/ptmx");
        if (lib().ioctl(master, TIOCGPTN, arg) !== 0) fail("ioctl TIOCGPTN on /dev/ptmx");
        const slave = fs.openSync(`/dev/pts/${arg.readUInt32LE(0)}`, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
        return { master, slave };
      } catch (err) {
        fs.closeSync(master);
        throw err;
      }
    },
    setWinsize(fd, rows, cols) {
      const ws = Buffer.alloc(8);
      ws.writeUInt16LE(rows, 0);
      ws.writeUInt16LE(cols, 2);
      if (lib().ioctl(fd, TIOCSWINSZ, ws) !== 0) fail(`ioctl TIOCSWINSZ on fd ${fd}`);
    },
    syncfs(fd) {
      if (lib().syncfs(fd) !== 0) fail(`syncfs fd ${fd}`);
    },
    spawnContainer,
    // network
    netlinkOpen(netnsPath) {
      const open = () => {
        const fd = lib().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) fail(`socket AF_NETLINK NETLINK_ROUTE${netnsPath ? ` in ${netnsPath}` : ""}`);
        return fd;
      };
      return netnsPath === null ? open() : inNetns(netnsPath, open);
    },
    netlinkSend(fd, msg) {
      const buf = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
      for (;;) {
        const n = Number(lib().sendto(fd, buf, buf.length, 0, SOCKADDR_NL_KERNEL, SOCKADDR_NL_KERNEL.length));
        if (n === buf.length) return;
        if (n < 0 && errno() === EINTR) continue;
        if (n < 0) fail(`sendto netlink fd ${fd}`);
        throw new InternalError(`sendto netlink fd ${fd}: sent ${n} of ${buf.length} bytes`);
      }
    },
    netlinkRecv(fd) {
      const buf = Buffer.alloc(65536);
      for (;;) {
        const n = Number(lib().recv(fd, buf, buf.length, 0));
        if (n >= 0) return new Uint8Array(buf.subarray(0, n));
        if (errno() !== EINTR) fail(`recv netlink fd ${fd}`);
      }
    },
    netlinkClose(fd) {
      fs.closeSync(fd);
    },
    createNetns(target) {
      const own = fs.openSync("/proc/thread-self/ns/net", "r");
      try {
        if (lib().unshare(CLONE_NEWNET) !== 0) fail(`unshare CLONE_NEWNET for ${target}`);
        try {
          const rc = lib().mount(cstr("/proc/thread-self/ns/net"), cstr(target), null, MS.BIND, null);
          if (rc !== 0) fail(`mount /proc/thread-self/ns/net on ${target} (MS_BIND)`);
        } finally {
          returnToNetns(own);
        }
      } finally {
        fs.closeSync(own);
      }
    },
    // end network
    // branch cmds: openat2 through syscall(2); struct open_how {u64 flags, mode, resolve}.
    openat2(dirfd, path, flags, mode, resolve) {
      const how = Buffer.alloc(24);
      how.writeBigUInt64LE(BigInt(flags), 0);
      how.writeBigUInt64LE(BigInt(mode), 8);
      how.writeBigUInt64LE(BigInt(resolve), 16);
      const fd = Number(lib().syscall(SYS_OPENAT2, dirfd, cstr(path), how, 24));
      if (fd < 0) fail(`openat2 ${path} (dirfd ${dirfd}, flags 0x${flags.toString(16)}, resolve 0x${resolve.toString(16)})`);
      return fd;
    },
  };
}

// network
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const CLONE_NEWNET = 0x40000000;
const EINTR = 4;
/** struct sockaddr_nl of the kernel (pid 0, no groups). */
const SOCKADDR_NL_KERNEL = Buffer.from([AF_NETLINK, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

/** A thread left in another netns would run the rest of the engine there: never go on silently. */
function returnToNetns(own: number): void {
  if (lib().setns(own, CLONE_NEWNET) !== 0) {
    const n = errno();
    process.stderr.write(`tinydock: setns back to the engine's own network namespace: ${errnoName(n)}\n`);
    process.exit(125);
  }
}

/** Runs fn with the calling thread in the network namespace of `file`, and back. */
function inNetns<T>(file: string, fn: () => T): T {
  const own = fs.openSync("/proc/thread-self/ns/net", "r");
  try {
    let target: number;
    try {
      target = fs.openSync(file, "r");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "EIO";
      throw new SyscallError(`open network namespace ${file}`, 0, code);
    }
    try {
      if (lib().setns(target, CLONE_NEWNET) !== 0) fail(`setns ${file} (CLONE_NEWNET)`);
      try {
        return fn();
      } finally {
        returnToNetns(own);
      }
    } finally {
      fs.closeSync(target);
    }
  } finally {
    fs.closeSync(own);
  }
}
// end network

const ESRCH = 3;

function spawnContainer(plan: Uint8Array): ContainerProcess {
  const out = new Int32Array(3);
  const rc = initLib().td_spawn(plan, plan.length, out);
  if (rc > 0) throw new InvalidArgumentError(`Cannot start the container: the encoded run plan is malformed at byte ${rc - 1}`);
  if (rc < 0) throw new SyscallError("clone the container init", -rc, errnoName(-rc));
  const pid = out[0]!;
  const pidfd = out[1]!;
  const events = out[2]!;
  let pidfdOpen = true;
  let onStarted!: (f: InitFailure | null) => void;
  let onStartFailed!: (err: Error) => void;
  let onExit!: (e: ProcessExit) => void;
  let onExitFailed!: (err: Error) => void;
  const started = new Promise<InitFailure | null>((res, rej) => {
    onStarted = res;
    onStartFailed = rej;
  });
  const exited = new Promise<ProcessExit>((res, rej) => {
    onExit = res;
    onExitFailed = rej;
  });
  // Only a broken events pipe (a bug) rejects; keep that from becoming an unhandled rejection.
  started.catch(() => {});
  exited.catch(() => {});
  readEvents(events, onStarted, (e) => {
    pidfdOpen = false;
    fs.closeSync(pidfd);
    onExit(e);
  }).catch((err: unknown) => {
    const e = new InternalError(`Cannot follow container ${pid}: ${(err as Error).message}`, { cause: err });
    onStartFailed(e);
    onExitFailed(e);
  });
  return {
    pid,
    started,
    exited,
    kill(signal) {
      if (!pidfdOpen) return;
      const r = initLib().td_kill(pidfd, signal);
      if (r < 0 && -r !== ESRCH) throw new SyscallError(`kill ${pid} (signal ${signal})`, -r, errnoName(-r));
    },
  };
}

/**
 * The events init.c's waiter thread writes (all i32, little-endian): [1, stage, errno, index, len,
 * detail…] or [2] once the command has exec'd, then [3, exitCode, signal]. Bun reads the pipe from
 * its event loop (epoll), so nothing blocks while the container runs.
 */
async function readEvents(fd: number, started: (f: InitFailure | null) => void, exited: (e: ProcessExit) => void): Promise<void> {
  let buf = new Uint8Array(0);
  let done = false;
  try {
    for await (const chunk of Bun.file(fd).stream()) {
      const next = new Uint8Array(buf.length + chunk.length);
      next.set(buf);
      next.set(chunk, buf.length);
      buf = next;
      for (;;) {
        const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        if (buf.length < 4) break;
        const type = view.getInt32(0, true);
        let used = 0;
        if (type === 2) {
          started(null);
          used = 4;
        } else if (type === 1) {
          if (buf.length < 20) break;
          const len = view.getInt32(16, true);
          if (len < 0 || len > 1024) throw new Error(`bad failure record length ${len}`);
          if (buf.length < 20 + len) break;
          const err = view.getInt32(8, true);
          started({
            stage: view.getInt32(4, true),
            errno: err,
            code: errnoName(err),
            index: view.getInt32(12, true),
            detail: new TextDecoder().decode(buf.subarray(20, 20 + len)),
          });
          used = 20 + len;
        } else if (type === 3) {
          if (buf.length < 12) break;
          const signal = view.getInt32(8, true);
          exited(signal ? { exitCode: view.getInt32(4, true), signal } : { exitCode: view.getInt32(4, true) });
          done = true;
          used = 12;
        } else {
          throw new Error(`unknown event ${type}`);
        }
        buf = buf.subarray(used);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  if (!done) throw new Error("the events pipe closed before the exit status");
}
