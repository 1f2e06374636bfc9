import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { InvalidArgumentError, ParseError } from "../../../src/errors.ts";
import {
  allCapabilities,
  CAP_LAST_KNOWN,
  capabilitiesForUser,
  capabilityMask,
  capabilityNames,
  CAPABILITY_NAMES,
  DEFAULT_CAPABILITIES,
  parseCapability,
  resolveCapabilities,
  type CapabilityRequest,
} from "../../../src/runtime/capabilities.ts";
import { recordCases } from "../../helpers/adversarial.ts";

const DEFAULT_MASK = 0x00000000a80425fbn;
const bit = (n: number) => 1n << BigInt(n);
const resolve = (r: Partial<CapabilityRequest>) => resolveCapabilities({ add: [], drop: [], privileged: false, lastCap: 40, ...r });

describe("capability numbers (linux/capability.h)", () => {
  const known: [string, number][] = [
    ["CAP_CHOWN", 0],
    ["CAP_DAC_OVERRIDE", 1],
    ["CAP_DAC_READ_SEARCH", 2],
    ["CAP_KILL", 5],
    ["CAP_SETPCAP", 8],
    ["CAP_NET_BIND_SERVICE", 10],
    ["CAP_NET_ADMIN", 12],
    ["CAP_NET_RAW", 13],
    ["CAP_SYS_MODULE", 16],
    ["CAP_SYS_CHROOT", 18],
    ["CAP_SYS_PTRACE", 19],
    ["CAP_SYS_ADMIN", 21],
    ["CAP_SYS_TIME", 25],
    ["CAP_MKNOD", 27],
    ["CAP_AUDIT_WRITE", 29],
    ["CAP_SETFCAP", 31],
    ["CAP_SYSLOG", 34],
    ["CAP_AUDIT_READ", 37],
    ["CAP_PERFMON", 38],
    ["CAP_BPF", 39],
    ["CAP_CHECKPOINT_RESTORE", 40],
  ];
  for (const [name, n] of known) test(`${name} = ${n}`, () => expect(parseCapability(name)).toBe(n));

  test("41 names, CAP_CHOWN … CAP_CHECKPOINT_RESTORE, all distinct", () => {
    expect(CAPABILITY_NAMES.length).toBe(41);
    expect(CAP_LAST_KNOWN).toBe(40);
    expect(new Set(CAPABILITY_NAMES).size).toBe(41);
  });

  test("names are accepted in any case, with or without CAP_", () => {
    for (const s of ["NET_ADMIN", "net_admin", "cap_net_admin", "Cap_Net_Admin", "CAP_NET_ADMIN"]) expect(parseCapability(s)).toBe(12);
  });

  for (const bad of ["CAP_FOO", "foo", "", "CAP_", "ALL", "NET ADMIN", "12"]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      expect(() => parseCapability(bad)).toThrow(ParseError);
      expect(() => parseCapability(bad)).toThrow(`Cannot parse capability "${bad}": unknown capability`);
    });
  }

  test("mask ↔ names round-trip", () => {
    expect(capabilityMask(DEFAULT_CAPABILITIES)).toBe(DEFAULT_MASK);
    expect(capabilityNames(DEFAULT_MASK)).toEqual([...DEFAULT_CAPABILITIES].sort((a, b) => parseCapability(a) - parseCapability(b)));
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 41n) - 1n }), (mask) => {
        expect(capabilityMask(capabilityNames(mask))).toBe(mask);
      }),
    );
    recordCases("property unit/runtime/capabilities.test.ts: mask ↔ names round-trip", 100);
  });
});

