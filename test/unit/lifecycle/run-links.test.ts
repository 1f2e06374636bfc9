// --volumes-from and --link's pure parts (lifecycle/run/links.ts) against what Docker's daemon does.
import { describe, expect, test } from "bun:test";
import { linkEnv, linkHost, mergeVolumesFrom, parseLink, parseVolumesFrom, relinkEnv, volumesFromMounts, withLinkEnv, type LinkedContainer } from "../../../src/lifecycle/run/links.ts";
import { applyRunFlags } from "../../../src/lifecycle/run/flags.ts";
import type { RunRequest } from "../../../src/lifecycle/run/request.ts";
import { list, str } from "../../../src/cli/values.ts";

describe("parseVolumesFrom", () => {
  test.each([
    ["data", { container: "data", readonly: false }],
    ["data:ro", { container: "data", readonly: true }],
    ["data:rw", { container: "data", readonly: false }],
    ["data:ro,z", { container: "data", readonly: true }],
  ])("%s", (spec, want) => expect(parseVolumesFrom(spec)).toEqual(want));
  test.each([
    ["", "volumes-from specification cannot be an empty string"],
    ["data:shared", "invalid mode: shared"],
    ["data:ro,rw", "invalid mode: ro,rw"],
    ["data:nocopy", "invalid mode: nocopy"],
  ])("%p refused", (spec, msg) => expect(() => parseVolumesFrom(spec)).toThrow(msg));
});

describe("volumesFromMounts and mergeVolumesFrom", () => {
  const mounts = [
    { Type: "bind", Source: "/h", Destination: "/b", RW: false },
    { Type: "volume", Name: "v1", Source: "/root/volumes/v1/_data", Destination: "/v", RW: true, Anonymous: false },
    { Type: "tmpfs", Source: "", Destination: "/t", RW: true },
  ];
  test("binds and volumes, not tmpfs; a read-only one stays so under :rw; never seeded again", () => {
    expect(volumesFromMounts(mounts, false)).toEqual([
      { type: "bind", source: "/h", target: "/b", readonly: true },
      { type: "volume", name: "v1", target: "/v", readonly: false, nocopy: true },
    ]);
    expect(volumesFromMounts(mounts, true).every((v) => v.type !== "tmpfs" && v.readonly)).toBe(true);
  });
  test("the run's own mounts win at a destination; a later --volumes-from over an earlier", () => {
    const own = [{ type: "volume" as const, name: "mine", target: "/v", readonly: false, nocopy: false }];
    const from = [...volumesFromMounts(mounts, false), { type: "bind" as const, source: "/h2", target: "/b", readonly: false }];
    expect(mergeVolumesFrom(own, from)).toEqual([{ type: "bind", source: "/h2", target: "/b", readonly: false }, ...own]);
  });
});

describe("parseLink", () => {
  test.each([
    ["web", { name: "web", alias: "web" }],
    ["web:db", { name: "web", alias: "db" }],
    ["/web:/me/db", { name: "web", alias: "db" }],
  ])("%s", (spec, want) => expect(parseLink(spec)).toEqual(want));
  test.each([
    ["", "empty string specified for links"],
    ["a:b:c", "bad format for links: a:b:c"],
    ["web:bad alias", "Invalid link alias (bad alias)"],
    ["web:x\n1.2.3.4 evil", "Invalid link alias"],
  ])("%p refused", (spec, msg) => expect(() => parseLink(spec)).toThrow(msg));
});

