import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import nodeNet from "node:net";
import { ParseError, TinydockError } from "../../../src/errors.ts";
import {
  exposedPortBindings,
  isIPv6,
  formatPortLine,
  parsePortFilter,
  parsePortSpec,
  parsePortSpecs,
  withPublishAll,
  type PortBinding,
} from "../../../src/network/portspec.ts";
import { recordCases } from "../../helpers/adversarial.ts";

const b = (hostIp: string, hostPort: number, containerPort: number, protocol: PortBinding["protocol"] = "tcp", hostPortEnd?: number): PortBinding =>
  hostPortEnd === undefined ? { hostIp, hostPort, containerPort, protocol } : { hostIp, hostPort, hostPortEnd, containerPort, protocol };

describe("parsePortSpec: good", () => {
  const cases: [string, PortBinding[]][] = [
    ["8080:80", [b("", 8080, 80)]],
    ["127.0.0.1:8080:80", [b("127.0.0.1", 8080, 80)]],
    ["0.0.0.0:8080:80", [b("", 8080, 80)]],
    ["127.0.0.1::80", [b("127.0.0.1", 0, 80)]],
    ["[::1]:8080:80", [b("::1", 8080, 80)]],
    ["[::]:8080:80/udp", [b("::", 8080, 80, "udp")]],
    ["8080:80/udp", [b("", 8080, 80, "udp")]],
    ["8080:80/tcp", [b("", 8080, 80)]],
    ["8080:80/TCP", [b("", 8080, 80)]],
    ["8080:80/sctp", [b("", 8080, 80, "sctp")]],
    ["8080-8081:80-81", [b("", 8080, 80), b("", 8081, 81)]],
    ["10.0.0.1:8080-8081:80-81/udp", [b("10.0.0.1", 8080, 80, "udp"), b("10.0.0.1", 8081, 81, "udp")]],
    ["8080-8090:80", [b("", 8080, 80, "tcp", 8090)]],
    ["80", [b("", 0, 80)]],
    ["80/udp", [b("", 0, 80, "udp")]],
    ["80-82", [b("", 0, 80), b("", 0, 81), b("", 0, 82)]],
    ["0:80", [b("", 0, 80)]],
    [":80", [b("", 0, 80)]],
    ["65535:1", [b("", 65535, 1)]],
    [" 8080:80 ", [b("", 8080, 80)]],
  ];
  for (const [spec, want] of cases) test(spec, () => expect(parsePortSpec(spec)).toEqual(want));
});

describe("parsePortSpec: bad", () => {
  const cases: [string, string][] = [
    ["80:x", 'Cannot parse port mapping "80:x": container port is not a number'],
    ["x:80", 'Cannot parse port mapping "x:80": host port is not a number'],
    ["", 'Cannot parse port mapping "": empty'],
    ["8080:", 'Cannot parse port mapping "8080:": no container port'],
    ["8080:0", 'Cannot parse port mapping "8080:0": container port must be between 1 and 65535'],
    ["8080:65536", 'Cannot parse port mapping "8080:65536": container port must be between 1 and 65535'],
    ["70000:80", 'Cannot parse port mapping "70000:80": host port must be between 0 and 65535'],
    ["8080:80/icmp", 'Cannot parse port mapping "8080:80/icmp": unknown protocol "icmp" (tcp, udp or sctp)'],
    ["8080:80-81", 'Cannot parse port mapping "8080:80-81": host port range 8080 and container port range 80-81 differ in length'],
    ["8080-8082:80-81", 'Cannot parse port mapping "8080-8082:80-81": host port range 8080-8082 and container port range 80-81 differ in length'],
    ["81-80", 'Cannot parse port mapping "81-80": container port range 81-80 ends before it starts'],
    ["1.2.3:8080:80", 'Cannot parse port mapping "1.2.3:8080:80": "1.2.3" is not an IP address'],
    ["localhost:8080:80", 'Cannot parse port mapping "localhost:8080:80": "localhost" is not an IP address'],
    ["[::1:8080:80", 'Cannot parse port mapping "[::1:8080:80": missing ] after the IPv6 address'],
    ["[::1]8080:80", 'Cannot parse port mapping "[::1]8080:80": expected : after the IPv6 address'],
    ["[::1]:80", 'Cannot parse port mapping "[::1]:80": expected [ip]:hostPort:containerPort'],
    ["[fe80::1%eth0]:8080:80", 'Cannot parse port mapping "[fe80::1%eth0]:8080:80": "fe80::1%eth0" is not an IP address'],
    ["+80", 'Cannot parse port mapping "+80": container port is not a number'],
    ["8e1", 'Cannot parse port mapping "8e1": container port is not a number'],
    ["0-5:80", 'Cannot parse port mapping "0-5:80": host port range cannot start at 0'],
  ];
  for (const [spec, message] of cases) {
    test(spec || "(empty)", () => {
      expect(() => parsePortSpec(spec)).toThrow(ParseError);
      expect(() => parsePortSpec(spec)).toThrow(message);
    });
  }
});

