// A classic-BPF interpreter for seccomp programs, written from the kernel's rules
// (kernel/seccomp.c seccomp_check_filter, net/core/filter.c bpf_check_classic) and independent of
// src/runtime/seccomp: it reads the raw bytes itself. `checkFilter` refuses what the kernel would
// refuse; `runFilter` executes on a struct seccomp_data and counts the instructions it ran.

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six unsigned 64-bit arguments; missing ones are 0. */
  args?: bigint[];
}

export interface FilterResult {
  /** The 32-bit SECCOMP_RET_* value. */
  ret: number;
  /** Instructions executed, the `ret` included. */
  steps: number;
}

interface Raw {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

function decode(bytes: Uint8Array): Raw[] {
  if (bytes.length % 8 !== 0) throw new Error(`program length ${bytes.length} is not a multiple of 8`);
  const out: Raw[] = [];
  for (let i = 0; i < bytes.length; i += 8) {
    out.push({
      code: bytes[i]! | (bytes[i + 1]! << 8),
      jt: bytes[i + 2]!,
      jf: bytes[i + 3]!,
      k: (bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24)) >>> 0,
    });
  }
  return out;
}

// Opcodes the seccomp checker lets through (kernel/seccomp.c).
const LD_W_ABS = 0x20;
const LD_W_LEN = 0x80;
const LDX_W_LEN = 0x81;
const LD_IMM = 0x00;
const LDX_IMM = 0x01;
const LD_MEM = 0x60;
const LDX_MEM = 0x61;
const ST = 0x02;
const STX = 0x03;
const RET_K = 0x06;
const RET_A = 0x16;
const TAX = 0x07;
const TXA = 0x87;
const JA = 0x05;
const ALU_OPS = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0]; // add sub mul div or and lsh rsh mod xor
const JMP_OPS = [0x10, 0x20, 0x30, 0x40]; // jeq jgt jge jset
const ALU_NEG = 0x84;
const SECCOMP_DATA_SIZE = 64;
const MAXINSNS = 4096;

const allowed = new Set<number>([
  LD_W_ABS, LD_W_LEN, LDX_W_LEN, LD_IMM, LDX_IMM, LD_MEM, LDX_MEM, ST, STX, RET_K, RET_A, TAX, TXA, JA, ALU_NEG,
  ...ALU_OPS.flatMap((op) => [0x04 | op, 0x04 | op | 0x08]),
  ...JMP_OPS.flatMap((op) => [0x05 | op, 0x05 | op | 0x08]),
]);

/** Throws with the reason the kernel would give EINVAL for this program. */
export function checkFilter(bytes: Uint8Array): void {
  const prog = decode(bytes);
  if (prog.length === 0 || prog.length > MAXINSNS) throw new Error(`program has ${prog.length} instructions`);
  prog.forEach((insn, pc) => {
    if (!allowed.has(insn.code)) throw new Error(`pc ${pc}: opcode 0x${insn.code.toString(16)} not allowed in seccomp`);
    if (insn.code === LD_W_ABS && (insn.k >= SECCOMP_DATA_SIZE || insn.k % 4 !== 0)) throw new Error(`pc ${pc}: load at ${insn.k}`);
    if ((insn.code === LD_MEM || insn.code === LDX_MEM || insn.code === ST || insn.code === STX) && insn.k >= 16) {
      throw new Error(`pc ${pc}: scratch memory index ${insn.k}`);
    }
    if ((insn.code === 0x34 || insn.code === 0x94) && insn.k === 0) throw new Error(`pc ${pc}: division by constant zero`);
    if (insn.code === JA) {
      if (pc + 1 + insn.k >= prog.length) throw new Error(`pc ${pc}: ja out of range`);
    } else if ((insn.code & 0x07) === 0x05) {
      if (pc + 1 + insn.jt >= prog.length || pc + 1 + insn.jf >= prog.length) throw new Error(`pc ${pc}: jump out of range`);
    }
  });
  const last = prog[prog.length - 1]!;
  if (last.code !== RET_K && last.code !== RET_A) throw new Error("program does not end with ret");
}

function dataBytes(d: SeccompData): DataView {
  const view = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  view.setUint32(0, d.nr >>> 0, true);
  view.setUint32(4, d.arch >>> 0, true);
  view.setBigUint64(8, d.instructionPointer ?? 0n, true);
  for (let i = 0; i < 6; i++) view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, d.args?.[i] ?? 0n), true);
  return view;
}

