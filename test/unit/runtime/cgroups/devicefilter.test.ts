// The cgroup v2 device program, run by an independent eBPF interpreter (ebpf-interpreter.ts) and
// compared with the kernel's cgroup v1 device rules, emulated below from security/device_cgroup.c:
// what a v1 host enforces for Docker's list is what a v2 host must enforce.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { compileDeviceFilter, deviceAllowRule, parseDeviceRule } from "../../../../src/runtime/cgroups/devicefilter.ts";
import { DOCKER_DEVICE_RULES, v1DeviceWrites, type DeviceRule } from "../../../../src/runtime/cgroups/devices.ts";
import { checkProgram, runProgram, type DeviceAccess } from "./ebpf-interpreter.ts";

const BLOCK = 1;
const CHAR = 2;
const M = 1;
const R = 2;
const W = 4;
/** What the kernel asks: mknod alone, or an open's read and/or write. */
const ACCESSES = [M, R, W, R | W];

interface Exception {
  type: "a" | "b" | "c";
  major: number; // -1 = any
  minor: number;
  access: number;
}

/** security/device_cgroup.c for one cgroup: devcgroup_update_access, then devcgroup_legacy_check_permission. */
function v1Cgroup(rules: readonly DeviceRule[]) {
  let allowAll = true; // a new cgroup under the root: "a *:* rwm"
  let exceptions: Exception[] = [];
  for (const { allow, rule } of rules) {
    const m = /^([abc])(?: (\*|\d+):(\*|\d+))?(?: ([rwm]+))?$/.exec(rule)!;
    if (m[1] === "a" && m[2] === undefined) {
      allowAll = allow;
      exceptions = [];
      continue;
    }
    let access = 0;
    for (const ch of m[4] ?? "rwm") access |= ch === "r" ? R : ch === "w" ? W : M;
    const ex: Exception = { type: m[1] as Exception["type"], major: m[2] === "*" ? -1 : Number(m[2]), minor: m[3] === "*" ? -1 : Number(m[3]), access };
    const same = (e: Exception) => e.type === ex.type && e.major === ex.major && e.minor === ex.minor;
    if (allow !== allowAll) {
      const known = exceptions.find(same); // dev_exception_add merges the access of an equal key
      if (known) known.access |= ex.access;
      else exceptions.push(ex);
    } else {
      for (const e of exceptions.filter(same)) e.access &= ~ex.access; // dev_exception_rm
      exceptions = exceptions.filter((e) => e.access !== 0);
    }
  }
  const typeOf = (t: number) => (t === BLOCK ? "b" : "c");
  return (a: DeviceAccess): boolean => {
    const hits = (e: Exception, partial: boolean) =>
      (e.type === "a" || e.type === typeOf(a.type)) &&
      (e.major === -1 || e.major === a.major) &&
      (e.minor === -1 || e.minor === a.minor) &&
      (partial ? (a.access & e.access) !== 0 : (a.access & ~e.access) === 0);
    return allowAll ? !exceptions.some((e) => hits(e, true)) : exceptions.some((e) => hits(e, false));
  };
}

function program(rules: readonly DeviceRule[]): (a: DeviceAccess) => boolean {
  const bytes = compileDeviceFilter(rules);
  checkProgram(bytes);
  return (a) => runProgram(bytes, a).ret === 1;
}

/** Every interesting (type, major, minor, access): each number a rule names, its neighbours, and more. */
function grid(rules: readonly DeviceRule[]): DeviceAccess[] {
  const numbers = new Set([0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 136, 200, 229, 254, 259, 4095, 1048575]);
  for (const r of rules) for (const n of r.rule.match(/\d+/g) ?? []) for (const d of [-1, 0, 1]) if (Number(n) + d >= 0) numbers.add(Number(n) + d);
  const out: DeviceAccess[] = [];
  for (const type of [BLOCK, CHAR]) for (const major of numbers) for (const minor of numbers) for (const access of ACCESSES) out.push({ type, major, minor, access });
  return out;
}

