// The real Sys: thin wrappers over libc that turn -1 into a SyscallError naming the call.
import fs from "node:fs";
import os from "node:os";
import { InternalError, InvalidArgumentError, SyscallError } from "../errors.ts";
import { cstr, dupFdAbove2, errno, errnoName, initLib, lib, ptrOf } from "./ffi.ts";
import { LOCK_NB, MS, mountFlagNames, RESOLVE, type ContainerProcess, type EarlyContainer, type InitFailure, type ProcessExit, type Sys } from "./sys.ts";

const ENODATA = 61;
/** The same number on x86_64 and aarch64 (the generic syscall table). */
const SYS_OPENAT2 = 437;
const TIOCSPTLCK = 0x40045431;
const TIOCGPTN = 0x80045430;
const TIOCGPTPEER = 0x5441;
const O_CLOEXEC = 0o2000000;
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
    openPty(root) {
      const where = root === undefined ? "/dev/ptmx" : "the container's /dev/pts/ptmx";
      const master =
        root === undefined
          ? fs.openSync("/dev/ptmx", fs.constants.O_RDWR | fs.constants.O_NOCTTY)
          : openat2(root, "dev/pts/ptmx", fs.constants.O_RDWR | fs.constants.O_NOCTTY | O_CLOEXEC, 0, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS);
      try {
        const arg = Buffer.alloc(4);
        // TIOCGPTN answers only on a pty master: anything else the path led to is refused here.
        if (lib().ioctl(master, TIOCGPTN, arg) !== 0) fail(`ioctl TIOCGPTN on ${where}`);
        if (lib().ioctl(master, TIOCSPTLCK, Buffer.alloc(4)) !== 0) fail(`ioctl TIOCSPTLCK on ${where}`);
        // The peer through the master itself (TIOCGPTPEER): no path lookup in either devpts.
        const slave = lib().ioctl(master, TIOCGPTPEER, (fs.constants.O_RDWR | fs.constants.O_NOCTTY | O_CLOEXEC) as never);
        if (slave < 0) fail(`ioctl TIOCGPTPEER on ${where}`);
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
    startEarly,
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
    openat2,
    attachDeviceFilter,
    writeInNetns(netnsPath, file, value) {
      inNetns(netnsPath, () => fs.writeFileSync(file, value));
    },
  };
}

/** bpf(2): 321 on x86_64, 280 on aarch64 (the generic table). */
const SYS_BPF = process.arch === "arm64" ? 280 : 321;
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;
/** Zeroed beyond the fields set: a kernel takes any size up to its union bpf_attr's, tail zero. */
const BPF_ATTR_SIZE = 128;

function bpf(cmd: number, attr: Buffer): number {
  return Number(lib().syscall(SYS_BPF, cmd, attr, BPF_ATTR_SIZE as unknown as null, 0));
}

