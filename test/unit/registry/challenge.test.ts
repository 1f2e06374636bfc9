import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ParseError } from "../../../src/errors.ts";
import { findChallenge, parseChallenges, type Challenge } from "../../../src/registry/challenge.ts";
import { recordCases } from "../../helpers/adversarial.ts";

const good: [string, string, Challenge[]][] = [
  [
    "Docker Hub",
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
    [
      {
        scheme: "bearer",
        params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/busybox:pull" },
      },
    ],
  ],
  ["basic", 'Basic realm="Registry Realm"', [{ scheme: "basic", params: { realm: "Registry Realm" } }]],
  ["scheme case and param name case", 'BASIC Realm="x"', [{ scheme: "basic", params: { realm: "x" } }]],
  ["bare scheme", "Basic", [{ scheme: "basic", params: {} }]],
  ["token values", "Bearer realm=abc,service=svc.v1", [{ scheme: "bearer", params: { realm: "abc", service: "svc.v1" } }]],
  ["white space around =", 'Bearer realm = "x" , service= y', [{ scheme: "bearer", params: { realm: "x", service: "y" } }]],
  ["comma inside quotes", 'Bearer realm="x",scope="repository:a:pull,push"', [{ scheme: "bearer", params: { realm: "x", scope: "repository:a:pull,push" } }]],
  ["escapes", 'Basic realm="a \\"quoted\\" \\\\ word"', [{ scheme: "basic", params: { realm: 'a "quoted" \\ word' } }]],
  ["empty quoted value", 'Basic realm=""', [{ scheme: "basic", params: { realm: "" } }]],
  [
    "RFC 7235 example: two challenges",
    'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
    [
      { scheme: "newauth", params: { realm: "apps", type: "1", title: 'Login to "apps"' } },
      { scheme: "basic", params: { realm: "simple" } },
    ],
  ],
  [
    "joined headers (fetch joins repeated WWW-Authenticate with a comma)",
    'Bearer realm="https://t/token", Basic realm="r"',
    [
      { scheme: "bearer", params: { realm: "https://t/token" } },
      { scheme: "basic", params: { realm: "r" } },
    ],
  ],
  ["scheme without params, then another", 'Negotiate, Basic realm="x"', [{ scheme: "negotiate", params: {} }, { scheme: "basic", params: { realm: "x" } }]],
  ["token68", "Negotiate YIIB+w/xx==", [{ scheme: "negotiate", params: {}, token68: "YIIB+w/xx==" }]],
  ["token68 then challenge", "Negotiate abc, Basic realm=x", [{ scheme: "negotiate", params: {}, token68: "abc" }, { scheme: "basic", params: { realm: "x" } }]],
  ["empty list elements", ' , Basic realm="x" ,, ', [{ scheme: "basic", params: { realm: "x" } }]],
  ["error param", 'Bearer realm="r",error="insufficient_scope"', [{ scheme: "bearer", params: { realm: "r", error: "insufficient_scope" } }]],
];

const bad: [string, string, RegExp][] = [
  ["empty", "", /no challenge/],
  ["only commas", " , , ", /no challenge/],
  ["unterminated quote", 'Bearer realm="x', /unterminated quoted string/],
  ["dangling escape", 'Bearer realm="x\\', /unterminated quoted string/],
  ["missing value", 'Bearer realm="x",service=', /has no value/],
  ["missing value before comma (read as token68, then junk)", "Bearer realm=,service=x", /Cannot parse authentication challenge/],
  ["unquoted URL (\"/\" and \":\" are not token characters)", "Bearer realm=https://a/b", /after parameter "realm"/],
  ["junk after param", 'Bearer realm="x" service="y"', /after parameter "realm"/],
  ["duplicate param", 'Bearer realm="x",REALM="y"', /appears twice/],
  ["bad scheme character", '"Bearer" realm=x', /where a scheme should start/],
  ["junk glued to scheme", "Bearer(x)", /after scheme/],
  ["control character in quotes", 'Basic realm="a\x01b"', /control character/],
  ["junk after scheme", "Basic @@@", /after scheme "Basic"/],
];

describe("parseChallenges", () => {
  test.each(good)("%s", (_name, header, want) => {
    expect(parseChallenges(header)).toEqual(want);
  });

  test.each(bad)("rejects %s", (_name, header, reason) => {
    expect(() => parseChallenges(header)).toThrow(ParseError);
    expect(() => parseChallenges(header)).toThrow(reason);
  });

  test("error message names the input, one line, bounded", () => {
    const long = `Bearer realm="${"x".repeat(1000)}`;
    try {
      parseChallenges(long);
      throw new Error("no throw");
    } catch (err) {
      expect(err).toBeInstanceOf(ParseError);
      const m = (err as Error).message;
      expect(m).toStartWith('Cannot parse authentication challenge "Bearer realm=');
      expect(m.length).toBeLessThan(250);
    }
    expect(() => parseChallenges('Basic realm="\x1b[31m')).toThrow(/Basic realm="\?\[31m/);
  });

  test("never throws anything but ParseError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        try {
          parseChallenges(s);
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
    recordCases("property unit/registry/challenge.test.ts: never throws anything but ParseError", 2000);
  });

  test("round-trips quoted values", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }).filter((v) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(v)), (v) => {
        const quoted = `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
        expect(parseChallenges(`Bearer realm=${quoted},service=s`)).toEqual([{ scheme: "bearer", params: { realm: v, service: "s" } }]);
      }),
    );
    recordCases("property unit/registry/challenge.test.ts: round-trips quoted values", 100);
  });

  test("findChallenge is case-insensitive", () => {
    const cs = parseChallenges('Basic realm="a", Bearer realm="b"');
    expect(findChallenge(cs, "BEARER")?.params.realm).toBe("b");
    expect(findChallenge(cs, "digest")).toBeUndefined();
  });
});
