// A seccomp profile → a classic-BPF program, without libseccomp. Pure: the architecture, the
// capabilities (the bounding set, as Docker checks them) and the kernel version come in as data.
//
// The program:
//   ld arch; jeq AUDIT_ARCH ? +1 : ret KILL_PROCESS        (a foreign ABI — i386, arm32 — dies)
//   ld nr;  binary search over the syscall numbers, split into ranges of equal outcome:
//           [0, max] the profile; (max, 0x3fffffff] ENOSYS as runc's enosys stub gives for
//           calls newer than the profile; on x86_64 [0x40000000, ∞) x32, killed.
//   leaves: `ret ACTION`, or for calls with argument rules a chain of 64-bit comparisons.
// The search is an optimal BST weighted towards the calls a running program makes most, so that
// read/write cost a handful of instructions, not the ~log2(ranges) of a balanced tree.
import { InternalError, InvalidArgumentError, ParseError } from "../../errors.ts";
import { BPF, BPF_MAXINSNS, encodeProgram, jump, loadAbs, ret, SECCOMP_DATA, SECCOMP_RET, stmt, type Insn } from "./bpf.ts";
import { ENOSYS, type ArgCondition, type RuleFilter, type SeccompAction, type SeccompProfile, type SyscallRule } from "./profile.ts";
import { AUDIT_ARCH, syscallNumber, syscallTable, X32_SYSCALL_BIT, type SeccompArch } from "./syscalls.ts";

export interface CompileOptions {
  arch: SeccompArch;
  /** The container's bounding set, as CAP_* names (case and prefix are normalised). */
  caps: Iterable<string>;
  /** [major, minor] of the running kernel, for `minKernel` rules; absent means "new enough". */
  kernel?: readonly [number, number];
}

/** What one syscall number gets: the first branch whose conditions all hold, else `fallback`. */
export interface SyscallDecision {
  branches: { args: ArgCondition[]; action: SeccompAction }[];
  fallback: SeccompAction;
}

export interface ResolvedFilter {
  arch: SeccompArch;
  defaultAction: SeccompAction;
  /** Syscalls the profile says something about (after includes/excludes), by number. */
  syscalls: Map<number, SyscallDecision>;
  /** Numbers above this get ENOSYS (runc's stub), or null when the default already allows. */
  enosysAbove: number | null;
}

/** Go's GOARCH spelling, which Docker's includes/excludes use. */
const GO_ARCH: Record<SeccompArch, string> = { x86_64: "amd64", aarch64: "arm64" };

export function normalizeCapName(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
}

/** "6.18.0-1-amd64" → [6, 18]: the part of uname -r that `minKernel` compares. */
export function parseKernelRelease(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) throw new ParseError(`Cannot parse kernel release "${release}": expected <major>.<minor>`);
  return [Number(m[1]), Number(m[2])];
}

const kernelAtLeast = (kernel: readonly [number, number] | undefined, min: readonly [number, number]) =>
  kernel === undefined || kernel[0] > min[0] || (kernel[0] === min[0] && kernel[1] >= min[1]);

function ruleApplies(rule: SyscallRule, arch: SeccompArch, caps: Set<string>, kernel: readonly [number, number] | undefined): boolean {
  const goArch = GO_ARCH[arch];
  const ex: RuleFilter | undefined = rule.excludes;
  if (ex) {
    if (ex.arches?.includes(goArch)) return false;
    if (ex.caps?.some((c) => caps.has(normalizeCapName(c)))) return false;
    if (ex.minKernel && kernel !== undefined && kernelAtLeast(kernel, ex.minKernel)) return false;
  }
  const inc: RuleFilter | undefined = rule.includes;
  if (inc) {
    if (inc.arches?.length && !inc.arches.includes(goArch)) return false;
    if (inc.caps?.length && !inc.caps.every((c) => caps.has(normalizeCapName(c)))) return false;
    if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
  }
  return true;
}

const actionKey = (a: SeccompAction): string => (typeof a === "string" ? a : `errno:${a.errno}`);
const sameAction = (a: SeccompAction, b: SeccompAction) => actionKey(a) === actionKey(b);
const U64 = (1n << 64n) - 1n;

