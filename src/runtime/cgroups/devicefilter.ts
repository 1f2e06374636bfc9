// Device rules as a BPF_PROG_TYPE_CGROUP_DEVICE program: cgroup v2 has no devices.allow, the kernel
// runs an eBPF program attached to the cgroup on every mknod and open of a device node instead
// (0 = EPERM). Pure: rules in, instruction bytes out; src/sys loads and attaches them.
//
// The rules keep v1's text form ("c 1:3 rwm", see devices.ts) and the order Docker writes them in;
// as runc's devicefilter does, they are checked from the last to the first and the first match
// decides, and an "a" rule (every device, every access) ends the walk as the default. Where a
// rule's access is partial, an allow rule matches when the access asked for is within it (the
// kernel's v1 rule: `access & ~ex->access` is 0), a deny rule as soon as one asked bit is in it (so
// "deny w" also refuses an open for read and write; runc's filter would let that through).
import { ParseError } from "../../errors.ts";
import type { DeviceRule } from "./devices.ts";

/** struct bpf_cgroup_dev_ctx's access bits (high 16 bits of access_type), uapi/linux/bpf.h. */
export const DEVCG_ACC = { MKNOD: 1, READ: 2, WRITE: 4 } as const;
/** Its device types (low 16 bits). */
export const DEVCG_DEV = { BLOCK: 1, CHAR: 2 } as const;

export interface ParsedDeviceRule {
  allow: boolean;
  type: "a" | "b" | "c";
  /** null = any ("*"). */
  major: number | null;
  minor: number | null;
  /** DEVCG_ACC bits. */
  access: number;
}

/** "c 1:3 rwm", "b *:* m", "a" → its parts; the grammar of devices.allow. */
export function parseDeviceRule(rule: DeviceRule): ParsedDeviceRule {
  const bad = (why: string) => new ParseError(`Cannot parse device rule "${rule.rule}": ${why}`);
  const m = /^([abc])(?: (\*|\d+):(\*|\d+))?(?: ([rwm]+))?$/.exec(rule.rule);
  if (!m) throw bad('expected "TYPE MAJOR:MINOR ACCESS" (TYPE a, b or c; MAJOR and MINOR a number or *; ACCESS of r, w, m)');
  const type = m[1] as "a" | "b" | "c";
  if (type !== "a" && m[2] === undefined) throw bad("a b or c rule names MAJOR:MINOR");
  const num = (s: string | undefined): number | null => {
    if (s === undefined || s === "*") return null;
    const n = Number(s);
    // The comparison takes a sign-extended 32-bit immediate; Linux's majors have 12 bits, minors 20.
    if (n > 0x7fffffff) throw bad(`${s} is too large for a device number`);
    return n;
  };
  let access = 0;
  for (const c of m[4] ?? "rwm") access |= c === "r" ? DEVCG_ACC.READ : c === "w" ? DEVCG_ACC.WRITE : DEVCG_ACC.MKNOD;
  return { allow: rule.allow, type, major: type === "a" ? null : num(m[2]), minor: type === "a" ? null : num(m[3]), access };
}

const ALL_ACCESS = DEVCG_ACC.MKNOD | DEVCG_ACC.READ | DEVCG_ACC.WRITE;

// eBPF opcodes (uapi/linux/bpf_common.h, bpf.h): class | op | source.
const LDX_MEM_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K = 0x54;
const ALU32_RSH_K = 0x74;
const ALU32_MOV_K = 0xb4;
const ALU32_MOV_X = 0xbc;
const JMP_JNE_K = 0x55;
const JMP_JNE_X = 0x5d;
const JMP_JEQ_K = 0x15;
const JMP_EXIT = 0x95;
export const BPF_OPCODES = { LDX_MEM_W, ALU32_AND_K, ALU32_RSH_K, ALU32_MOV_K, ALU32_MOV_X, JMP_JNE_K, JMP_JNE_X, JMP_JEQ_K, JMP_EXIT } as const;

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

/**
 * The program for `rules`, as struct bpf_insn bytes (8 each, little-endian). Registers: r1 the
 * context, then r2 the device type, r3 the access asked for, r4 the major, r5 the minor.
 */
export function compileDeviceFilter(rules: readonly DeviceRule[]): Uint8Array {
  const parsed = rules.map(parseDeviceRule);
  const prog: Insn[] = [
    insn(LDX_MEM_W, 2, 1, 0, 0), // r2 = ctx->access_type
    insn(ALU32_AND_K, 2, 0, 0, 0xffff), // r2 &= 0xffff: the type
    insn(LDX_MEM_W, 3, 1, 0, 0), // r3 = ctx->access_type
    insn(ALU32_RSH_K, 3, 0, 0, 16), // r3 >>= 16: the access
    insn(LDX_MEM_W, 4, 1, 4, 0), // r4 = ctx->major
    insn(LDX_MEM_W, 5, 1, 8, 0), // r5 = ctx->minor
  ];
  let verdict = 0; // no rule matched: refused, as after v1's "deny a"
  for (let i = parsed.length - 1; i >= 0; i--) {
    const r = parsed[i]!;
    if (r.type === "a" && r.access === ALL_ACCESS) {
      verdict = r.allow ? 1 : 0;
      break;
    }
    // Each test jumps past this rule's block when it does not hold; the offset is patched once the
    // block's length is known.
    const block: Insn[] = [];
    const skips: number[] = [];
    const skipUnless = (i: Insn) => {
      skips.push(block.length);
      block.push(i);
    };
    if (r.type !== "a") skipUnless(insn(JMP_JNE_K, 2, 0, 0, r.type === "b" ? DEVCG_DEV.BLOCK : DEVCG_DEV.CHAR));
    if (r.major !== null) skipUnless(insn(JMP_JNE_K, 4, 0, 0, r.major));
    if (r.minor !== null) skipUnless(insn(JMP_JNE_K, 5, 0, 0, r.minor));
    if (r.access !== ALL_ACCESS) {
      block.push(insn(ALU32_MOV_X, 1, 3, 0, 0)); // r1 = access asked
      block.push(insn(ALU32_AND_K, 1, 0, 0, r.access)); // r1 &= the rule's access
      // allow: every asked bit in the rule (r1 == r3); deny: any (r1 != 0)
      skipUnless(r.allow ? insn(JMP_JNE_X, 1, 3, 0, 0) : insn(JMP_JEQ_K, 1, 0, 0, 0));
    }
    block.push(insn(ALU32_MOV_K, 0, 0, 0, r.allow ? 1 : 0));
    block.push(insn(JMP_EXIT, 0, 0, 0, 0));
    for (const at of skips) block[at]!.off = block.length - at - 1;
    prog.push(...block);
  }
  prog.push(insn(ALU32_MOV_K, 0, 0, 0, verdict), insn(JMP_EXIT, 0, 0, 0, 0));
  return encodeInsns(prog);
}

function encodeInsns(prog: Insn[]): Uint8Array {
  const out = new Uint8Array(prog.length * 8);
  const v = new DataView(out.buffer);
  prog.forEach((p, i) => {
    v.setUint8(i * 8, p.code);
    v.setUint8(i * 8 + 1, (p.src << 4) | p.dst);
    v.setInt16(i * 8 + 2, p.off, true);
    v.setInt32(i * 8 + 4, p.imm, true);
  });
  return out;
}

/** The device rule that `--device` (host path type, major, minor, cgroup permissions) adds. */
export function deviceAllowRule(type: "b" | "c", major: number, minor: number, permissions: string): DeviceRule {
  return { allow: true, rule: `${type} ${major}:${minor} ${permissions}` };
}
