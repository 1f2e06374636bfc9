// The real Sys: thin wrappers over libc that turn -1 into a SyscallError naming the call.
import fs from "node:fs";
import { InternalError, InvalidArgumentError, SyscallError } from "../errors.ts";
import { deferred } from "./deferred.ts";
import { startEarly } from "./early.ts";
import { cstr, errno, errnoName, initLib, lib, ptrOf } from "./ffi.ts";
import { readEvents } from "./protocol.ts";
import { TERMIOS_SIZE } from "./termios.ts";
import { LOCK_NB, MS, mountFlagNames, RESOLVE, type ContainerProcess, type InitFailure, type ProcessExit, type Sys } from "./sys.ts";

const ENODATA = 61;
/** The same number on x86_64 and aarch64 (the generic syscall table). */
const SYS_OPENAT2 = 437;
const SYS_PIDFD_SEND_SIGNAL = 424;
const SYS_PIDFD_OPEN = 434;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;
const TIOCSWINSZ = 0x5414;
const TCGETS = 0x5401;
const TCSETS = 0x5402;
const EWOULDBLOCK = 11;
const ERANGE = 34;
const ENXIO = 6;

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
    consoleSocket() {
      const sv = new Int32Array(2);
      if (lib().socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) !== 0) fail("socketpair AF_UNIX");
      return [sv[0]!, sv[1]!];
    },
    receiveFd(sock) {
      // struct msghdr (56 bytes) → one iovec of one byte, a control buffer of CMSG_SPACE(4) = 24.
      const byte = new Uint8Array(1);
      const iov = new BigUint64Array([BigInt(ptrOf(byte)), 1n]);
      const control = new Uint8Array(24);
      const msg = new BigUint64Array(7);
      msg[2] = BigInt(ptrOf(new Uint8Array(iov.buffer)));
      msg[3] = 1n;
      msg[4] = BigInt(ptrOf(control));
      msg[5] = 24n;
      const n = Number(lib().recvmsg(sock, msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT));
      if (n < 0) {
        if (errno() === EWOULDBLOCK) return -1;
        fail(`recvmsg on the console socket fd ${sock}`);
      }
      const v = new DataView(control.buffer);
      if (n === 0 || msg[5]! < 20n || v.getInt32(8, true) !== SOL_SOCKET || v.getInt32(12, true) !== SCM_RIGHTS) return -1;
      return v.getInt32(16, true);
    },
    setWinsize(fd, rows, cols) {
      const ws = Buffer.alloc(8);
      ws.writeUInt16LE(rows, 0);
      ws.writeUInt16LE(cols, 2);
      if (lib().ioctl(fd, TIOCSWINSZ, ws) !== 0) fail(`ioctl TIOCSWINSZ on fd ${fd}`);
    },
    getTermios(fd) {
      const t = new Uint8Array(TERMIOS_SIZE);
      if (lib().ioctl(fd, TCGETS, t) !== 0) fail(`ioctl TCGETS on fd ${fd}`);
      return t;
    },
    setTermios(fd, t) {
      if (lib().ioctl(fd, TCSETS, Buffer.from(t)) !== 0) fail(`ioctl TCSETS on fd ${fd}`);
    },
    syncfs(fd) {
      if (lib().syncfs(fd) !== 0) fail(`syncfs fd ${fd}`);
    },
    seekExtent(fd, offset, whence) {
      const r = Number(lib().lseek(fd, offset, whence));
      if (r >= 0) return r;
      if (errno() === ENXIO) return -1;
      return fail(`lseek fd ${fd} ${whence === 3 ? "SEEK_DATA" : "SEEK_HOLE"}`);
    },
    spawnContainer,
    startEarly,
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
    // openat2 through syscall(2); struct open_how {u64 flags, mode, resolve}.
    openat2,
    attachDeviceFilter,
    writeInNetns(netnsPath, file, value) {
      inNetns(netnsPath, () => fs.writeFileSync(file, value));
    },
    pidfdOpen(pid) {
      const fd = Number(lib().syscall(SYS_PIDFD_OPEN, pid, null, null, 0));
      if (fd < 0) fail(`pidfd_open ${pid}`);
      return fd;
    },
    pidfdSendSignal(pidfd, signal) {
      if (Number(lib().syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, signal as unknown as null, null, 0)) !== 0) fail(`pidfd_send_signal ${signal}`);
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