function checkRule(rule: SyscallRule): void {
  const what = `seccomp rule "${rule.names.join(",")}"`;
  const action = rule.action;
  if (typeof action !== "string" && (!Number.isInteger(action.errno) || action.errno < 0 || action.errno > 0xffff)) {
    throw new InvalidArgumentError(`Cannot compile ${what}: errno ${action.errno} is out of range`);
  }
  for (const a of rule.args ?? []) {
    if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) {
      throw new InvalidArgumentError(`Cannot compile ${what}: argument index ${a.index} is not 0-5`);
    }
    for (const v of [a.value, a.valueTwo ?? 0n]) {
      if (v < 0n || v > U64) throw new InvalidArgumentError(`Cannot compile ${what}: value ${v} is not an unsigned 64-bit number`);
    }
  }
}

/** The profile reduced to what it says about each syscall number of one architecture. */
export function resolveProfile(profile: SeccompProfile, opts: CompileOptions): ResolvedFilter {
  const caps = new Set([...opts.caps].map(normalizeCapName));
  const unconditional = new Map<number, SeccompAction>();
  const branches = new Map<number, SyscallDecision["branches"]>();
  let max = -1;
  for (const rule of profile.rules) {
    checkRule(rule);
    if (!ruleApplies(rule, opts.arch, caps, opts.kernel)) continue;
    for (const name of rule.names) {
      const nr = syscallNumber(opts.arch, name);
      if (nr === undefined) continue; // as libseccomp/runc: a name this arch lacks is skipped
      max = Math.max(max, nr);
      if (!rule.args?.length) {
        const had = unconditional.get(nr);
        if (had !== undefined && !sameAction(had, rule.action)) {
          throw new InvalidArgumentError(`Cannot compile seccomp rule "${name}": conflicting actions ${actionKey(had)} and ${actionKey(rule.action)}`);
        }
        unconditional.set(nr, rule.action);
      } else {
        const list = branches.get(nr) ?? [];
        list.push({ args: rule.args, action: rule.action });
        branches.set(nr, list);
      }
    }
  }
  const syscalls = new Map<number, SyscallDecision>();
  for (const nr of new Set([...unconditional.keys(), ...branches.keys()])) {
    const fallback = unconditional.get(nr) ?? profile.defaultAction;
    // A branch that ends where the fallback ends decides nothing.
    const live = (branches.get(nr) ?? []).filter((b) => !sameAction(b.action, fallback));
    syscalls.set(nr, { branches: live, fallback });
  }
  const allows = profile.defaultAction === "allow" || profile.defaultAction === "log";
  return { arch: opts.arch, defaultAction: profile.defaultAction, syscalls, enosysAbove: allows || max < 0 ? null : max };
}

export function actionValue(a: SeccompAction): number {
  if (typeof a !== "string") return (SECCOMP_RET.ERRNO | (a.errno & SECCOMP_RET.DATA)) >>> 0;
  switch (a) {
    case "allow":
      return SECCOMP_RET.ALLOW;
    case "kill_process":
      return SECCOMP_RET.KILL_PROCESS;
    case "kill_thread":
      return SECCOMP_RET.KILL_THREAD;
    case "trap":
      return SECCOMP_RET.TRAP;
    case "log":
      return SECCOMP_RET.LOG;
  }
}

// Leaves: argument comparisons.

/** Where a comparison jumps inside one leaf: past this condition ("pass") or to the next branch ("fail"). */
type Label = "pass" | "fail";
interface PendingInsn extends Insn {
  jtTo?: Label;
  jfTo?: Label;
}

const argLo = (index: number) => SECCOMP_DATA.args + 8 * index;
const argHi = (index: number) => SECCOMP_DATA.args + 8 * index + 4;
const J = (op: number, k: number, jtTo?: Label, jfTo?: Label): PendingInsn => ({ ...jump(BPF.JMP | op | BPF.K, k, 0, 0), jtTo, jfTo });

/**
 * The code for one 64-bit comparison, compared in two 32-bit halves as libseccomp does; it falls
 * through (or jumps to "pass") when the condition holds and jumps to "fail" when it does not.
 * null when the condition can never hold (a masked_eq datum with bits outside the mask).
 */