const describeAccess = (a: DeviceAccess) => `${a.type === BLOCK ? "b" : "c"} ${a.major}:${a.minor} access ${a.access}`;

function expectSameAsV1(rules: readonly DeviceRule[]): number {
  const v1 = v1Cgroup(rules);
  const bpf = program(rules);
  const differ = grid(rules).filter((a) => v1(a) !== bpf(a)).map(describeAccess);
  expect(differ).toEqual([]);
  return grid(rules).length;
}

describe("cgroup v2 device program", () => {
  test("Docker's default rules: the program allows exactly what the v1 devices cgroup allows", () => {
    expect(expectSameAsV1(DOCKER_DEVICE_RULES)).toBeGreaterThanOrEqual(5000);
  });

  test("the concrete verdicts: a host disk refused, /dev/null and ptys allowed, mknod of anything allowed", () => {
    const allows = program(DOCKER_DEVICE_RULES);
    const sda = { type: BLOCK, major: 8, minor: 0 };
    expect(allows({ ...sda, access: R })).toBe(false);
    expect(allows({ ...sda, access: W })).toBe(false);
    expect(allows({ ...sda, access: R | W })).toBe(false);
    expect(allows({ ...sda, access: M })).toBe(true); // as Docker: the node may exist, never be opened
    expect(allows({ type: CHAR, major: 1, minor: 3, access: R | W })).toBe(true); // /dev/null
    expect(allows({ type: CHAR, major: 136, minor: 7, access: R | W })).toBe(true); // /dev/pts/7
    expect(allows({ type: CHAR, major: 10, minor: 229, access: R })).toBe(false); // /dev/fuse
    expect(allows({ type: CHAR, major: 1, minor: 1, access: R })).toBe(false); // /dev/mem
  });

  test("--device additions (after Docker's rules) allow that device with its permissions only", () => {
    const rules = [...DOCKER_DEVICE_RULES, deviceAllowRule("b", 7, 3, "rw"), deviceAllowRule("c", 10, 229, "r")];
    const n = expectSameAsV1(rules);
    const allows = program(rules);
    expect(allows({ type: BLOCK, major: 7, minor: 3, access: R | W })).toBe(true);
    expect(allows({ type: BLOCK, major: 7, minor: 4, access: R })).toBe(false);
    expect(allows({ type: CHAR, major: 10, minor: 229, access: R })).toBe(true);
    expect(allows({ type: CHAR, major: 10, minor: 229, access: W })).toBe(false);
    expect(n).toBeGreaterThanOrEqual(5000);
  });

  test("an allow-all list compiles to an accept, an empty one to a refusal", () => {
    const all = program([{ allow: true, rule: "a *:* rwm" }]);
    const none = program([]);
    for (const a of grid([])) {
      expect(all(a)).toBe(true);
      expect(none(a)).toBe(false);
    }
    expect(compileDeviceFilter([{ allow: true, rule: "a" }]).length).toBe(8 * 8); // 6 loads, mov, exit
  });

  test("random rule lists after deny-all: last match wins, as the rules read from the end", () => {
    const rule = fc.record({
      allow: fc.boolean(),
      type: fc.constantFrom("b", "c"),
      major: fc.constantFrom("*", "1", "8", "136"),
      minor: fc.constantFrom("*", "0", "3"),
      access: fc.subarray(["r", "w", "m"], { minLength: 1 }),
    });
    let runs = 0;
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 8 }), (list) => {
        runs++;
        const rules: DeviceRule[] = [{ allow: false, rule: "a" }, ...list.map((r) => ({ allow: r.allow, rule: `${r.type} ${r.major}:${r.minor} ${r.access.join("")}` }))];
        const bpf = program(rules);
        for (const type of [BLOCK, CHAR]) for (const major of [1, 8, 9, 136]) for (const minor of [0, 3, 4]) for (const access of ACCESSES) {
          // Read from the end, the first rule that covers the access decides; none: refused.
          let want = false;
          for (const r of [...list].reverse()) {
            const bits = r.access.reduce((s, c) => s | (c === "r" ? R : c === "w" ? W : M), 0);
            const key = (r.type === "b" ? BLOCK : CHAR) === type && (r.major === "*" || Number(r.major) === major) && (r.minor === "*" || Number(r.minor) === minor);
            if (key && (r.allow ? (access & ~bits) === 0 : (access & bits) !== 0)) {
              want = r.allow;
              break;
            }
          }
          expect(bpf({ type, major, minor, access })).toBe(want);
        }
      }),
      { numRuns: 300 },
    );
    expect(runs).toBe(300);
  });

  test("the interpreter refuses what the verifier would (so it can fail)", () => {
    const good = compileDeviceFilter(DOCKER_DEVICE_RULES);
    const noExit = good.slice(0, good.length - 8);
    expect(() => checkProgram(noExit)).toThrow(/past its last instruction/);
    const backwards = new Uint8Array(good);
    new DataView(backwards.buffer).setInt16(6 * 8 + 2, -3, true); // the first rule's jump
    expect(() => checkProgram(backwards)).toThrow(/backwards/);
    const unset = new Uint8Array(good);
    unset[0 * 8 + 1] = (1 << 4) | 6; // load into r6, so r2 is never set
    expect(() => checkProgram(unset)).toThrow(/reads r2/);
  });

  test("bad rules throw a ParseError naming the rule", () => {
    for (const rule of ["x 1:3 rwm", "c 1 rwm", "c 1:3 rwx", "c", "b 99999999999:1 r"]) {
      expect(() => parseDeviceRule({ allow: true, rule })).toThrow(`Cannot parse device rule "${rule}"`);
    }
  });
});

