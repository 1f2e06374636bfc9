import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/errors.ts";
import { compileTemplate, goString } from "../../../src/cli/template.ts";
import { containerRow, ellipsis, goTime, portsText, statusText, tableCells } from "../../../src/cli/views/containers.ts";
import { matchesFilters, NO_FILTERS, parseFilters, selectContainers } from "../../../src/cli/views/container-filters.ts";
import type { ContainerRecord } from "../../../src/store/containers.ts";
import type { LiveContainer } from "../../../src/lifecycle/live.ts";
import { liveState, ZERO_TIME, type RunRecord } from "../../../src/lifecycle/state.ts";

const NOW = Date.parse("2026-11-23T22:10:00Z");
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

function live(name: string, createdAgo: number, run: Partial<RunRecord> | undefined, extra: Partial<ContainerRecord> = {}, frozen = false): LiveContainer {
  const id = (name.charCodeAt(0).toString(16) + "0".repeat(64)).slice(0, 64);
  const record: ContainerRecord = {
    id,
    name,
    image: "busybox",
    imageId: "sha256:x",
    created: ago(createdAgo),
    args: ["sleep", "1000"],
    hostname: "h",
    state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
    ...extra,
  };
  const r = run && ({ status: "running", pid: 10, startedAt: ago(3), finishedAt: ZERO_TIME, ...run } as RunRecord);
  return { record, run: r, state: liveState(record, r, { supervisorAlive: true, frozen, removing: false, locked: false }) };
}

const bridge = {
  mode: "bridge",
  netns: "new" as const,
  joinNamespaces: [],
  endpoint: { networkName: "bridge", networkId: "n1", ipAddress: "10.0.0.2", prefixLen: 24, subnet: "10.0.0.0/24", gateway: "10.0.0.1", macAddress: "", bridge: "br", hostVeth: "td", aliases: [] },
};
const web = live("web", 120, {}, { labels: { app: "web", tier: "front" }, ports: [{ hostIp: "0.0.0.0", hostPort: 8080, containerPort: 80, protocol: "tcp" }], network: bridge });
const job = live("job", 300, { status: "exited", exitCode: 3, finishedAt: ago(120) }, { labels: { app: "job" } });
const fresh = live("fresh", 5, undefined);
const frozen = live("frozen", 60, {}, {}, true);
const again = live("again", 30, { status: "restarting", exitCode: 1, finishedAt: ago(2) });

describe("STATUS, as Docker's State.String()", () => {
  test.each([
    [web, "Up 3 seconds"],
    [job, "Exited (3) 2 minutes ago"],
    [fresh, "Created"],
    [frozen, "Up 3 seconds (Paused)"],
    [again, "Restarting (1) 2 seconds ago"],
  ])("%#", (c, want) => expect(statusText(c.state, NOW)).toBe(want));
  test("less than a second, about a minute, hours", () => {
    const s = { ...web.state, StartedAt: ago(0) };
    expect(statusText(s, NOW)).toBe("Up Less than a second");
    expect(statusText({ ...s, StartedAt: ago(70) }, NOW)).toBe("Up About a minute");
    expect(statusText({ ...s, StartedAt: ago(3 * 3600) }, NOW)).toBe("Up 3 hours");
  });
});

