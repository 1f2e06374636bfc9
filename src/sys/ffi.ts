// The only module that touches bun:ffi. libc is opened lazily on first use so that commands which
// never make a raw syscall (images, --version) pay nothing for it; init.c is compiled by TinyCC only
// for Sys.spawnContainer, which the CLI no longer uses (tests do): containers are started by the
// static init (the monitor binary), from a sealed memfd or a read-only copy.
import fs from "node:fs";
import { cc, CString, dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import { InternalError } from "../errors.ts";
// Embedded in the compiled binary: the host needs neither the file nor a compiler nor headers.

const symbols = {
  mount: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  umount2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  mknod: { args: [FFIType.ptr, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
  lsetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  lgetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  llistxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  syncfs: { args: [FFIType.i32], returns: FFIType.i32 },
  lseek: { args: [FFIType.i32, FFIType.i64, FFIType.i32], returns: FFIType.i64 },
  memfd_create: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
  getenv: { args: [FFIType.ptr], returns: FFIType.ptr },
  setenv: { args: [FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  unsetenv: { args: [FFIType.ptr], returns: FFIType.i32 },
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
  recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
  // -t: the console socket a container's init sends its terminal's master through
  socketpair: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  recvmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64 },
  setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  unshare: { args: [FFIType.i32], returns: FFIType.i32 },
  // monitor: sealing the memfd the monitor runs from
  fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  // the early init of a foreground run (Sys.startEarly): its control pipe, and waiting for its end
  pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  // openat2 (no libc wrapper in glibc 2.36) through syscall(2), for `cp`.
  syscall: { args: [FFIType.i64, FFIType.i64, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
} as const;

type Libc = ReturnType<typeof dlopen<typeof symbols>>["symbols"];
let libc: Libc | undefined;

export function lib(): Libc {
  if (!libc) libc = dlopen("libc.so.6", symbols).symbols;
  return libc;
}

export function errno(): number {
  return read.i32(lib().__errno_location() as Pointer, 0);
}

/** A NUL-terminated C string, or null. */
export function cstr(s: string | null): Buffer | null {
  return s === null ? null : Buffer.from(`${s}\0`, "utf8");
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG", 8: "ENOEXEC", 9: "EBADF",
  10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST",
  18: "EXDEV", 19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE",
  25: "ENOTTY", 26: "ETXTBSY", 28: "ENOSPC", 30: "EROFS", 32: "EPIPE", 34: "ERANGE", 36: "ENAMETOOLONG",
  38: "ENOSYS", 39: "ENOTEMPTY", 40: "ELOOP", 61: "ENODATA", 95: "EOPNOTSUPP", 116: "ESTALE",
  97: "EAFNOSUPPORT", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 101: "ENETUNREACH", 105: "ENOBUFS",
};

export function errnoName(n: number): string {
  return ERRNO_NAMES[n] ?? `errno ${n}`;
}

const initSymbols = {
  td_spawn: { args: [FFIType.ptr, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
  td_kill: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
} as const;

type Init = ReturnType<typeof cc<typeof initSymbols>>["symbols"];
let init: Init | undefined;
/** How long TinyCC took for init.c, in ms (0 until the first launch). */
export let initCompileMs = 0;

/** The libc functions init.c calls, by the -D name it expects their address under. */
const INIT_LIBC = {
  TD_SYSCALL: "syscall",
  TD_ERRNO_LOCATION: "__errno_location",
  TD_MALLOC: "malloc",
  TD_FREE: "free",
  TD_PTHREAD_CREATE: "pthread_create",
  TD_PTHREAD_DETACH: "pthread_detach",
};

/**
 * init.c compiled on first use: ~6-7 ms, ~4.5 of them Bun's own cc start-up (an empty file costs that);
 * launch.test.ts prints the figure.
 *
 * Two things make this work on a host without compiler or headers: the source is embedded and
 * handed to TinyCC through a memfd (cc wants a path; /proc/self/fd/N is one only this process can
 * open, so nobody can swap the source between the write and the compile, and nothing is left on
 * disk); and libc is not linked by TinyCC (-lc needs libc6-dev's libc.so linker script and fails
 * with "library 'c' not found" without it): -nostdlib, and the few functions init.c calls are
 * passed as addresses that dlsym finds in this process. Bun's default flags add -g, which we skip.
 */
export function initLib(): Init {
  if (init) return init;
  const dl = dlopen("libdl.so.2", { dlsym: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.ptr } }).symbols;
  const define: Record<string, string> = {};
  for (const [macro, name] of Object.entries(INIT_LIBC)) {
    const addr = dl.dlsym(null /* RTLD_DEFAULT */, cstr(name));
    if (!addr) throw new InternalError(`Cannot compile the container init: libc has no ${name}`);
    define[macro] = `0x${addr.toString(16)}`;
  }
  const fd = lib().memfd_create(cstr("tinydock-init.c"), 1 /* MFD_CLOEXEC */);
  if (fd < 0) throw new InternalError(`Cannot compile the container init: memfd_create: ${errnoName(errno())}`);
  try {
    // Loaded here, not at import: its ~50 KB of C text is only for TinyCC (tests), never on a run's path.
    const { initSource } = require("./init-source.ts") as typeof import("./init-source.ts");
    fs.writeSync(fd, initSource());
    const t0 = performance.now();
    init = withTmpfsTmpdir(() => cc({ source: `/proc/self/fd/${fd}`, define, flags: ["-std=c11", "-nostdlib"], symbols: initSymbols }).symbols);
    initCompileMs = performance.now() - t0;
  } catch (err) {
    throw new InternalError(`Cannot compile the container init: ${(err as Error).message}`, { cause: err });
  } finally {
    fs.closeSync(fd);
  }
  return init;
}

const TMPFS_MAGIC = 0x01021994;
const isTmpfs = (dir: string): boolean => {
  try {
    return fs.statfsSync(dir).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
};

/**
 * Runs fn (the first cc) with TMPDIR on tmpfs. Before its first compile Bun's cc rewrites a dozen
 * headers (init.c includes none) into $TMPDIR/bun-cc-<uid>, with its usual owner and no-symlink
 * checks; that is most of its start-up where /tmp is on disk (first cc of an empty file: ~4.3 ms,
 * ~2 ms with the headers on tmpfs). It reads TMPDIR from the C environment (process.env is not
 * that), so the variable is set there for the call and put back after it. A TMPDIR already on
 * tmpfs, or no tmpfs at /dev/shm, leaves everything as it is.
 */
function withTmpfsTmpdir<T>(fn: () => T): T {
  const c = lib();
  const name = cstr("TMPDIR");
  const ptr = c.getenv(name);
  const old = ptr ? new CString(ptr).toString() : null;
  if (isTmpfs(old ?? "/tmp") || !isTmpfs("/dev/shm") || c.setenv(name, cstr("/dev/shm"), 1) !== 0) return fn();
  try {
    return fn();
  } finally {
    if (old === null) c.unsetenv(name);
    else c.setenv(name, cstr(old), 1);
  }
}

/** init.c's parser alone: 0, or 1 + the offset where the encoded plan stops making sense. */
export function checkEncodedPlan(plan: Uint8Array): number {
  return initLib().td_spawn(plan, plan.length, null);
}

// The monitor (src/sys/monitor.c): a static executable run from a memfd.

const MFD_CLOEXEC = 1;
const MFD_ALLOW_SEALING = 2;
const MFD_EXEC = 0x10;
const F_ADD_SEALS = 1033;
const F_SEAL_ALL = 0x1 | 0x2 | 0x4 | 0x8; // SEAL, SHRINK, GROW, WRITE

const memfdExecutables = new Map<string, string>();

/**
 * `bytes` in a sealed memfd of this process, as a path execve takes: /proc/<pid>/fd/<n>. Nothing is
 * written to disk, nobody can change the bytes once sealed, and the fd is close-on-exec, so no child
 * keeps it; a child execs it through our /proc entry. One memfd per name and process.
 */
export function memfdExecutable(name: string, bytes: Uint8Array): string {
  const known = memfdExecutables.get(name);
  if (known) return known;
  // MFD_EXEC (Linux 6.3+) says so explicitly, as vm.memfd_noexec=1 requires; older kernels refuse the flag.
  let fd = lib().memfd_create(cstr(name), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno() === 22 /* EINVAL */) fd = lib().memfd_create(cstr(name), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0 && errno() === 13 /* EACCES: vm.memfd_noexec=2 */) {
    const p = `/proc/${process.pid}/fd/${readonlyExecutable(name, bytes)}`;
    memfdExecutables.set(name, p);
    return p;
  }
  if (fd < 0) throw new InternalError(`Cannot load ${name}: memfd_create: ${errnoName(errno())}`);
  try {
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fchmodSync(fd, 0o500);
    if (lib().fcntl(fd, F_ADD_SEALS, F_SEAL_ALL) !== 0) throw new InternalError(`Cannot load ${name}: seal the memfd: ${errnoName(errno())}`);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  const p = `/proc/${process.pid}/fd/${fd}`;
  memfdExecutables.set(name, p);
  return p;
}

/** A close-on-exec duplicate of fd, numbered 3 or above (Bun.spawn takes no fd 0 among extra stdio). */
export function dupFdAbove2(fd: number): number {
  const r = lib().fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 3);
  if (r < 0) throw new InternalError(`Cannot duplicate fd ${fd}: ${errnoName(errno())}`);
  return r;
}

/** The address of a buffer's bytes, for a struct field that points at them (bpf's union bpf_attr). */
export function ptrOf(bytes: Uint8Array): number {
  return ptr(bytes);
}

// Executables where the kernel will not execute a memfd (vm.memfd_noexec=2).

// syscall(2) with six arguments, each a buffer (a pointer) or a plain number, for the mount API.
const syscall6Symbols = {
  syscall: { args: [FFIType.i64, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i64 },
} as const;
let syscall6: ReturnType<typeof dlopen<typeof syscall6Symbols>>["symbols"]["syscall"] | undefined;

/** The result, or -errno. */
function sys6(nr: number, ...a: (Buffer | number | null)[]): number {
  syscall6 ??= dlopen("libc.so.6", syscall6Symbols).symbols.syscall;
  const arg = (i: number) => (a[i] ?? 0) as Buffer | Pointer; // a number goes as it is
  const r = Number(syscall6(nr, arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)));
  return r === -1 ? -errno() : r;
}

const SYS = { openat: 257, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, mount_setattr: 442 };
const FSCONFIG = { setFlag: 0, setString: 1, create: 6, reconfigure: 7 };
const MOUNT_ATTR = { rdonly: 1, nosuid: 2, nodev: 4 };

/**
 * `bytes` as a file of a tmpfs made for it and mounted nowhere (fsopen/fsmount: no path reaches it
 * but this process's fd), then made read-only, superblock and mount both: the fd returned (O_RDONLY,
 * close-on-exec) can be executed through /proc/<pid>/fd/<n>, and nobody, through /proc/<pid>/exe of
 * a process running it included, can open it for writing again (EROFS). The fallback of runc's
 * exeseal (a read-only overlayfs, or a copy) for where memfds are not executable; a copy, not the
 * tinydock binary, so the host's binary never becomes a container's /proc/1/exe.
 */
function readonlyExecutable(name: string, bytes: Uint8Array): number {
  const fail = (op: string, r: number): never => {
    throw new InternalError(`Cannot load ${name}: ${op} (a read-only tmpfs copy, memfds being not executable here): ${errnoName(-r)}`);
  };
  const fds: number[] = [];
  const keep = (op: string, r: number): number => {
    if (r < 0) fail(op, r);
    fds.push(r);
    return r;
  };
  try {
    const ctx = keep("fsopen tmpfs", sys6(SYS.fsopen, cstr("tmpfs"), 1 /* FSOPEN_CLOEXEC */));
    for (const [k, v] of [["mode", "0500"], ["size", String(bytes.length + 65536)], ["nr_inodes", "4"]] as const) {
      const r = sys6(SYS.fsconfig, ctx, FSCONFIG.setString, cstr(k), cstr(v), 0);
      if (r < 0) fail(`fsconfig ${k}=${v}`, r);
    }
    let r = sys6(SYS.fsconfig, ctx, FSCONFIG.create, null, null, 0);
    if (r < 0) fail("fsconfig create", r);
    const mnt = keep("fsmount", sys6(SYS.fsmount, ctx, 1 /* FSMOUNT_CLOEXEC */, MOUNT_ATTR.nosuid | MOUNT_ATTR.nodev));
    const O_CLOEXEC = 0o2000000;
    const w = sys6(SYS.openat, mnt, cstr(name), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_CLOEXEC, 0o500);
    if (w < 0) fail(`create ${name}`, w);
    try {
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(w, bytes, off, bytes.length - off);
    } finally {
      fs.closeSync(w);
    }
    const pick = keep("fspick", sys6(SYS.fspick, mnt, cstr(""), 1 /* FSPICK_CLOEXEC */ | 8 /* FSPICK_EMPTY_PATH */));
    r = sys6(SYS.fsconfig, pick, FSCONFIG.setFlag, cstr("ro"), null, 0);
    if (r >= 0) r = sys6(SYS.fsconfig, pick, FSCONFIG.reconfigure, null, null, 0);
    if (r < 0) fail("remount the tmpfs read-only", r);
    const attr = Buffer.alloc(32); // struct mount_attr: attr_set, attr_clr, propagation, userns_fd
    attr.writeBigUInt64LE(BigInt(MOUNT_ATTR.rdonly), 0);
    r = sys6(SYS.mount_setattr, mnt, cstr(""), 0x1000 /* AT_EMPTY_PATH */, attr, 32);
    if (r < 0) fail("mount_setattr MOUNT_ATTR_RDONLY", r);
    // What a container would try through /proc/<pid>/exe: refused, or this copy is not used.
    const probe = sys6(SYS.openat, mnt, cstr(name), fs.constants.O_RDWR | O_CLOEXEC, 0);
    if (probe >= 0) {
      fs.closeSync(probe);
      fail("check that it cannot be opened for writing", -1);
    }
    const exe = sys6(SYS.openat, mnt, cstr(name), fs.constants.O_RDONLY | O_CLOEXEC, 0);
    if (exe < 0) fail(`open ${name}`, exe);
    return exe;
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

/** Whether fd is a terminal (TCGETS succeeds): isatty(3) without node:tty, whose loading (node:net
 * with it) cost a run's start-up ~10 ms of CPU. */
export function isTerminal(fd: number): boolean {
  // A pipe, a file or /dev/null answers from fstat alone: libc is not opened for them (its dlopen
  // costs a run's start-up 1-4 ms). Terminals are character devices of the tty majors: 4 and 5
  // (virtual consoles, /dev/tty, ptmx) and 136-143 (devpts).
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch {
    return false;
  }
  if (!st.isCharacterDevice()) return false;
  const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
  if (major !== 4 && major !== 5 && (major < 136 || major > 143)) return false;
  return lib().ioctl(fd, 0x5401 /* TCGETS */, Buffer.alloc(64)) === 0;
}

/** A pipe, both ends close-on-exec: [read end, write end]. */
export function cloexecPipe(): [number, number] {
  const ends = new Int32Array(2);
  if (lib().pipe2(ends, 0o2000000 /* O_CLOEXEC */) !== 0) throw new InternalError(`Cannot create a pipe: ${errnoName(errno())}`);
  return [ends[0]!, ends[1]!];
}
