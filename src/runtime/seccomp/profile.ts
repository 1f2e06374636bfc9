// Docker's default seccomp profile, as data.
//
// Source: github.com/moby/profiles, module seccomp v0.2.3 (seccomp/default_linux.go, tag
// seccomp/v0.2.3, 2026-05-06; its default.json has sha256 536529b6…c74). That module is what moby
// vendors from docker v29 on (moby/moby vendor/modules.txt: github.com/moby/profiles/seccomp
// v0.2.3); before that the same list lived in moby/moby profiles/seccomp/default_linux.go.
// Re-expressed here rule by rule, in Docker's order, with the Go constants spelled as numbers.
//
// How Docker turns it into a filter (seccomp_linux.go setupSeccomp + runc): a rule whose
// `includes` do not all hold, or one of whose `excludes` holds, is dropped; capabilities are
// looked up in the container's *bounding* set; arches are Go/libseccomp names ("amd64", "arm64");
// `minKernel` is compared with the running kernel. Names an architecture lacks are ignored.

/** What a rule (or the default) does: a SECCOMP_RET_* action; `errno` is SECCOMP_RET_ERRNO|errno. */
export type SeccompAction = "allow" | "kill_process" | "kill_thread" | "trap" | "log" | { errno: number };

/** libseccomp's SCMP_CMP_*; for masked_eq `value` is the mask and `valueTwo` the datum, as in OCI. */
export type ArgOp = "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "masked_eq";

export interface ArgCondition {
  /** Which syscall argument, 0–5; compared as an unsigned 64-bit value. */
  index: number;
  value: bigint;
  valueTwo?: bigint;
  op: ArgOp;
}

export interface RuleFilter {
  /** Go architecture names (runtime.GOARCH as libseccomp spells it): amd64, arm64, x86, x32, arm… */
  arches?: string[];
  /** CAP_* names looked up in the bounding set. */
  caps?: string[];
  /** [major, minor]: the rule holds on kernels at least this new. */
  minKernel?: [number, number];
}

export interface SyscallRule {
  names: string[];
  action: SeccompAction;
  /** All must hold (AND). Several rules for one syscall are alternatives (OR). */
  args?: ArgCondition[];
  /** Keep the rule only when every listed arch/cap/kernel condition holds. */
  includes?: RuleFilter;
  /** Drop the rule when any listed arch/cap/kernel condition holds. */
  excludes?: RuleFilter;
  comment?: string;
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  rules: SyscallRule[];
}

export const EPERM = 1;
export const ENOSYS = 38;

// linux/socket.h; moby asserts AF_ALG and AF_VSOCK are two apart with one family between them.
const AF_ALG = 38n;
const AF_VSOCK = 40n;

// CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP
export const CLONE_NAMESPACE_FLAGS = 0x00020000n | 0x04000000n | 0x08000000n | 0x10000000n | 0x20000000n | 0x40000000n | 0x02000000n;

const ALLOWED: string[] = [
  "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset",
  "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
  "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
  "close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
  "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
  "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
  "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
  "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
  "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
  "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
  "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
  "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
  "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
  "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
  "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat",
  "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
  "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
  "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
  "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listmount",
  "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
  "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
  "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
  "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
  "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall",
  "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
  "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
  "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
  "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
  "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
  "removexattr", "removexattrat", "rename", "renameat", "renameat2", "restart_syscall", "riscv_hwprobe",
  "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
  "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
  "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
  "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
  "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop",
  "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
  "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
  "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
  "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
  "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "setxattrat", "shmat", "shmctl",
  "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
  "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statmount", "statx",
  "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
  "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
  "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
  "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink",
  "unlinkat", "uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4",
  "waitid", "waitpid", "write", "writev",
];

const personality = (value: bigint): SyscallRule => ({
  names: ["personality"],
  action: "allow",
  args: [{ index: 0, value, op: "eq" }],
});

const onlyWith = (cap: string, names: string[]): SyscallRule => ({ names, action: "allow", includes: { caps: [cap] } });

export const DEFAULT_PROFILE: SeccompProfile = {
  defaultAction: { errno: EPERM },
  rules: [
    { names: ALLOWED, action: "allow" },
    // Before 4.8 ptrace could be used to get around seccomp, so it needed CAP_SYS_PTRACE there.
    { names: ["process_vm_readv", "process_vm_writev", "ptrace"], action: "allow", includes: { minKernel: [4, 8] } },
    // socket(2) for every family but AF_ALG (38) and AF_VSOCK (40). On 32-bit x86 socketcall(2)
    // stays open above, so this only binds the direct call — moby's own caveat.
    { names: ["socket"], action: "allow", args: [{ index: 0, value: AF_ALG, op: "lt" }] },
    { names: ["socket"], action: "allow", args: [{ index: 0, value: AF_ALG + 1n, op: "eq" }] },
    { names: ["socket"], action: "allow", args: [{ index: 0, value: AF_VSOCK, op: "gt" }] },
    // PER_LINUX, PER_LINUX32 (0x8), UNAME26 (0x20000), PER_LINUX32|UNAME26, and the 0xffffffff query.
    personality(0x0n),
    personality(0x0008n),
    personality(0x20000n),
    personality(0x20008n),
    personality(0xffffffffn),
    { names: ["sync_file_range2", "swapcontext"], action: "allow", includes: { arches: ["ppc64le"] } },
    {
      names: ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
      action: "allow",
      includes: { arches: ["arm", "arm64"] },
    },
    { names: ["arch_prctl"], action: "allow", includes: { arches: ["amd64", "x32"] } },
    { names: ["modify_ldt"], action: "allow", includes: { arches: ["amd64", "x32", "x86"] } },
    { names: ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"], action: "allow", includes: { arches: ["s390", "s390x"] } },
    { names: ["riscv_flush_icache"], action: "allow", includes: { arches: ["riscv64"] } },
    onlyWith("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
    onlyWith("CAP_SYS_ADMIN", [
      "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
      "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount", "mount_setattr", "move_mount",
      "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
      "syslog", "umount", "umount2", "unshare",
    ]),
    // Without CAP_SYS_ADMIN, clone may make threads and processes but no namespaces.
    {
      names: ["clone"],
      action: "allow",
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0n, op: "masked_eq" }],
      excludes: { caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"] },
    },
    {
      names: ["clone"],
      action: "allow",
      args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0n, op: "masked_eq" }],
      comment: "s390 parameter ordering for clone is different",
      includes: { arches: ["s390", "s390x"] },
      excludes: { caps: ["CAP_SYS_ADMIN"] },
    },
    // clone3's flags live in memory that seccomp cannot read: ENOSYS makes libc fall back to clone.
    { names: ["clone3"], action: { errno: ENOSYS }, excludes: { caps: ["CAP_SYS_ADMIN"] } },
    onlyWith("CAP_SYS_BOOT", ["reboot"]),
    onlyWith("CAP_SYS_CHROOT", ["chroot"]),
    onlyWith("CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
    onlyWith("CAP_SYS_PACCT", ["acct"]),
    onlyWith("CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]),
    onlyWith("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
    onlyWith("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
    onlyWith("CAP_SYS_TTY_CONFIG", ["vhangup"]),
    onlyWith("CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
    onlyWith("CAP_SYSLOG", ["syslog"]),
    onlyWith("CAP_BPF", ["bpf"]),
    onlyWith("CAP_PERFMON", ["perf_event_open"]),
  ],
};