export function runFilter(bytes: Uint8Array, d: SeccompData): FilterResult {
  const prog = decode(bytes);
  const data = dataBytes(d);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  let pc = 0;
  let steps = 0;
  for (;;) {
    const insn = prog[pc];
    if (!insn) throw new Error(`fell off the program at pc ${pc}`);
    steps++;
    const cls = insn.code & 0x07;
    if (insn.code === RET_K) return { ret: insn.k >>> 0, steps };
    if (insn.code === RET_A) return { ret: a >>> 0, steps };
    switch (insn.code) {
      case LD_W_ABS:
        a = data.getUint32(insn.k, true);
        pc++;
        continue;
      case LD_W_LEN:
        a = SECCOMP_DATA_SIZE;
        pc++;
        continue;
      case LDX_W_LEN:
        x = SECCOMP_DATA_SIZE;
        pc++;
        continue;
      case LD_IMM:
        a = insn.k;
        pc++;
        continue;
      case LDX_IMM:
        x = insn.k;
        pc++;
        continue;
      case LD_MEM:
        a = mem[insn.k]!;
        pc++;
        continue;
      case LDX_MEM:
        x = mem[insn.k]!;
        pc++;
        continue;
      case ST:
        mem[insn.k] = a;
        pc++;
        continue;
      case STX:
        mem[insn.k] = x;
        pc++;
        continue;
      case TAX:
        x = a;
        pc++;
        continue;
      case TXA:
        a = x;
        pc++;
        continue;
      case JA:
        pc += 1 + insn.k;
        continue;
      case ALU_NEG:
        a = -a >>> 0;
        pc++;
        continue;
    }
    const src = insn.code & 0x08 ? x : insn.k;
    const op = insn.code & 0xf0;
    if (cls === 0x04) {
      switch (op) {
        case 0x00: a = (a + src) >>> 0; break;
        case 0x10: a = (a - src) >>> 0; break;
        case 0x20: a = Number((BigInt(a) * BigInt(src)) & 0xffffffffn); break;
        case 0x30: if (src === 0) return { ret: 0, steps }; a = Math.floor(a / src) >>> 0; break;
        case 0x40: a = (a | src) >>> 0; break;
        case 0x50: a = (a & src) >>> 0; break;
        case 0x60: a = src >= 32 ? 0 : (a << src) >>> 0; break;
        case 0x70: a = src >= 32 ? 0 : a >>> src; break;
        case 0x90: if (src === 0) return { ret: 0, steps }; a = (a % src) >>> 0; break;
        case 0xa0: a = (a ^ src) >>> 0; break;
      }
      pc++;
      continue;
    }
    if (cls === 0x05) {
      let taken: boolean;
      switch (op) {
        case 0x10: taken = a === src >>> 0; break;
        case 0x20: taken = a > src >>> 0; break;
        case 0x30: taken = a >= src >>> 0; break;
        case 0x40: taken = (a & src) !== 0; break;
        default: throw new Error(`pc ${pc}: bad jump 0x${insn.code.toString(16)}`);
      }
      pc += 1 + (taken ? insn.jt : insn.jf);
      continue;
    }
    throw new Error(`pc ${pc}: opcode 0x${insn.code.toString(16)} not interpreted`);
  }
}

export type Verdict = { action: "allow" | "kill_process" | "kill_thread" | "trap" | "log" | "trace" | "user_notif" } | { action: "errno"; errno: number };

export function verdict(ret: number): Verdict {
  const action = (ret & 0xffff0000) >>> 0;
  switch (action) {
    case 0x7fff0000: return { action: "allow" };
    case 0x80000000: return { action: "kill_process" };
    case 0x00000000: return { action: "kill_thread" };
    case 0x00030000: return { action: "trap" };
    case 0x7ffc0000: return { action: "log" };
    case 0x7ff00000: return { action: "trace" };
    case 0x7fc00000: return { action: "user_notif" };
    case 0x00050000: return { action: "errno", errno: ret & 0xffff };
  }
  throw new Error(`unknown seccomp return 0x${ret.toString(16)}`);
}

/** The verdict as a short string for table tests: "allow", "EPERM", "ENOSYS", "kill_process"… */
export function decide(bytes: Uint8Array, d: SeccompData): string {
  const v = verdict(runFilter(bytes, d).ret);
  if (v.action !== "errno") return v.action;
  return ({ 1: "EPERM", 38: "ENOSYS" } as Record<number, string>)[v.errno] ?? `errno ${v.errno}`;
}
