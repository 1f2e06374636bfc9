// A small eBPF interpreter for BPF_PROG_TYPE_CGROUP_DEVICE programs, written from the kernel's
// instruction set (Documentation/bpf/standardization/instruction-set.rst) and independent of
// src/runtime/cgroups/devicefilter.ts: it decodes the raw bytes itself. `checkProgram` refuses
// what the verifier would (unknown opcodes, reads of unset registers, context reads other than the
// three u32 fields, jumps out of the program or backwards, a fall off the end, exit without r0);
// `runProgram` executes it on a struct bpf_cgroup_dev_ctx {u32 access_type, major, minor}.

export interface DeviceAccess {
  /** 1 block, 2 char (BPF_DEVCG_DEV_*). */
  type: number;
  /** BPF_DEVCG_ACC_* bits: 1 mknod, 2 read, 4 write. */
  access: number;
  major: number;
  minor: number;
}

interface Raw {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

function decode(bytes: Uint8Array): Raw[] {
  if (bytes.length % 8 !== 0) throw new Error(`program length ${bytes.length} is not a multiple of 8`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Raw[] = [];
  for (let i = 0; i < bytes.length; i += 8) {
    out.push({ code: v.getUint8(i), dst: v.getUint8(i + 1) & 0xf, src: v.getUint8(i + 1) >> 4, off: v.getInt16(i + 2, true), imm: v.getInt32(i + 4, true) });
  }
  return out;
}

const CLS = { LDX: 0x01, ALU: 0x04, JMP: 0x05, JMP32: 0x06, ALU64: 0x07 };
const SRC_X = 0x08;
const ALU = { ADD: 0x00, SUB: 0x10, MUL: 0x20, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, XOR: 0xa0, MOV: 0xb0 };
const JOP = { JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40, JNE: 0x50, EXIT: 0x90 };
const LDX_MEM_W = 0x61;
const CTX_SIZE = 12;
const MAX_INSNS = 4096;

const M64 = (1n << 64n) - 1n;
const u32 = (x: bigint) => x & 0xffffffffn;
const sext = (imm: number) => BigInt.asUintN(64, BigInt(imm));

function aluOp(op: number, a: bigint, b: bigint, bits: 32 | 64): bigint {
  const mask = bits === 32 ? 0xffffffffn : M64;
  a &= mask;
  b &= mask;
  switch (op) {
    case ALU.ADD: return (a + b) & mask;
    case ALU.SUB: return (a - b) & mask;
    case ALU.MUL: return (a * b) & mask;
    case ALU.OR: return a | b;
    case ALU.AND: return a & b;
    case ALU.LSH: return (a << (b & BigInt(bits - 1))) & mask;
    case ALU.RSH: return a >> (b & BigInt(bits - 1));
    case ALU.XOR: return a ^ b;
    case ALU.MOV: return b;
  }
  throw new Error(`alu op 0x${op.toString(16)} not supported`);
}

function jmpTaken(op: number, a: bigint, b: bigint): boolean {
  switch (op) {
    case JOP.JEQ: return a === b;
    case JOP.JNE: return a !== b;
    case JOP.JGT: return a > b;
    case JOP.JGE: return a >= b;
    case JOP.JSET: return (a & b) !== 0n;
  }
  throw new Error(`jump op 0x${op.toString(16)} not supported`);
}

/** Throws, naming the instruction, what the verifier would refuse (a subset of its rules). */
export function checkProgram(bytes: Uint8Array): void {
  const prog = decode(bytes);
  if (prog.length === 0 || prog.length > MAX_INSNS) throw new Error(`program of ${prog.length} instructions`);
  // Forward jumps only, so one pass in order sees every path's predecessors: track which registers
  // are set on every path into each instruction (an intersection of sets).
  const setIn: (Set<number> | undefined)[] = new Array(prog.length + 1);
  // 11 stands for "r1 still points at the context": a write to r1 makes it a plain number.
  setIn[0] = new Set([1, 10, 11]);
  const merge = (at: number, regs: Set<number>) => {
    const cur = setIn[at];
    setIn[at] = cur ? new Set([...cur].filter((r) => regs.has(r))) : new Set(regs);
  };
  for (let pc = 0; pc < prog.length; pc++) {
    const regs = setIn[pc];
    if (!regs) continue; // unreachable (the kernel refuses those too; the compiler emits none)
    const p = prog[pc]!;
    const where = `instruction ${pc} (0x${p.code.toString(16)})`;
    const need = (r: number) => {
      if (!regs.has(r)) throw new Error(`${where} reads r${r}, which is not set`);
    };
    if (p.dst > 10 || p.src > 10) throw new Error(`${where}: no such register`);
    const cls = p.code & 0x07;
    const op = p.code & 0xf0;
    const next = new Set(regs);
    if (p.code === LDX_MEM_W) {
      need(p.src);
      if (p.src !== 1 || !regs.has(11) || p.off < 0 || p.off + 4 > CTX_SIZE || p.off % 4 !== 0) throw new Error(`${where}: load outside the context`);
      if (p.dst === 10) throw new Error(`${where} writes r10`);
      next.add(p.dst);
      if (p.dst === 1) next.delete(11);
      merge(pc + 1, next);
    } else if (cls === CLS.ALU || cls === CLS.ALU64) {
      if (p.dst === 10) throw new Error(`${where} writes r10`);
      if (op !== ALU.MOV) need(p.dst);
      if (p.code & SRC_X) need(p.src);
      aluOp(op, 0n, 0n, 64); // refuses unknown ops
      next.add(p.dst);
      if (p.dst === 1) next.delete(11);
      merge(pc + 1, next);
    } else if (cls === CLS.JMP || cls === CLS.JMP32) {
      if (op === JOP.EXIT) {
        if (p.code !== 0x95) throw new Error(`${where}: bad exit`);
        need(0);
        continue;
      }
      const target = pc + 1 + p.off;
      if (p.off < 0 || target >= prog.length) throw new Error(`${where} jumps to ${target}: backwards or out of the program`);
      if (op !== JOP.JA) {
        jmpTaken(op, 0n, 0n);
        need(p.dst);
        if (p.code & SRC_X) need(p.src);
        merge(pc + 1, next);
      }
      merge(target, next);
    } else {
      throw new Error(`${where}: opcode not allowed`);
    }
  }
  if (setIn[prog.length]) throw new Error("the program can run past its last instruction");
}

/** Runs a checked program on one access; returns r0 (1 allow, 0 refuse) and the steps taken. */
export function runProgram(bytes: Uint8Array, a: DeviceAccess): { ret: number; steps: number } {
  const prog = decode(bytes);
  const ctx = [((a.access << 16) | a.type) >>> 0, a.major >>> 0, a.minor >>> 0];
  const r: bigint[] = new Array(11).fill(0n);
  let ctxPtr = true; // r1 points at the context until something is written to it
  let steps = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    if (++steps > 100_000) throw new Error("too many steps");
    const p = prog[pc]!;
    const cls = p.code & 0x07;
    const op = p.code & 0xf0;
    if (p.code === LDX_MEM_W) {
      if (!ctxPtr) throw new Error(`instruction ${pc}: r1 no longer points at the context`);
      r[p.dst] = BigInt(ctx[p.off / 4]!);
      if (p.dst === 1) ctxPtr = false;
    } else if (cls === CLS.ALU || cls === CLS.ALU64) {
      const b = p.code & SRC_X ? r[p.src]! : sext(p.imm);
      r[p.dst] = aluOp(op, r[p.dst]!, b, cls === CLS.ALU ? 32 : 64);
      if (p.dst === 1) ctxPtr = false;
    } else if (op === JOP.EXIT) {
      return { ret: Number(u32(r[0]!)), steps };
    } else {
      const wide = cls === CLS.JMP;
      const a0 = wide ? r[p.dst]! : u32(r[p.dst]!);
      const b0 = p.code & SRC_X ? r[p.src]! : sext(p.imm);
      const b1 = wide ? b0 : u32(b0);
      if (op === JOP.JA || jmpTaken(op, a0, b1)) pc += p.off;
    }
  }
  throw new Error("fell off the end");
}