function conditionCode(c: ArgCondition): PendingInsn[] | null {
  const hi = Number((c.value >> 32n) & 0xffffffffn);
  const lo = Number(c.value & 0xffffffffn);
  const ldHi = loadAbs(argHi(c.index));
  const ldLo = loadAbs(argLo(c.index));
  switch (c.op) {
    case "eq":
      return [ldHi, J(BPF.JEQ, hi, undefined, "fail"), ldLo, J(BPF.JEQ, lo, undefined, "fail")];
    case "ne":
      return [ldHi, J(BPF.JEQ, hi, undefined, "pass"), ldLo, J(BPF.JEQ, lo, "fail")];
    case "gt":
    case "ge": {
      const loOp = c.op === "gt" ? BPF.JGT : BPF.JGE;
      // hi > HI passes; hi < HI fails; equal halves decide on the low word.
      const head = hi === 0 ? [ldHi, J(BPF.JEQ, 0, undefined, "pass")] : [ldHi, J(BPF.JGT, hi, "pass"), J(BPF.JEQ, hi, undefined, "fail")];
      return [...head, ldLo, J(loOp, lo, undefined, "fail")];
    }
    case "lt":
    case "le": {
      // hi < HI passes; hi > HI fails; equal halves decide on the low word.
      const head = hi === 0 ? [ldHi, J(BPF.JEQ, 0, undefined, "fail")] : [ldHi, J(BPF.JGE, hi, undefined, "pass"), J(BPF.JEQ, hi, undefined, "fail")];
      const tail = c.op === "lt" ? J(BPF.JGE, lo, "fail") : J(BPF.JGT, lo, "fail");
      return [...head, ldLo, tail];
    }
    case "masked_eq": {
      const mask = c.value;
      const datum = c.valueTwo ?? 0n;
      if ((datum & ~mask & U64) !== 0n) return null;
      const out: PendingInsn[] = [];
      for (const [off, m, d] of [
        [argHi(c.index), Number((mask >> 32n) & 0xffffffffn), Number((datum >> 32n) & 0xffffffffn)],
        [argLo(c.index), Number(mask & 0xffffffffn), Number(datum & 0xffffffffn)],
      ] as const) {
        if (m === 0) continue; // (x & 0) == 0 always
        out.push(loadAbs(off));
        if (d === 0) out.push(J(BPF.JSET, m, "fail"));
        else out.push(stmt(BPF.ALU | BPF.AND | BPF.K, m), J(BPF.JEQ, d, undefined, "fail"));
      }
      return out;
    }
  }
}

/** Resolves "pass"/"fail" labels of one condition or branch to relative offsets. */
function link(code: PendingInsn[], passAt: number, failAt: number): Insn[] {
  return code.map((insn, pc) => {
    const rel = (to: Label | undefined) => {
      if (to === undefined) return 0;
      const off = (to === "pass" ? passAt : failAt) - (pc + 1);
      if (off < 0 || off > 255) throw new InternalError(`seccomp: a condition jump of ${off} does not fit`);
      return off;
    };
    return { code: insn.code, jt: rel(insn.jtTo), jf: rel(insn.jfTo), k: insn.k };
  });
}

function leafCode(decision: SyscallDecision): Insn[] {
  const out: Insn[] = [];
  for (const branch of decision.branches) {
    const conds = branch.args.map(conditionCode);
    if (conds.some((c) => c === null)) continue; // can never match
    // Lay the branch out, then point every "fail" past its `ret` and every "pass" at the next condition.
    const body: Insn[] = [];
    const lengths = conds.map((c) => c!.length);
    const total = lengths.reduce((a, b) => a + b, 0) + 1;
    let at = 0;
    for (const c of conds) {
      const linked = link(c!, c!.length, total - at);
      body.push(...linked);
      at += c!.length;
    }
    body.push(ret(actionValue(branch.action)));
    out.push(...body);
  }
  out.push(ret(actionValue(decision.fallback)));
  return out;
}

// The search over syscall numbers.

interface Segment {
  /** First number of the range; it ends where the next segment starts. */
  start: number;
  code: Insn[];
  /** Share of syscalls expected to land here, for the tree's shape. */
  weight: number;
}

/**
 * Calls that dominate what a running container does (I/O loops, event loops, allocators, locks):
 * the search puts them near the root. Anything not listed counts 1; these count HOT_WEIGHT.
 */
export const HOT_SYSCALLS = [
  "read", "write", "readv", "writev", "pread64", "pwrite64", "close", "openat", "lseek", "newfstatat",
  "fstat", "statx", "futex", "epoll_wait", "epoll_pwait", "epoll_ctl", "poll", "ppoll", "recvfrom", "sendto",
  "recvmsg", "sendmsg", "mmap", "munmap", "mprotect", "madvise", "brk", "rt_sigprocmask", "rt_sigaction",
  "ioctl", "fcntl", "getdents64", "getpid", "gettid", "clock_gettime", "nanosleep", "clock_nanosleep",
  "sched_yield", "accept4",
];
const HOT_WEIGHT = 32;

