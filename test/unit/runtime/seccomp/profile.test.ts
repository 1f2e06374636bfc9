// The profile as data: every name is a real syscall somewhere (a typo would silently allow
// nothing), and the shape matches moby/profiles seccomp v0.2.3.
import { describe, expect, test } from "bun:test";
import { CAPABILITY_NAMES } from "../../../../src/runtime/capabilities.ts";
import { CLONE_NAMESPACE_FLAGS, DEFAULT_PROFILE } from "../../../../src/runtime/seccomp/profile.ts";
import { AARCH64_SYSCALLS, X86_64_SYSCALLS } from "../../../../src/runtime/seccomp/syscalls.ts";

/** Names in Docker's profile that only 32-bit ABIs or other architectures have. */
const OTHER_ARCHES_ONLY = new Set([
  "_llseek", "_newselect", "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "chown32",
  "clock_adjtime64", "clock_getres_time64", "clock_gettime64", "clock_nanosleep_time64", "clock_settime64",
  "fadvise64_64", "fchown32", "fcntl64", "fstat64", "fstatat64", "fstatfs64", "ftruncate64", "futex_time64",
  "getegid32", "geteuid32", "getgid32", "getgroups32", "getresgid32", "getresuid32", "getuid32",
  "io_pgetevents_time64", "ipc", "lchown32", "lstat64", "mmap2", "mq_timedreceive_time64", "mq_timedsend_time64",
  "ppoll_time64", "pselect6_time64", "recv", "recvmmsg_time64", "riscv_flush_icache", "riscv_hwprobe",
  "rt_sigtimedwait_time64", "s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr",
  "sched_rr_get_interval_time64", "semtimedop_time64", "send", "sendfile64", "set_tls", "setfsgid32", "setfsuid32",
  "setgid32", "setgroups32", "setregid32", "setresgid32", "setresuid32", "setreuid32", "setuid32", "sigprocmask",
  "sigreturn", "socketcall", "stat64", "statfs64", "stime", "swapcontext", "sync_file_range2", "timer_gettime64",
  "timer_settime64", "timerfd_gettime64", "timerfd_settime64", "truncate64", "ugetrlimit", "umount",
  "utimensat_time64", "waitpid",
]);

describe("DEFAULT_PROFILE", () => {
  test("every name is a syscall of x86_64, aarch64, or a listed other ABI", () => {
    const unknown = DEFAULT_PROFILE.rules
      .flatMap((r) => r.names)
      .filter((n) => !Object.hasOwn(X86_64_SYSCALLS, n) && !Object.hasOwn(AARCH64_SYSCALLS, n) && !OTHER_ARCHES_ONLY.has(n));
    expect(unknown).toEqual([]);
  });

  test("every capability it names exists", () => {
    const caps = DEFAULT_PROFILE.rules.flatMap((r) => [...(r.includes?.caps ?? []), ...(r.excludes?.caps ?? [])]);
    expect(caps.filter((c) => !CAPABILITY_NAMES.includes(c))).toEqual([]);
  });

  test("moby's shape: EPERM by default, 33 rules, 361 names in the allow list", () => {
    expect(DEFAULT_PROFILE.defaultAction).toEqual({ errno: 1 });
    expect(DEFAULT_PROFILE.rules.length).toBe(33);
    const allow = DEFAULT_PROFILE.rules[0]!;
    expect(allow.action).toBe("allow");
    expect(allow.names.length).toBe(361);
    expect(new Set(allow.names).size).toBe(allow.names.length);
    // Dangerous calls stay out of the unconditional list.
    for (const n of ["mount", "umount2", "unshare", "setns", "reboot", "kexec_load", "init_module", "bpf", "ptrace", "clone", "clone3", "keyctl", "add_key", "io_uring_setup", "userfaultfd"]) {
      expect([n, allow.names.includes(n)]).toEqual([n, false]);
    }
  });

  test("the clone mask is the seven namespace flags", () => {
    expect(CLONE_NAMESPACE_FLAGS).toBe(0x7e020000n);
  });
});
