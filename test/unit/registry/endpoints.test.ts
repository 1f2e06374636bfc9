import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/errors.ts";
import {
  DOCKER_HUB_URL,
  isInsecureRegistry,
  isLoopbackHost,
  parseMirror,
  resolveEndpoints,
  splitHostPort,
} from "../../../src/registry/endpoints.ts";

type Cfg = { registryMirrors: string[]; insecureRegistries: string[] };
const cfg = (c: Partial<Cfg> = {}): Cfg => ({ registryMirrors: [], insecureRegistries: [], ...c });
/** [base, mirror, insecureTls] per endpoint */
type Row = [string, boolean, boolean];

const good: [string, string, Cfg, Row[]][] = [
  ["Docker Hub alone", "docker.io", cfg(), [[DOCKER_HUB_URL, false, false]]],
  [
    "mirrors first, in order, scheme kept",
    "docker.io",
    cfg({ registryMirrors: ["http://127.0.0.1:5000", "https://mirror.example/"] }),
    [
      ["http://127.0.0.1:5000", true, false],
      ["https://mirror.example", true, false],
      [DOCKER_HUB_URL, false, false],
    ],
  ],
  ["mirror path prefix", "docker.io", cfg({ registryMirrors: ["https://m.example:8443/cache/hub/"] }), [["https://m.example:8443/cache/hub", true, false], [DOCKER_HUB_URL, false, false]]],
  ["insecure https mirror skips verification", "docker.io", cfg({ registryMirrors: ["https://10.0.0.5"], insecureRegistries: ["10.0.0.0/8"] }), [["https://10.0.0.5", true, true], [DOCKER_HUB_URL, false, false]]],
  ["mirrors are for docker.io only", "ghcr.io", cfg({ registryMirrors: ["http://127.0.0.1:5000"] }), [["https://ghcr.io", false, false]]],
  ["a registry with a port", "registry.example:5000", cfg(), [["https://registry.example:5000", false, false]]],
  ["localhost: HTTP first", "localhost:5000", cfg(), [["http://localhost:5000", false, false], ["https://localhost:5000", false, true]]],
  ["127.0.0.1", "127.0.0.1:5000", cfg(), [["http://127.0.0.1:5000", false, false], ["https://127.0.0.1:5000", false, true]]],
  ["anywhere in 127/8", "127.8.9.10", cfg(), [["http://127.8.9.10", false, false], ["https://127.8.9.10", false, true]]],
  ["::1", "[::1]:5000", cfg(), [["http://[::1]:5000", false, false], ["https://[::1]:5000", false, true]]],
  ["insecure by name: HTTPS then HTTP", "reg.lan:5000", cfg({ insecureRegistries: ["reg.lan:5000"] }), [["https://reg.lan:5000", false, true], ["http://reg.lan:5000", false, false]]],
  ["insecure name is case-insensitive, scheme tolerated", "Reg.LAN:5000", cfg({ insecureRegistries: ["http://reg.lan:5000/"] }), [["https://Reg.LAN:5000", false, true], ["http://Reg.LAN:5000", false, false]]],
  ["insecure by CIDR", "10.1.2.3:5000", cfg({ insecureRegistries: ["10.0.0.0/8"] }), [["https://10.1.2.3:5000", false, true], ["http://10.1.2.3:5000", false, false]]],
  ["IPv6 CIDR", "[fd00::1]:5000", cfg({ insecureRegistries: ["fd00::/8"] }), [["https://[fd00::1]:5000", false, true], ["http://[fd00::1]:5000", false, false]]],
  ["name does not match a port-less entry", "reg.lan:5000", cfg({ insecureRegistries: ["reg.lan"] }), [["https://reg.lan:5000", false, false]]],
  ["CIDR does not cover names", "reg.lan", cfg({ insecureRegistries: ["0.0.0.0/0"] }), [["https://reg.lan", false, false]]],
  ["CIDR miss", "11.1.2.3", cfg({ insecureRegistries: ["10.0.0.0/8"] }), [["https://11.1.2.3", false, false]]],
  ["a /32", "192.168.1.7:443", cfg({ insecureRegistries: ["192.168.1.7/32"] }), [["https://192.168.1.7:443", false, true], ["http://192.168.1.7:443", false, false]]],
];