function segments(resolved: ResolvedFilter): Segment[] {
  const table = syscallTable(resolved.arch);
  const known = new Set(Object.values(table));
  const hot = new Set(HOT_SYSCALLS.map((n) => table[n]).filter((n): n is number => n !== undefined));
  const weightOf = (nr: number) => (hot.has(nr) ? HOT_WEIGHT : known.has(nr) ? 1 : 0);

  const top = resolved.arch === "x86_64" ? X32_SYSCALL_BIT - 1 : 0xffffffff;
  const last = resolved.enosysAbove ?? Math.max(-1, ...resolved.syscalls.keys());
  const out: (Segment & { key: string | null })[] = [];
  const add = (start: number, key: string | null, code: Insn[], weight: number) => {
    const prev = out[out.length - 1];
    if (prev && key !== null && prev.key === key) prev.weight += weight;
    else out.push({ start, key, code, weight });
  };
  const simple = (a: SeccompAction) => ({ key: actionKey(a), code: [ret(actionValue(a))] });
  for (let nr = 0; nr <= last; nr++) {
    const d = resolved.syscalls.get(nr);
    if (d && d.branches.length) add(nr, null, leafCode(d), weightOf(nr));
    else {
      const s = simple(d ? d.fallback : resolved.defaultAction);
      add(nr, s.key, s.code, weightOf(nr));
    }
  }
  if (last < top) {
    const s = simple(resolved.enosysAbove !== null ? { errno: ENOSYS } : resolved.defaultAction);
    add(last + 1, s.key, s.code, 0);
  }
  if (resolved.arch === "x86_64") add(X32_SYSCALL_BIT, "x32", [ret(SECCOMP_RET.KILL_PROCESS)], 0);
  // Every segment gets a sliver of weight so that cold ranges still sit in a sensible place.
  return out.map(({ start, code, weight }) => ({ start, code, weight: weight + 0.01 }));
}

interface Tree {
  leaf?: Segment;
  split?: number;
  left?: Tree;
  right?: Tree;
}

/** The optimal alphabetic tree (min Σ weight × depth) by the classic O(n³) dynamic program. */
function searchTree(segs: Segment[]): Tree {
  const n = segs.length;
  const prefix = [0];
  for (const s of segs) prefix.push(prefix[prefix.length - 1]! + s.weight);
  const w = (i: number, j: number) => prefix[j + 1]! - prefix[i]!;
  const cost: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const root: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let len = 2; len <= n; len++) {
    for (let i = 0; i + len - 1 < n; i++) {
      const j = i + len - 1;
      let best = Infinity;
      let bestK = i + 1;
      for (let k = i + 1; k <= j; k++) {
        const c = cost[i]![k - 1]! + cost[k]![j]!;
        if (c < best) {
          best = c;
          bestK = k;
        }
      }
      cost[i]![j] = best + w(i, j);
      root[i]![j] = bestK;
    }
  }
  const build = (i: number, j: number): Tree => {
    if (i === j) return { leaf: segs[i]! };
    const k = root[i]![j]!;
    return { split: segs[k]!.start, left: build(i, k - 1), right: build(k, j) };
  };
  return build(0, n - 1);
}

function emitTree(t: Tree): Insn[] {
  if (t.leaf) return t.leaf.code;
  const left = emitTree(t.left!);
  const right = emitTree(t.right!);
  // nr >= split goes right, past the left subtree; past 255 instructions that needs a BPF_JA.
  if (left.length <= 255) return [jump(BPF.JMP | BPF.JGE | BPF.K, t.split!, left.length, 0), ...left, ...right];
  return [jump(BPF.JMP | BPF.JGE | BPF.K, t.split!, 0, 1), stmt(BPF.JMP | BPF.JA, left.length), ...left, ...right];
}

export function compileInstructions(profile: SeccompProfile, opts: CompileOptions): Insn[] {
  const resolved = resolveProfile(profile, opts);
  const program = [
    loadAbs(SECCOMP_DATA.arch),
    jump(BPF.JMP | BPF.JEQ | BPF.K, AUDIT_ARCH[opts.arch], 1, 0),
    ret(SECCOMP_RET.KILL_PROCESS),
    loadAbs(SECCOMP_DATA.nr),
    ...emitTree(searchTree(segments(resolved))),
  ];
  if (program.length > BPF_MAXINSNS) {
    throw new InternalError(`seccomp: the program has ${program.length} instructions, more than the kernel's ${BPF_MAXINSNS}`);
  }
  return program;
}

/** The profile as struct sock_filter[] bytes, ready for seccomp(SECCOMP_SET_MODE_FILTER). */
export function compileSeccomp(profile: SeccompProfile, opts: CompileOptions): Uint8Array {
  return encodeProgram(compileInstructions(profile, opts));
}