describe("ps rows", () => {
  test("Docker's columns: quoted, ellipsised command; created; ports; names", () => {
    const row = containerRow(web, { noTrunc: false, now: NOW, command: () => "sh -c 'while true; do echo hi; sleep 1; done'" });
    expect(row.ID).toBe(web.record.id.slice(0, 12));
    expect(row.Command).toBe('"sh -c \'while true; …"');
    expect(row.RunningFor).toBe("2 minutes ago");
    expect(row.Ports).toBe("0.0.0.0:8080->80/tcp");
    expect(row.Names).toBe("web");
    expect(row.State).toBe("running");
    expect(row.Labels).toBe("app=web,tier=front");
    expect(row.CreatedAt).toBe(goTime(web.record.created));
    expect(containerRow(web, { noTrunc: true, now: NOW, command: () => "sleep 1000" }).ID).toBe(web.record.id);
  });
  test("PORTS: a running container's bindings, then its image's unpublished EXPOSE; none when stopped or off a bridge", () => {
    const row = (c: LiveContainer, exposed: string[]) => containerRow(c, { noTrunc: false, now: NOW, command: () => "", exposedPorts: () => exposed }).Ports;
    expect(row(web, ["80/tcp", "443", "53/udp"])).toBe("53/udp, 443/tcp, 0.0.0.0:8080->80/tcp");
    const stopped = live("gone", 60, { status: "exited", exitCode: 0, finishedAt: ago(1) }, { ports: web.record.ports!, network: bridge });
    expect(row(stopped, ["80/tcp"])).toBe("");
    expect(row(frozen, ["80/tcp"])).toBe(""); // --network none
  });
  test("the default table's cells are containerRow's columns, and look up exposed ports only for a container that can show them", () => {
    const asked: string[] = [];
    for (const c of [web, job, fresh, frozen, again]) {
      for (const noTrunc of [false, true]) {
        const o = { noTrunc, now: NOW, command: () => "sh -c 'echo hi there'", exposedPorts: (r: { name: string }) => (asked.push(r.name), ["443"]) };
        const row = containerRow(c, o);
        expect(tableCells(c, o)).toEqual([row.ID, row.Image, row.Command, row.RunningFor, row.Status, row.Ports, row.Names]);
      }
    }
    expect([...new Set(asked)]).toEqual(["web"]);
  });
  test.each([
    [[{ containerPort: 8001 }, { containerPort: 8000 }, { containerPort: 8003 }], "8000-8001/tcp, 8003/tcp"],
    [[{ hostIp: "0.0.0.0", hostPort: 80, containerPort: 80 }, { hostIp: "0.0.0.0", hostPort: 81, containerPort: 81 }], "0.0.0.0:80-81->80-81/tcp"],
    [[{ hostIp: "::", hostPort: 8080, containerPort: 80 }, { containerPort: 9000, protocol: "udp" }], "9000/udp, [::]:8080->80/tcp"],
    [[{ hostIp: "127.0.0.1", hostPort: 9090, containerPort: 90 }, { hostIp: "", hostPort: 8080, containerPort: 80 }], "0.0.0.0:8080->80/tcp, 127.0.0.1:9090->90/tcp"],
  ])("PORTS as DisplayablePorts: %p", (ports, want) => expect(portsText(ports)).toBe(want));
  test("ellipsis counts characters and ports without a host side", () => {
    expect(ellipsis("abcdef", 6)).toBe("abcdef");
    expect(ellipsis("abcdefg", 6)).toBe("abcde…");
    expect(portsText([{ containerPort: 53, protocol: "udp" }])).toBe("53/udp");
    expect(portsText([{ hostIp: "", hostPort: 8080, containerPort: 80, protocol: "tcp" }])).toBe("0.0.0.0:8080->80/tcp");
    expect(portsText([{ hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, protocol: "tcp" }])).toBe("127.0.0.1:8080->80/tcp");
    expect(goTime("2026-11-23T22:00:00.123Z")).toBe("2026-11-23 22:00:00 +0000 UTC");
  });
  test("default lists running, paused and restarting, newest first; -a all; -n last", () => {
    const all = [web, job, fresh, frozen, again];
    expect(selectContainers(all, { all: false, filters: NO_FILTERS }).map((c) => c.record.name)).toEqual(["again", "frozen", "web"]);
    expect(selectContainers(all, { all: true, filters: NO_FILTERS }).map((c) => c.record.name)).toEqual(["fresh", "again", "frozen", "web", "job"]);
    expect(selectContainers(all, { all: false, last: 2, filters: NO_FILTERS }).map((c) => c.record.name)).toEqual(["fresh", "again"]);
  });
  test("filters: status implies -a; same key OR, keys AND; name is a regexp on the name with or without /; label key or key=value", () => {
    const all = [web, job, fresh, frozen, again];
    const names = (specs: string[]) => selectContainers(all, { all: false, filters: parseFilters(specs) }).map((c) => c.record.name);
    expect(names(["status=exited"])).toEqual(["job"]);
    expect(names(["status=exited", "status=created"])).toEqual(["fresh", "job"]);
    expect(names(["name=^/we"])).toEqual(["web"]);
    expect(names(["name=o"])).toEqual(["frozen"]);
    expect(names(["label=app"])).toEqual(["web"]);
    expect(selectContainers(all, { all: true, filters: parseFilters(["label=app=job"]) }).map((c) => c.record.name)).toEqual(["job"]);
    expect(selectContainers(all, { all: true, filters: parseFilters(["label=app", "label=tier=front"]) }).map((c) => c.record.name)).toEqual(["web"]);
    expect(names(["id=" + web.record.id.slice(0, 4)])).toEqual(["web"]);
    expect(names(["exited=3"])).toEqual([]); // exited= does not imply -a (Docker's list.go)
    expect(selectContainers(all, { all: true, filters: parseFilters(["exited=3"]) }).map((c) => c.record.name)).toEqual(["job"]);
    expect(matchesFilters(job, parseFilters(["exited=0"]))).toBe(false);
    const anc = (ids: string[]) => selectContainers(all, { all: false, filters: parseFilters(["ancestor=x"]), ancestorImages: new Set(ids) }).map((c) => c.record.name);
    expect(anc(["sha256:x"])).toEqual(["again", "frozen", "web"]);
    expect(anc([])).toEqual([]);
  });
  test("bad filters in Docker's words", () => {
    expect(() => parseFilters(["bogus=1"])).toThrow("invalid filter 'bogus'");
    expect(() => parseFilters(["status=sleeping"])).toThrow("invalid filter 'status=sleeping'");
    expect(() => parseFilters(["status"])).toThrow('invalid argument "status" for "-f, --filter" flag: bad format of filter (expected name=value)');
  });
});