describe("linkEnv and linkHost", () => {
  const l: LinkedContainer = { name: "/web", linkName: "/me/my-db", ip: "172.17.0.2", hostname: "abc123", ports: ["8080/tcp"], env: ["PATH=/bin", "HOME=/root", "FOO=bar=baz", "NOVALUE"] };
  test("Docker's variables: the default port, each port's four, NAME, the other's env but HOME and PATH", () => {
    expect(linkEnv(l)).toEqual([
      "MY_DB_PORT=tcp://172.17.0.2:8080",
      "MY_DB_PORT_8080_TCP=tcp://172.17.0.2:8080",
      "MY_DB_PORT_8080_TCP_ADDR=172.17.0.2",
      "MY_DB_PORT_8080_TCP_PORT=8080",
      "MY_DB_PORT_8080_TCP_PROTO=tcp",
      "MY_DB_NAME=/me/my-db",
      "MY_DB_ENV_FOO=bar=baz",
    ]);
  });
  test("the lowest port is the default (tcp first on a tie); three in a row are also a range", () => {
    const env = linkEnv({ ...l, env: [], ports: ["7002/tcp", "53/udp", "53/tcp", "7000/tcp", "7001/tcp"] });
    expect(env[0]).toBe("MY_DB_PORT=tcp://172.17.0.2:53");
    expect(env).toContain("MY_DB_PORT_7000_TCP_START=tcp://172.17.0.2:7000");
    expect(env).toContain("MY_DB_PORT_7000_TCP_END=tcp://172.17.0.2:7002");
    expect(env).toContain("MY_DB_PORT_7000_TCP_PORT_END=7002");
    expect(env.filter((e) => e.endsWith("_START=53") || e.includes("_53_TCP_START"))).toEqual([]);
    expect(env.filter((e) => /_PROTO=/.test(e)).length).toBe(6);
  });
  test("the hosts line: alias, hostname, and the name when the alias is not it", () => {
    expect(linkHost(l)).toEqual({ host: "my-db abc123 web", ip: "172.17.0.2" });
    expect(linkHost({ ...l, linkName: "/me/web" })).toEqual({ host: "web abc123", ip: "172.17.0.2" });
  });
  test("the container's own variables win over a link's", () => {
    expect(withLinkEnv(["A=1", "MY_DB_NAME=x"], ["MY_DB_NAME=/me/my-db", "MY_DB_PORT=p"])).toEqual(["A=1", "MY_DB_NAME=x", "MY_DB_PORT=p"]);
  });
});

test("relinkEnv: an earlier start's link variables give way to this start's; the container's own -e keeps its value", () => {
  const saved = ["PATH=/bin", "MY_DB_PORT=tcp://10.0.0.2:80", "MY_DB_NAME=/me/my-db", "MY_DB_ENV_X=mine", "OTHER_PORT=1"];
  const config = ["PATH=/bin", "MY_DB_ENV_X=mine"];
  expect(relinkEnv(saved, config, ["/db:/me/my-db"], ["MY_DB_PORT=tcp://10.0.0.9:80", "MY_DB_NAME=/me/my-db", "MY_DB_ENV_X=theirs"])).toEqual([
    "PATH=/bin",
    "MY_DB_ENV_X=mine",
    "OTHER_PORT=1",
    "MY_DB_PORT=tcp://10.0.0.9:80",
    "MY_DB_NAME=/me/my-db",
  ]);
});

describe("applyRunFlags", () => {
  const req = (mode = "bridge") => ({ network: { mode }, process: {}, resources: {}, security: {}, lifetime: {}, ports: {}, namespaces: {} }) as unknown as RunRequest;
  test("--volumes-from is HostConfig.VolumesFrom as given; --link parsed", () => {
    const r = req();
    applyRunFlags(r, { "volumes-from": ["a", "b:ro"], link: ["web:db"] }, { list, str });
    expect(r.hostConfig?.VolumesFrom).toEqual(["a", "b:ro"]);
    expect(r.links).toEqual([{ name: "web", alias: "db" }]);
  });
  test("--link with host or container networking refused", () => {
    expect(() => applyRunFlags(req("host"), { link: ["web"] }, { list, str })).toThrow("host type networking can't be used with links");
    expect(() => applyRunFlags(req("container:x"), { link: ["web"] }, { list, str })).toThrow("container type network can't be used with links");
  });
});