describe("v1DeviceWrites: the rules as written to a v1 devices cgroup", () => {
  const same = (rules: readonly DeviceRule[]) => {
    const full = v1Cgroup(rules);
    const written = v1Cgroup(v1DeviceWrites(rules));
    return grid(rules).filter((a) => full(a) !== written(a)).map(describeAccess);
  };

  test("Docker's list: the five allow rules runc repeats are not written again, and nothing else changes", () => {
    const written = v1DeviceWrites(DOCKER_DEVICE_RULES);
    expect(written).toHaveLength(DOCKER_DEVICE_RULES.length - 5);
    expect(new Set(written.map((d) => `${d.allow} ${d.rule}`)).size).toBe(written.length);
    expect(same(DOCKER_DEVICE_RULES)).toEqual([]);
  });

  test("a repeat after a deny of the same device, or after an \"a\" rule, is written", () => {
    const allowNull = { allow: true, rule: "c 1:3 rwm" };
    expect(v1DeviceWrites([allowNull, { allow: false, rule: "c 1:3 w" }, allowNull])).toHaveLength(3);
    expect(v1DeviceWrites([allowNull, { allow: false, rule: "a" }, allowNull])).toHaveLength(3);
    expect(v1DeviceWrites([allowNull, { allow: false, rule: "c 1:5 rwm" }, allowNull])).toHaveLength(2);
  });

  test("any sequence of rules: the kernel's v1 verdicts are the same with and without the left-out writes", () => {
    const rule = fc.record({
      allow: fc.boolean(),
      rule: fc.oneof(
        fc.constant("a"),
        fc.tuple(fc.constantFrom("b", "c"), fc.constantFrom("*", "1", "3", "5"), fc.constantFrom("*", "3", "5"), fc.constantFrom("r", "w", "m", "rw", "rwm")).map(([t, ma, mi, acc]) => `${t} ${ma}:${mi} ${acc}`),
      ),
    });
    fc.assert(fc.property(fc.array(rule, { maxLength: 12 }), (rules) => same(rules).length === 0), { numRuns: 300 });
  });
});