describe("Go templates", () => {
  const obj = { State: { Status: "running", Pid: 7, Running: true }, Name: "/web", Config: { Labels: { "a.b": "c" }, Cmd: ["sleep", "1"], Env: null }, Mounts: [] };
  test.each([
    ["{{.State.Status}}", "running"],
    ["{{ .State.Pid }} {{.Name}}", "7 /web"],
    ["{{json .State}}", '{"Status":"running","Pid":7,"Running":true}'],
    ["{{index .Config.Labels \"a.b\"}}", "c"],
    ["{{.Config.Cmd}}", "[sleep 1]"],
    ["{{join .Config.Cmd \",\"}}", "sleep,1"],
    ["{{.Config.Env}}", "<nil>"],
    ["{{.Nope}}", "<no value>"],
    ["{{.State}}", "map[Pid:7 Running:true Status:running]"],
    ["{{len .Mounts}}|{{upper .Name}}", "0|/WEB"],
    ["a\\tb", "a\tb"],
    ['{{join .Config.Cmd "\\t"}}', "sleep\t1"],
    ['{{join .Config.Cmd "\\u0041"}}', "sleepA1"],
  ])("%s", (format, want) => expect(compileTemplate(format)(obj)).toBe(want));
  test("errors are ParseErrors naming the template", () => {
    expect(() => compileTemplate("{{.State")).toThrow('Cannot parse template "{{.State": template: :1: unclosed action');
    expect(() => compileTemplate("{{frobnicate .X}}")(obj)).toThrow('function "frobnicate" not defined');
    // A string with an escape Go has not: a ParseError, not JSON.parse's SyntaxError.
    expect(() => compileTemplate('{{index .Config.Labels "\\q"}}')(obj)).toThrow(ParseError);
    expect(() => compileTemplate('{{index .Config.Labels "\\q"}}')(obj)).toThrow('Cannot parse template "{{index .Config.Labels "\\q"}}": template: :1: invalid syntax');
    expect(() => compileTemplate('{{join .Config.Cmd "\\u12"}}')(obj)).toThrow(ParseError);
  });
  test("goString", () => expect(goString([1, "a", true, { b: 2 }])).toBe("[1 a true map[b:2]]"));
});
