import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ParseError } from "../../../src/errors.ts";
import type { Rlimit } from "../../../src/runtime/plan.ts";
import { DEFAULT_ULIMITS, parseUlimit, parseUlimits, RLIMIT } from "../../../src/runtime/ulimit.ts";
import { recordCases } from "../../helpers/adversarial.ts";

describe("RLIMIT numbers (asm-generic/resource.h)", () => {
  test("all sixteen", () => {
    expect(RLIMIT).toEqual({
      cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7,
      memlock: 8, as: 9, locks: 10, sigpending: 11, msgqueue: 12, nice: 13, rtprio: 14, rttime: 15,
    });
  });
});

describe("parseUlimit: --ulimit as Docker parses it", () => {
  const good: [string, Rlimit][] = [
    ["nofile=1024", { resource: 7, soft: 1024, hard: 1024 }],
    ["nofile=1024:2048", { resource: 7, soft: 1024, hard: 2048 }],
    ["nproc=100:100", { resource: 6, soft: 100, hard: 100 }],
    ["core=0", { resource: 4, soft: 0, hard: 0 }],
    ["core=-1", { resource: 4, soft: -1, hard: -1 }],
    ["core=0:-1", { resource: 4, soft: 0, hard: -1 }],
    ["core=-1:-1", { resource: 4, soft: -1, hard: -1 }],
    ["cpu=10:20", { resource: 0, soft: 10, hard: 20 }],
    ["data=1048576", { resource: 2, soft: 1048576, hard: 1048576 }],
    ["fsize=+5", { resource: 1, soft: 5, hard: 5 }],
    ["locks=7", { resource: 10, soft: 7, hard: 7 }],
    ["memlock=-1:-1", { resource: 8, soft: -1, hard: -1 }],
    ["msgqueue=819200", { resource: 12, soft: 819200, hard: 819200 }],
    ["nice=0:20", { resource: 13, soft: 0, hard: 20 }],
    ["rss=1", { resource: 5, soft: 1, hard: 1 }],
    ["rtprio=99", { resource: 14, soft: 99, hard: 99 }],
    ["rttime=-1", { resource: 15, soft: -1, hard: -1 }],
    ["sigpending=63000", { resource: 11, soft: 63000, hard: 63000 }],
    ["stack=8388608:-1", { resource: 3, soft: 8388608, hard: -1 }],
    ["as=1073741824", { resource: 9, soft: 1073741824, hard: 1073741824 }],
    ["nofile=9007199254740991", { resource: 7, soft: 9007199254740991, hard: 9007199254740991 }],
    ["nofile=-0", { resource: 7, soft: 0, hard: 0 }],
  ];
  for (const [input, want] of good) test(`${input}`, () => expect(parseUlimit(input)).toEqual(want));

  const bad: [string, string][] = [
    ["nofile", "expected <type>=<soft limit>[:<hard limit>]"],
    ["", "expected <type>=<soft limit>[:<hard limit>]"],
    ["=10", 'unknown type ""'],
    ["NOFILE=10", 'unknown type "NOFILE"'],
    ["files=10", 'unknown type "files"'],
    ["toString=1", 'unknown type "toString"'],
    ["nofile=", 'soft limit "" is not an integer'],
    ["nofile=x", 'soft limit "x" is not an integer'],
    ["nofile=1.5", 'soft limit "1.5" is not an integer'],
    ["nofile=0x10", 'soft limit "0x10" is not an integer'],
    ["nofile=1 ", 'soft limit "1 " is not an integer'],
    ["nofile=10:", 'hard limit "" is not an integer'],
    ["nofile=10:y", 'hard limit "y" is not an integer'],
    ["nofile=1:2:3", "too many limit values"],
    ["nofile=2048:1024", "soft limit must be less than or equal to hard limit: 2048 > 1024"],
    ["nofile=-1:1024", "soft limit must be less than or equal to hard limit: unlimited > 1024"],
    ["nofile=-2", "soft limit must be -1 (unlimited) or at least 0"],
    ["nofile=1:-5", "hard limit must be -1 (unlimited) or at least 0"],
    ["nofile=99999999999999999999", 'soft limit "99999999999999999999" is out of range'],
  ];
  for (const [input, reason] of bad) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      expect(() => parseUlimit(input)).toThrow(ParseError);
      expect(() => parseUlimit(input)).toThrow(`Cannot parse ulimit "${input}": ${reason}`);
    });
  }

  test("property: never an untyped error; results keep soft ≤ hard", () => {
    const name = fc.constantFrom(...Object.keys(RLIMIT), "bogus");
    const num = fc.oneof(fc.integer({ min: -3, max: 1 << 30 }).map(String), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(name, num, fc.option(num, { nil: undefined }), (n, soft, hard) => {
        const input = `${n}=${soft}${hard === undefined ? "" : `:${hard}`}`;
        try {
          const r = parseUlimit(input);
          expect(r.soft).toBeGreaterThanOrEqual(-1);
          expect(r.hard).toBeGreaterThanOrEqual(-1);
          if (r.hard !== -1) expect(r.soft !== -1 && r.soft <= r.hard).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ParseError);
        }
      }),
    );
    recordCases("property unit/runtime/ulimit.test.ts: property: never an untyped error; results keep soft ≤ hard", 100);
  });
});

describe("parseUlimits", () => {
  test("Docker adds no rlimits of its own", () => expect(DEFAULT_ULIMITS).toEqual([]));
  test("a later flag for the same type wins; order of first appearance is kept", () => {
    expect(parseUlimits(["nofile=10", "nproc=5", "nofile=20:30"])).toEqual([
      { resource: 7, soft: 20, hard: 30 },
      { resource: 6, soft: 5, hard: 5 },
    ]);
  });
  test("flags override defaults", () => {
    expect(parseUlimits(["nofile=10"], [{ resource: 7, soft: 1024, hard: 4096 }, { resource: 4, soft: 0, hard: 0 }])).toEqual([
      { resource: 7, soft: 10, hard: 10 },
      { resource: 4, soft: 0, hard: 0 },
    ]);
  });
});
