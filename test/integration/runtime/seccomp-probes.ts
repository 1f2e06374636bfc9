// The syscalls the seccomp integration test makes under a real filter, as data shared by the child
// that makes them (seccomp-child.ts) and the test that predicts the outcome with the interpreter.
// Arguments are chosen so that a call the filter lets through fails harmlessly in the kernel
// (bad pointers, invalid flag pairs) — except the ones meant to succeed (getpid, write, socket).

/** "fd" is an fd on /dev/null the child opens first; "buf" a pointer to one byte. */
export type ProbeArg = bigint | "fd" | "buf";

export interface Probe {
  label: string;
  syscall: string;
  args: ProbeArg[];
}

const CLONE_FS = 0x200n;
const CLONE_THREAD = 0x10000n;
const CLONE_NEWUSER = 0x10000000n;
const CLONE_NEWUTS = 0x04000000n;

export const PROBES: Probe[] = [
  { label: "getpid", syscall: "getpid", args: [] },
  { label: "write /dev/null", syscall: "write", args: ["fd", "buf", 1n] },
  { label: "unshare(CLONE_NEWUTS)", syscall: "unshare", args: [CLONE_NEWUTS] },
  { label: "mount(NULL…)", syscall: "mount", args: [0n, 0n, 0n, 0n, 0n] },
  { label: "umount2(NULL)", syscall: "umount2", args: [0n, 0n] },
  { label: "keyctl(-1)", syscall: "keyctl", args: [0xffffffffn] },
  { label: "bpf(-1)", syscall: "bpf", args: [0xffffffffn, 0n, 0n] },
  // Invalid pairs: the kernel answers EINVAL when the filter lets them through, and forks nothing.
  { label: "clone(CLONE_NEWUSER|CLONE_FS)", syscall: "clone", args: [CLONE_NEWUSER | CLONE_FS, 0n, 0n, 0n, 0n] },
  { label: "clone(CLONE_THREAD) without CLONE_SIGHAND", syscall: "clone", args: [CLONE_THREAD, 0n, 0n, 0n, 0n] },
  { label: "clone3(NULL, 0)", syscall: "clone3", args: [0n, 0n] },
  { label: "personality(0xffffffff)", syscall: "personality", args: [0xffffffffn] },
  { label: "personality(ADDR_NO_RANDOMIZE)", syscall: "personality", args: [0x0040000n] },
  { label: "socket(AF_UNIX)", syscall: "socket", args: [1n, 1n, 0n] },
  { label: "socket(AF_ALG)", syscall: "socket", args: [38n, 5n, 0n] },
  { label: "socket(AF_VSOCK)", syscall: "socket", args: [40n, 1n, 0n] },
  { label: "ptrace(PTRACE_PEEKDATA, no such pid)", syscall: "ptrace", args: [2n, 0x7ffffffen, 0n, 0n] },
  { label: "reboot(bad magic)", syscall: "reboot", args: [0n, 0n, 0n, 0n] },
  { label: "init_module(NULL)", syscall: "init_module", args: [0n, 0n, 0n] },
  { label: "open_tree_attr (newer than the profile)", syscall: "open_tree_attr", args: [0xffffffffn, 0n, 0n, 0n, 0n] },
];