function attachDeviceFilter(cgroupDir: string, program: Uint8Array): void {
  const insns = Buffer.from(program);
  const count = insns.length / 8;
  const license = cstr("Apache-2.0")!;
  const load = (logBuf: Buffer | null): number => {
    const attr = Buffer.alloc(BPF_ATTR_SIZE);
    attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0); // prog_type
    attr.writeUInt32LE(count, 4); // insn_cnt
    attr.writeBigUInt64LE(BigInt(ptrOf(insns)), 8); // insns
    attr.writeBigUInt64LE(BigInt(ptrOf(license)), 16); // license
    if (logBuf) {
      attr.writeUInt32LE(1, 24); // log_level
      attr.writeUInt32LE(logBuf.length, 28); // log_size
      attr.writeBigUInt64LE(BigInt(ptrOf(logBuf)), 32); // log_buf
    }
    attr.write("tinydock_dev", 48, "latin1"); // prog_name (char[16])
    attr.writeUInt32LE(BPF_CGROUP_DEVICE, 68); // expected_attach_type
    return bpf(BPF_PROG_LOAD, attr);
  };
  const what = `BPF_PROG_TYPE_CGROUP_DEVICE, ${count} instructions`;
  let prog = load(null);
  if (prog < 0) {
    const e = errno();
    // The verifier says why in its log: load again, asking for it, so that the error can quote it.
    const log = Buffer.alloc(16384);
    if (e === 13 /* EACCES */ || e === 22 /* EINVAL */) load(log);
    const text = log.subarray(0, Math.max(0, log.indexOf(0))).toString("utf8").trim().split("\n").slice(-2).join("; ");
    throw new SyscallError(`bpf BPF_PROG_LOAD (${what})${text ? ` [verifier: ${text}]` : ""}`, e, errnoName(e));
  }
  try {
    let dir: number;
    try {
      dir = fs.openSync(cgroupDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (err) {
      const code = (err as { code?: string }).code ?? "EIO";
      throw new SyscallError(`open cgroup ${cgroupDir} to attach its device program`, 0, code);
    }
    try {
      const attr = Buffer.alloc(BPF_ATTR_SIZE);
      attr.writeUInt32LE(dir, 0); // target_fd
      attr.writeUInt32LE(prog, 4); // attach_bpf_fd
      attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8); // attach_type
      attr.writeUInt32LE(BPF_F_ALLOW_MULTI, 12); // attach_flags
      if (bpf(BPF_PROG_ATTACH, attr) < 0) fail(`bpf BPF_PROG_ATTACH of the device program to ${cgroupDir} (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)`);
    } finally {
      fs.closeSync(dir);
    }
  } finally {
    fs.closeSync(prog); // the attachment holds the program
  }
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
function openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(BigInt(mode), 8);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  const fd = Number(lib().syscall(SYS_OPENAT2, dirfd, cstr(path), how, 24));
  if (fd < 0) fail(`openat2 ${path} (dirfd ${dirfd}, flags 0x${flags.toString(16)}, resolve 0x${resolve.toString(16)})`);
  return fd;
}

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
  const started = deferred<InitFailure | null>();
  const exited = deferred<ProcessExit>();
  readEvents(Bun.file(events).stream(), {
    started: (f) => started.resolve(f),
    exited: (e) => {
      pidfdOpen = false;
      fs.closeSync(pidfd);
      exited.resolve(e);
    },
  }, false).finally(() => fs.closeSync(events)).catch((err: unknown) => {
    const e = new InternalError(`Cannot follow container ${pid}: ${(err as Error).message}`, { cause: err });
    started.reject(e);
    exited.reject(e);
  });
  return {
    pid,
    started: started.promise,
    exited: exited.promise,
    kill(signal) {
      if (!pidfdOpen) return;
      const r = initLib().td_kill(pidfd, signal);
      if (r < 0 && -r !== ESRCH) throw new SyscallError(`kill ${pid} (signal ${signal})`, -r, errnoName(-r));
    },
  };
}

interface EventHandlers {
  started(f: InitFailure | null, pid?: number): void;
  exited(e: ProcessExit): void;
  /** [4, offset]: the early init's parser refused the plan. */
  malformed?(offset: number): void;
}

/**
 * The events of init.c's waiter thread, or of the early init (monitor.c's launch mode), all i32
 * little-endian: [1, stage, errno, index, len, detail…] or [2] once the command has exec'd ([2, pid]
 * from the early init), then [3, exitCode, signal]; the early init also has [4, offset]. Bun reads
 * the pipe from its event loop (epoll), so nothing blocks while the container runs.
 */
async function readEvents(stream: ReadableStream<Uint8Array>, on: EventHandlers, startedHasPid: boolean): Promise<void> {
  let buf = new Uint8Array(0);
  let done = false;
  for await (const chunk of stream) {
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
        if (buf.length < (startedHasPid ? 8 : 4)) break;
        if (startedHasPid) on.started(null, view.getInt32(4, true));
        else on.started(null);
        used = startedHasPid ? 8 : 4;
      } else if (type === 1) {
        if (buf.length < 20) break;
        const len = view.getInt32(16, true);
        if (len < 0 || len > 1024) throw new Error(`bad failure record length ${len}`);
        if (buf.length < 20 + len) break;
        const err = view.getInt32(8, true);
        on.started({
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
        on.exited(signal ? { exitCode: view.getInt32(4, true), signal } : { exitCode: view.getInt32(4, true) });
        done = true;
        used = 12;
      } else if (type === 4 && on.malformed) {
        if (buf.length < 8) break;
        on.malformed(view.getInt32(4, true));
        used = 8;
      } else {
        throw new Error(`unknown event ${type}`);
      }
      buf = buf.subarray(used);
    }
  }
  if (!done) throw new Error("the events pipe closed before the exit status");
}

/** A promise with its settle functions (Promise.withResolvers, which bun-types may not declare). */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // only a broken events pipe (a bug) rejects: never unhandled
  return { promise, resolve, reject };
}

const SYS_PIDFD_OPEN = 434;
const MSG = { plan: 2, signal: 3, remove: 4 } as const;

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
}