describe("resolveCapabilities: Docker's rules", () => {
  const rootSets = (set: bigint) => ({ bounding: set, effective: set, permitted: set, inheritable: 0n, ambient: 0n });

  const cases: [string, Partial<CapabilityRequest>, bigint][] = [
    ["defaults", {}, DEFAULT_MASK],
    ["--cap-add NET_ADMIN", { add: ["NET_ADMIN"] }, DEFAULT_MASK | bit(12)],
    ["--cap-add net_admin --cap-add SYS_PTRACE", { add: ["net_admin", "SYS_PTRACE"] }, DEFAULT_MASK | bit(12) | bit(19)],
    ["--cap-add of a default one changes nothing", { add: ["CHOWN"] }, DEFAULT_MASK],
    ["--cap-drop CHOWN", { drop: ["CHOWN"] }, DEFAULT_MASK & ~bit(0)],
    ["--cap-drop of one not held changes nothing", { drop: ["SYS_ADMIN"] }, DEFAULT_MASK],
    ["--cap-drop ALL", { drop: ["ALL"] }, 0n],
    ["--cap-drop all (any case)", { drop: ["all"] }, 0n],
    ["--cap-drop ALL --cap-add NET_BIND_SERVICE", { drop: ["ALL"], add: ["NET_BIND_SERVICE"] }, bit(10)],
    ["--cap-drop ALL --cap-drop CHOWN --cap-add CHOWN", { drop: ["ALL", "CHOWN"], add: ["CHOWN"] }, bit(0)],
    ["--cap-add ALL", { add: ["ALL"] }, (1n << 41n) - 1n],
    ["--cap-add ALL --cap-drop SYS_ADMIN", { add: ["ALL"], drop: ["SYS_ADMIN"] }, ((1n << 41n) - 1n) & ~bit(21)],
    ["--cap-add ALL --cap-drop ALL: add wins, as in moby", { add: ["ALL"], drop: ["ALL"] }, (1n << 41n) - 1n],
    ["--cap-add ALL --cap-add KILL --cap-drop KILL: the drop wins under ALL, as in moby", { add: ["ALL", "KILL"], drop: ["KILL"] }, ((1n << 41n) - 1n) & ~bit(5)],
    ["--cap-add SYS_ADMIN --cap-drop SYS_ADMIN: add wins, as in moby", { add: ["SYS_ADMIN"], drop: ["SYS_ADMIN"] }, DEFAULT_MASK | bit(21)],
    ["--privileged", { privileged: true }, (1n << 41n) - 1n],
    ["--privileged, cap_last_cap 38", { privileged: true, lastCap: 38 }, (1n << 39n) - 1n],
    ["--privileged --cap-drop ALL is still everything (moby checks privileged first)", { privileged: true, drop: ["ALL"] }, (1n << 41n) - 1n],
    ["cap_last_cap past what we can name", { privileged: true, lastCap: 63 }, (1n << 41n) - 1n],
  ];
  for (const [name, req, set] of cases) {
    test(`${name} → 0x${set.toString(16)}`, () => expect(resolve(req)).toEqual(rootSets(set)));
  }

  test("a non-root user gets the set as bounding only, as Docker's SetCapabilities", () => {
    expect(resolve({ uid: 1000 })).toEqual({ bounding: DEFAULT_MASK, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n });
    expect(resolve({ uid: 1000, add: ["NET_ADMIN"] }).bounding).toBe(DEFAULT_MASK | bit(12));
    expect(resolve({ uid: 0 })).toEqual(rootSets(DEFAULT_MASK));
    expect(capabilitiesForUser(DEFAULT_MASK, 0)).toEqual(rootSets(DEFAULT_MASK));
    expect(capabilitiesForUser(DEFAULT_MASK, 65534).effective).toBe(0n);
  });

  test("unknown names fail, even where ALL or --privileged would make them moot", () => {
    expect(() => resolve({ add: ["CAP_FOO"] })).toThrow('Cannot parse capability "CAP_FOO": unknown capability');
    expect(() => resolve({ drop: ["ALL"], add: ["bogus"] })).toThrow(ParseError);
    expect(() => resolve({ privileged: true, add: ["nope"] })).toThrow(ParseError);
  });

  test("a capability newer than the kernel is refused", () => {
    expect(() => resolve({ add: ["CHECKPOINT_RESTORE"], lastCap: 39 })).toThrow(InvalidArgumentError);
    expect(() => resolve({ add: ["BPF"], lastCap: 38 })).toThrow('Cannot use capability "BPF": not supported by this kernel (cap_last_cap is 38)');
    expect(resolve({ add: ["BPF"], lastCap: 39 }).bounding).toBe(DEFAULT_MASK | bit(39));
  });

  test("allCapabilities", () => {
    expect(allCapabilities(40)).toBe((1n << 41n) - 1n);
    expect(allCapabilities(0)).toBe(1n);
    expect(allCapabilities(-1)).toBe(0n);
  });

  test("property: the result is within the kernel's set, and root's three sets agree", () => {
    const name = fc.constantFrom(...CAPABILITY_NAMES, "ALL", "net_admin", "sys_admin");
    fc.assert(
      fc.property(fc.array(name, { maxLength: 5 }), fc.array(name, { maxLength: 5 }), fc.boolean(), fc.integer({ min: 40, max: 63 }), (add, drop, privileged, lastCap) => {
        const caps = resolveCapabilities({ add, drop, privileged, lastCap });
        expect(caps.bounding & ~allCapabilities(lastCap)).toBe(0n);
        expect(caps.effective).toBe(caps.bounding);
        expect(caps.permitted).toBe(caps.bounding);
        expect(caps.inheritable).toBe(0n);
        expect(caps.ambient).toBe(0n);
        // --cap-add ALL means "all but the drops" (an explicit add of a dropped one loses, as in moby).
        if (!add.includes("ALL")) for (const a of add) expect(caps.bounding & bit(parseCapability(a))).not.toBe(0n);
      }),
    );
    recordCases("property unit/runtime/capabilities.test.ts: property: the result is within the kernel's set, and root's three sets agree", 100);
  });
});