describe("parsePortSpecs, -P, port lines", () => {
  test("duplicates are merged, random ones kept", () => {
    expect(parsePortSpecs(["8080:80", "8080:80", "80", "80"])).toEqual([b("", 8080, 80), b("", 0, 80), b("", 0, 80)]);
  });
  test("-P: ExposedPorts keys, each on a random port", () => {
    expect(exposedPortBindings({ "80/tcp": {}, "53/udp": {}, "8000-8001/tcp": {} })).toEqual([
      b("", 0, 80), b("", 0, 53, "udp"), b("", 0, 8000), b("", 0, 8001),
    ]);
    expect(exposedPortBindings(undefined)).toEqual([]);
    expect(() => exposedPortBindings(["8080:80/tcp"])).toThrow(ParseError);
  });
  test("-p wins over -P for the same container port", () => {
    expect(withPublishAll([b("", 8080, 80)], exposedPortBindings({ "80/tcp": {}, "443/tcp": {} }))).toEqual([b("", 8080, 80), b("", 0, 443)]);
  });
  test("Docker's port format", () => {
    expect(formatPortLine(b("", 8080, 80))).toBe("80/tcp -> 0.0.0.0:8080");
    expect(formatPortLine(b("127.0.0.1", 8081, 53, "udp"))).toBe("53/udp -> 127.0.0.1:8081");
    expect(formatPortLine(b("::1", 8080, 80))).toBe("80/tcp -> [::1]:8080");
    expect(parsePortFilter("80")).toEqual({ containerPort: 80, protocol: "tcp" });
    expect(parsePortFilter("53/udp")).toEqual({ containerPort: 53, protocol: "udp" });
    expect(() => parsePortFilter("x/tcp")).toThrow('Cannot parse port mapping "x/tcp": container port is not a number');
  });
});

describe("properties", () => {
  test("any string: bindings or a ParseError, never another error", () => {
    const alphabet = fc.constantFrom(..."0123456789:-/[].abcdefptuxABCDEF% ".split(""));
    const specLike = fc.array(alphabet, { maxLength: 30 }).map((a) => a.join(""));
    fc.assert(
      fc.property(fc.oneof(fc.string(), specLike), (spec) => {
        try {
          const out = parsePortSpec(spec);
          for (const x of out) {
            expect(x.containerPort).toBeGreaterThanOrEqual(1);
            expect(x.containerPort).toBeLessThanOrEqual(65535);
            expect(x.hostPort).toBeGreaterThanOrEqual(0);
            expect(x.hostPort).toBeLessThanOrEqual(65535);
          }
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
          expect(err instanceof TinydockError).toBe(true);
          expect(err.message.startsWith("Cannot parse port mapping")).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
    recordCases("property unit/network/portspec.test.ts: any string: bindings or a ParseError, never another error", 3000);
  });

  test("ip:host:container/proto round-trips", () => {
    fc.assert(
      fc.property(
        fc.ipV4(),
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 1, max: 65535 }),
        fc.constantFrom("tcp", "udp", "sctp"),
        (ip, host, container, proto) => {
          const [got] = parsePortSpec(`${ip}:${host}:${container}/${proto}`);
          expect(got).toEqual({ hostIp: ip === "0.0.0.0" ? "" : ip, hostPort: host, containerPort: container, protocol: proto as PortBinding["protocol"] });
        },
      ),
    );
    recordCases("property unit/network/portspec.test.ts: ip:host:container/proto round-trips", 100);
  });

  test("equal-length ranges map port by port", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60000 }), fc.integer({ min: 1, max: 60000 }), fc.integer({ min: 0, max: 50 }), (h, c, n) => {
        const out = parsePortSpec(`${h}-${h + n}:${c}-${c + n}/udp`);
        expect(out.length).toBe(n + 1);
        out.forEach((x, i) => expect(x).toEqual(b("", h + i, c + i, "udp")));
      }),
    );
    recordCases("property unit/network/portspec.test.ts: equal-length ranges map port by port", 100);
  });
});

describe("runPortBindings", () => {
  test("bridge: -p and -P merged; host: dropped with Docker's warning; none: dropped; container: refused", async () => {
    const { runPortBindings } = await import("../../../src/network/portspec.ts");
    expect(runPortBindings({ publish: ["8080:80"], publishAll: true, exposedPorts: { "80/tcp": {}, "53/udp": {} }, networkMode: "bridge" })).toEqual({
      bindings: [b("", 8080, 80), b("", 0, 53, "udp")],
    });
    expect(runPortBindings({ publish: ["8080:80"], publishAll: false, networkMode: "host" })).toEqual({
      bindings: [],
      warning: "Published ports are discarded when using host network mode",
    });
    expect(runPortBindings({ publish: ["8080:80"], publishAll: false, networkMode: "none" })).toEqual({ bindings: [] });
    expect(() => runPortBindings({ publish: [], publishAll: true, networkMode: "container:web" })).toThrow(
      "conflicting options: port publishing and the container type network mode",
    );
    expect(runPortBindings({ publish: [], publishAll: false, networkMode: "container:web" })).toEqual({ bindings: [] });
    expect(() => runPortBindings({ publish: ["80:x"], publishAll: false, networkMode: "bridge" })).toThrow(ParseError);
  });
});

describe("isIPv6 (own code, node:net is the oracle)", () => {
  test("edge cases and random text agree with node:net's isIPv6", () => {
    const cases = ["::1", "::", "1::", "::ffff:1.2.3.4", "2001:db8::1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "1::2::3", "12345::", "1.2.3.4", "", ":::", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4", "g::1", ":1:2:3:4:5:6:7", "::ffff:1.2.3.256"];
    for (const c of cases) expect([c, isIPv6(c)]).toEqual([c, nodeNet.isIPv6(c)]);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(..."0123456789abcdefABCDEF:."), { maxLength: 24 }).map((a) => a.join("")), (s) => isIPv6(s) === nodeNet.isIPv6(s)),
      { numRuns: 20000 },
    );
    recordCases("property unit/network/portspec.test.ts: edge cases and random text agree with node:net's isIPv6", 20000);
    expect(isIPv6("fe80::1%eth0")).toBe(false);
  });
});
