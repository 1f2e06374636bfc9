import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ParseError, TinydockError } from "../../../src/errors.ts";
import { familiarName, familiarString, formatReference, parseReference } from "../../../src/image/reference.ts";
import { recordCases } from "../../helpers/adversarial.ts";

const D = `sha256:${"a".repeat(64)}`;

describe("parseReference: Docker's normalisation", () => {
  const good: [string, string][] = [
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest"],
    ["user/app", "docker.io/user/app:latest"],
    ["docker.io/busybox", "docker.io/library/busybox:latest"],
    ["index.docker.io/library/busybox:musl", "docker.io/library/busybox:musl"],
    ["registry-1.docker.io/user/app", "docker.io/user/app:latest"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost:5000/app:v1", "localhost:5000/app:v1"],
    ["127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app:latest"],
    ["[::1]:5000/app", "[::1]:5000/app:latest"],
    ["ghcr.io/org/sub/app:1.0.0-rc.1", "ghcr.io/org/sub/app:1.0.0-rc.1"],
    ["Example.COM/app", "Example.COM/app:latest"],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1.36@${D}`, `docker.io/library/busybox:1.36@${D}`],
    ["my_app/x__y/a-b--c.d", "docker.io/my_app/x__y/a-b--c.d:latest"],
    ["a:_tag", "docker.io/library/a:_tag"],
  ];
  for (const [input, want] of good) {
    test(`${input} → ${want}`, () => expect(formatReference(parseReference(input))).toBe(want));
  }

  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["Busybox", /^invalid reference format: repository name \(library\/Busybox\) must be lowercase$/],
    ["Bad:tag", /^invalid reference format: repository name \(library\/Bad\) must be lowercase$/],
    ["user/App", /^invalid reference format: repository name \(user\/App\) must be lowercase$/],
    ["localhost:5000/Foo", /\(Foo\) must be lowercase$/],
    ["busybox:", /invalid tag/],
    ["busybox:-x", /invalid tag/],
    [`busybox:${"t".repeat(129)}`, /invalid tag/],
    ["busybox@sha256:abc", /invalid digest/],
    [`busybox@sha512:${"a".repeat(128)}`, /invalid digest/],
    ["busy box", /white space/],
    ["/busybox", /repository path component ""/],
    ["busybox/", /repository path component ""/],
    ["a//b", /repository path component/],
    ["-x", /repository path component/],
    ["x_", /repository path component/],
    ["a...b", /repository path component/],
    ["host:port/app", /invalid registry/],
    ["a".repeat(64), /image ID/],
    [`x/${"a".repeat(260)}`, /longer than 255/],
    ["@" + D, /missing repository/],
  ];
  for (const [input, why] of bad) {
    test(`rejects ${JSON.stringify(input.slice(0, 40))}`, () => {
      let err: unknown;
      try {
        parseReference(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ParseError);
      expect((err as Error).message).toMatch(why);
      if (!/lowercase/.test(String(why))) expect((err as Error).message).toStartWith(`Cannot parse reference "${input}"`);
      expect((err as Error).message).not.toContain("\n");
    });
  }

  test("no default tag when asked", () => {
    expect(parseReference("busybox", { defaultTag: false }).tag).toBeUndefined();
  });

  test("familiar names as Docker shows them", () => {
    expect(familiarName(parseReference("busybox"))).toBe("busybox");
    expect(familiarName(parseReference("user/app"))).toBe("user/app");
    expect(familiarName(parseReference("127.0.0.1:5000/app"))).toBe("127.0.0.1:5000/app");
    expect(familiarString(parseReference(`busybox@${D}`))).toBe(`busybox@${D}`);
  });

  test("property: any string either parses to a reference that round-trips or throws ParseError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        try {
          const ref = parseReference(s);
          expect(parseReference(formatReference(ref))).toEqual(ref);
        } catch (err) {
          expect(err).toBeInstanceOf(TinydockError);
        }
      }),
      { numRuns: 2000 },
    );
    recordCases("property unit/image/reference.test.ts: property: any string either parses to a reference that round-trips or throws ParseError", 2000);
  });

  test("property: well-formed names round-trip", () => {
    const comp = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+){0,2}$/).filter((s) => s.length > 0 && s.length < 20 && !/^[a-f0-9]{64}$/.test(s));
    const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
    fc.assert(
      fc.property(fc.array(comp, { minLength: 1, maxLength: 3 }), tag, (parts, t) => {
        const ref = parseReference(`127.0.0.1:5000/${parts.join("/")}:${t}`);
        expect(ref.repository).toBe(parts.join("/"));
        expect(ref.tag).toBe(t);
        expect(parseReference(formatReference(ref))).toEqual(ref);
      }),
    );
    recordCases("property unit/image/reference.test.ts: property: well-formed names round-trip", 100);
  });
});
