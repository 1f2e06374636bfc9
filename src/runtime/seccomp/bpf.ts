// Classic BPF as seccomp takes it: struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }, 8 bytes
// per instruction in host byte order (little-endian on x86_64 and aarch64). Constants are
// linux/bpf_common.h, linux/filter.h and linux/seccomp.h.

export const BPF = {
  // classes
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  RET: 0x06,
  MISC: 0x07,
  // ld/ldx sizes and modes
  W: 0x00,
  H: 0x08,
  B: 0x10,
  IMM: 0x00,
  ABS: 0x20,
  IND: 0x40,
  MEM: 0x60,
  LEN: 0x80,
  MSH: 0xa0,
  // alu operations
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  // jump operations
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  // operand source
  K: 0x00,
  X: 0x08,
  // ret source
  A: 0x10,
  // misc
  TAX: 0x00,
  TXA: 0x80,
} as const;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
  /** Masks of the action and of its data (the errno). */
  ACTION_FULL: 0xffff0000,
  DATA: 0x0000ffff,
} as const;

/** struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; } */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  instructionPointer: 8,
  /** args[i] at 16 + 8i; low half first (little-endian). */
  args: 16,
  size: 64,
} as const;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const stmt = (code: number, k: number): Insn => ({ code, jt: 0, jf: 0, k: k >>> 0 });
export const jump = (code: number, k: number, jt: number, jf: number): Insn => ({ code, jt, jf, k: k >>> 0 });

/** A 32-bit load from seccomp_data at `offset`. */
export const loadAbs = (offset: number): Insn => stmt(BPF.LD | BPF.W | BPF.ABS, offset);
export const ret = (k: number): Insn => stmt(BPF.RET | BPF.K, k);

export function encodeProgram(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, true);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k >>> 0, true);
  });
  return out;
}

export function decodeProgram(bytes: Uint8Array): Insn[] {
  if (bytes.length % 8 !== 0) throw new RangeError(`a BPF program is 8 bytes per instruction, got ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const insns: Insn[] = [];
  for (let off = 0; off < bytes.length; off += 8) {
    insns.push({ code: view.getUint16(off, true), jt: view.getUint8(off + 2), jf: view.getUint8(off + 3), k: view.getUint32(off + 4, true) });
  }
  return insns;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** One line per instruction, in the style of libseccomp's scmp_bpf_disasm, for reading a program. */
export function disassemble(insns: readonly Insn[]): string {
  const jumps: Record<number, string> = { [BPF.JEQ]: "jeq", [BPF.JGT]: "jgt", [BPF.JGE]: "jge", [BPF.JSET]: "jset" };
  const alu: Record<number, string> = { [BPF.AND]: "and", [BPF.OR]: "or", [BPF.ADD]: "add", [BPF.SUB]: "sub", [BPF.RSH]: "rsh", [BPF.LSH]: "lsh" };
  return insns
    .map((insn, pc) => {
      const cls = insn.code & 0x07;
      const op = insn.code & 0xf0;
      let text: string;
      if (insn.code === (BPF.LD | BPF.W | BPF.ABS)) text = `ld  [${insn.k}]`;
      else if (insn.code === (BPF.RET | BPF.K)) text = `ret ${hex(insn.k)}`;
      else if (insn.code === (BPF.JMP | BPF.JA)) text = `ja  ${pc + 1 + insn.k}`;
      else if (cls === BPF.JMP && jumps[op]) text = `${jumps[op]} ${hex(insn.k)} ? ${pc + 1 + insn.jt} : ${pc + 1 + insn.jf}`;
      else if (cls === BPF.ALU && alu[op]) text = `${alu[op]} ${hex(insn.k)}`;
      else text = `code=${hex(insn.code)} jt=${insn.jt} jf=${insn.jf} k=${hex(insn.k)}`;
      return `${String(pc).padStart(4)}: ${text}`;
    })
    .join("\n");
}