const bad: [string, string, Cfg, RegExp][] = [
  ["path in registry", "evil.example/x", cfg(), /Cannot parse registry "evil.example\/x"/],
  ["query in registry", "evil.example?x", cfg(), /Cannot parse registry/],
  ["user info", "user@evil.example", cfg(), /Cannot parse registry/],
  ["empty", "", cfg(), /Cannot parse registry/],
  ["mirror without scheme", "docker.io", cfg({ registryMirrors: ["mirror.example"] }), /Cannot parse registry mirror "mirror.example"/],
  ["mirror ftp", "docker.io", cfg({ registryMirrors: ["ftp://mirror.example"] }), /scheme "ftp:"/],
  ["mirror with credentials", "docker.io", cfg({ registryMirrors: ["https://u:p@mirror.example"] }), /credentials/],
  ["mirror with query", "docker.io", cfg({ registryMirrors: ["https://mirror.example/?a=b"] }), /query/],
  ["bad CIDR", "10.1.2.3", cfg({ insecureRegistries: ["10.0.0.0/33"] }), /Cannot parse insecure registry "10.0.0.0\/33"/],
  ["CIDR of a name", "10.1.2.3", cfg({ insecureRegistries: ["reg.lan/8"] }), /Cannot parse insecure registry/],
];

describe("resolveEndpoints", () => {
  test.each(good)("%s", (_name, registry, config, want) => {
    const got = resolveEndpoints(registry, config).map((e): Row => [e.base, e.mirror, e.insecureTls]);
    expect(got).toEqual(want);
  });

  test.each(bad)("rejects %s", (_name, registry, config, reason) => {
    expect(() => resolveEndpoints(registry, config)).toThrow(ParseError);
    expect(() => resolveEndpoints(registry, config)).toThrow(reason);
  });

  test("credentials keys: docker.io for the Hub, the mirror's host for a mirror", () => {
    const eps = resolveEndpoints("docker.io", cfg({ registryMirrors: ["http://127.0.0.1:5000/p"] }));
    expect(eps.map((e) => e.credentialsKey)).toEqual(["127.0.0.1:5000", "docker.io"]);
    expect(resolveEndpoints("localhost:5000", cfg()).map((e) => e.credentialsKey)).toEqual(["localhost:5000", "localhost:5000"]);
  });
});

describe("host helpers", () => {
  test.each([
    ["localhost", true],
    ["LOCALHOST", true],
    ["foo.localhost", true],
    ["127.0.0.1", true],
    ["127.255.255.254", true],
    ["::1", true],
    ["[::1]", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["128.0.0.1", false],
    ["127.0.0.256", false],
    ["::2", false],
    ["localhost.example", false],
    ["10.0.0.1", false],
  ] as [string, boolean][])("isLoopbackHost(%p) = %p", (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });

  test.each([
    ["127.0.0.1:5000", { host: "127.0.0.1", port: "5000" }],
    ["reg.lan", { host: "reg.lan" }],
    ["[::1]:5000", { host: "::1", port: "5000" }],
    ["[fd00::1]", { host: "fd00::1" }],
  ] as [string, { host: string; port?: string }][])("splitHostPort(%p)", (text, want) => {
    expect(splitHostPort(text)).toEqual(want);
  });

  test("isInsecureRegistry with IPv4-mapped and compressed IPv6", () => {
    expect(isInsecureRegistry("[::ffff:10.1.1.1]:5000", ["::ffff:10.0.0.0/104"])).toBe(true);
    expect(isInsecureRegistry("[2001:db8::5]", ["2001:db8::/32"])).toBe(true);
    expect(isInsecureRegistry("[2001:db9::5]", ["2001:db8::/32"])).toBe(false);
    expect(isInsecureRegistry("10.1.2.3", ["fd00::/8"])).toBe(false);
  });

  test("parseMirror keeps scheme, host, port and path; drops trailing slashes", () => {
    expect(parseMirror("http://127.0.0.1:5000/")).toBe("http://127.0.0.1:5000");
    expect(parseMirror(" https://m.example/a/b// ")).toBe("https://m.example/a/b");
  });
});