function message(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

/** Blocks until the process of pidfd has exited, at most timeoutMs: whether it did. */
function waitGone(pidfd: number, timeoutMs: number): boolean {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(pidfd, 0);
  pfd.writeInt16LE(1 /* POLLIN */, 4);
  const until = performance.now() + timeoutMs;
  for (;;) {
    const left = Math.max(0, Math.ceil(until - performance.now()));
    const r = lib().poll(pfd, 1, left);
    if (r > 0) return true;
    if (r === 0 || errno() !== 4 /* EINTR */) return false;
  }
}

function startEarly(executable: string, o: { cloneFlags: number; fds: number[]; discardAfterExit?: boolean }): EarlyContainer {
  const ends = new Int32Array(2);
  if (lib().pipe2(ends, 0o2000000 /* O_CLOEXEC */) !== 0) fail("pipe2 for the container init");
  const [readEnd, writeEnd] = [ends[0]!, ends[1]!];
  let proc: ReturnType<typeof Bun.spawn>;
  // Bun.spawn passes a 0 among the extra stdio as something else (an epoll fd): copies above 2.
  const copies: number[] = [];
  try {
    const slots = o.fds.map((fd) => {
      if (fd < 0) return "ignore" as const;
      if (fd > 2) return fd;
      copies.push(dupFdAbove2(fd));
      return copies[copies.length - 1]!;
    });
    proc = Bun.spawn([executable, "launch", String(o.cloneFlags >>> 0), String(process.pid)], {
      argv0: "tinydock-monitor",
      stdio: [readEnd, "pipe", "ignore", ...slots],
      env: {},
    });
  } catch (err) {
    fs.closeSync(writeEnd);
    throw err;
  } finally {
    fs.closeSync(readEnd);
    for (const fd of copies) fs.closeSync(fd);
  }
  // Open while it surely runs (it waits for our messages; Bun reaps only from its event loop): abort
  // waits on it for the end, which comes only after the container process was reaped.
  const pidfd = Number(lib().syscall(SYS_PIDFD_OPEN, proc.pid, null, null, 0));
  let control = writeEnd;
  let pidfdOpen = pidfd >= 0;
  let pid = 0;
  let startedCalled = false;
  let running = false;
  const started = deferred<InitFailure | null>();
  const exited = deferred<ProcessExit>();
  const closeControl = () => {
    if (control < 0) return;
    fs.closeSync(control);
    control = -1;
  };
  const closePidfd = () => {
    if (!pidfdOpen) return;
    pidfdOpen = false;
    fs.closeSync(pidfd);
  };
  const send = (type: number, payload: Uint8Array): boolean => {
    if (control < 0) return false;
    try {
      writeAll(control, message(type, payload));
      return true;
    } catch {
      return false; // it has ended (EPIPE): the events say how
    }
  };
  readEvents(proc.stdout as ReadableStream<Uint8Array>, {
    started(f, p) {
      if (p !== undefined) pid = p;
      running = f === null;
      started.resolve(f);
    },
    exited(e) {
      running = false;
      closePidfd();
      if (!o.discardAfterExit) closeControl(); // else open for discard() (or abort())
      started.reject(new InternalError("The container init ended before the command started")); // a no-op once settled
      exited.resolve(e);
    },
    malformed(offset) {
      started.reject(new InvalidArgumentError(`Cannot start the container: the encoded run plan is malformed at byte ${offset}`));
    },
  }, true).catch(async (err: unknown) => {
    // It ended without its exit report: killed (the container died with it, PR_SET_PDEATHSIG), or a bug.
    const code = await proc.exited;
    closeControl();
    closePidfd();
    const signal = proc.signalCode;
    const e = new InternalError(`The container init ended (${signal ?? `exit ${code}`}) without reporting: ${(err as Error).message}`);
    started.reject(e); // a no-op once it had started
    const n = typeof signal === "string" ? os.constants.signals[signal] : (signal ?? undefined);
    if (n !== undefined) exited.resolve({ exitCode: 128 + n, signal: n });
    else exited.reject(e);
  });
  const container: ContainerProcess = {
    get pid() {
      return pid;
    },
    started: started.promise,
    exited: exited.promise,
    kill(signal) {
      if (!running) return;
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, signal, true);
      send(MSG.signal, b);
    },
  };
  return {
    fdMap: o.fds.map((fd, i) => (fd >= 0 ? 3 + i : -1)),
    start(plan) {
      if (startedCalled) throw new InternalError("the container init was already given its plan");
      startedCalled = true;
      send(MSG.plan, plan);
      return container;
    },
    ended: proc.exited.then(
      () => {},
      () => {},
    ),
    discard(dir) {
      const sent = send(MSG.remove, new TextEncoder().encode(dir));
      closeControl(); // EOF: it exits once done
      proc.unref(); // this process exits without waiting for the removal
      return sent;
    },
    abort() {
      if (running) container.kill(9);
      closeControl(); // before the plan: it kills the waiting process, reaps it, and exits
      if (pidfdOpen && !waitGone(pidfd, 5000)) throw new InternalError(`The container init (pid ${proc.pid}) did not end within 5 s`);
      closePidfd();
    },
  };
}
