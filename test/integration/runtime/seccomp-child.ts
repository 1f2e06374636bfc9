// Run by test/integration/runtime/seccomp.test.ts as `bun seccomp-child.ts <mode> [program.b64]`.
// Installs the given seccomp program on the whole process (seccomp(2) with
// SECCOMP_FILTER_FLAG_TSYNC, since Bun runs several threads), makes the calls in
// seccomp-probes.ts through libc's syscall(3), and prints one JSON object: label → result
// ("ok:<return value>" or the errno's name). Modes:
//   none     make the calls without a filter (what the kernel alone answers)
//   filter   install, then make the calls
//   x32      install, then make an x32 call (the filter should kill us with SIGSYS)
//   install  install, then write a line (for a program of a foreign arch: killed on that write)
// A test helper may use bun:ffi directly; src/ goes through src/sys/ffi.ts.
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import fs from "node:fs";
import { syscallNumber, type SeccompArch } from "../../../src/runtime/seccomp/syscalls.ts";
import { PROBES, type ProbeArg } from "./seccomp-probes.ts";

const libc = dlopen("libc.so.6", {
  prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
  syscall: {
    args: [FFIType.i64, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64],
    returns: FFIType.i64,
  },
  __errno_location: { args: [], returns: FFIType.ptr },
}).symbols;

const ERRNO: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 3: "ESRCH", 9: "EBADF", 14: "EFAULT", 22: "EINVAL", 38: "ENOSYS", 97: "EAFNOSUPPORT",
  93: "EPROTONOSUPPORT", 95: "EOPNOTSUPP", 13: "EACCES", 16: "EBUSY", 12: "ENOMEM", 94: "ESOCKTNOSUPPORT",
};
const errno = () => read.i32(libc.__errno_location() as Pointer, 0);
const arch: SeccompArch = process.arch === "arm64" ? "aarch64" : "x86_64";

function sys(nr: number, args: bigint[]): string {
  const a = [...args, 0n, 0n, 0n, 0n, 0n, 0n];
  const r = libc.syscall(nr, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!);
  if (Number(r) === -1) {
    const e = errno();
    return ERRNO[e] ?? `errno ${e}`;
  }
  return `ok:${r}`;
}

function install(program: Uint8Array): void {
  const PR_SET_NO_NEW_PRIVS = 38;
  if (libc.prctl(PR_SET_NO_NEW_PRIVS, 1n, 0n, 0n, 0n) !== 0) throw new Error(`prctl(PR_SET_NO_NEW_PRIVS): errno ${errno()}`);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; } — 16 bytes on 64-bit.
  const fprog = new BigUint64Array(2);
  fprog[0] = BigInt(program.length / 8);
  fprog[1] = BigInt(ptr(program));
  const SECCOMP_SET_MODE_FILTER = 1n;
  const SECCOMP_FILTER_FLAG_TSYNC = 1n;
  const r = libc.syscall(syscallNumber(arch, "seccomp")!, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, BigInt(ptr(fprog)), 0n, 0n, 0n);
  if (Number(r) !== 0) {
    process.stdout.write(JSON.stringify({ installError: Number(r) === -1 ? (ERRNO[errno()] ?? `errno ${errno()}`) : `thread ${r} could not sync` }));
    process.exit(3);
  }
}

const [mode, b64] = process.argv.slice(2);
const program = b64 ? new Uint8Array(Buffer.from(b64, "base64")) : new Uint8Array();

if (mode === "x32") {
  install(program);
  sys(0x40000000 | syscallNumber(arch, "getpid")!, []);
  process.stdout.write("survived x32\n");
  process.exit(0);
}
if (mode === "install") {
  install(program);
  process.stdout.write("survived\n");
  process.exit(0);
}

const devnull = fs.openSync("/dev/null", "w");
const buf = new Uint8Array([0x2a]);
const resolveArg = (a: ProbeArg): bigint => (a === "fd" ? BigInt(devnull) : a === "buf" ? BigInt(ptr(buf)) : a);

if (mode === "filter") install(program);
else if (mode !== "none") throw new Error(`unknown mode ${mode}`);

const results: Record<string, string> = {};
for (const p of PROBES) {
  const nr = syscallNumber(arch, p.syscall);
  if (nr === undefined) continue;
  const r = sys(nr, p.args.map(resolveArg));
  results[p.label] = r;
  // Close what a successful socket() opened so the child leaves nothing behind even if it lingers.
  if (p.syscall === "socket" && r.startsWith("ok:")) fs.closeSync(Number(r.slice(3)));
}
results.pid = String(process.pid);
process.stdout.write(JSON.stringify(results));
process.exit(0);
