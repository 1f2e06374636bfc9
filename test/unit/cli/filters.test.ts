// Docker's filter semantics as tables: the flag's parsing, the matchers of api/types/filters, the
// ps checks of daemon/list.go and the images checks of daemon/images/images.go, and the listing
// formats with Docker's header names.
import { describe, expect, test } from "bun:test";
import {
  boolFilter,
  filterTimestamp,
  matchAny,
  matchLabels,
  parseFilterArgs,
  pathGlob,
  portFilterSet,
  validateFilterKeys,
} from "../../../src/cli/filters.ts";
import { renderListing } from "../../../src/cli/listing.ts";
import { renderTable } from "../../../src/cli/template.ts";
import { parseFilters, selectContainers } from "../../../src/cli/views/container-filters.ts";
import { imageMatches, parseImageFilters, referenceMatches, visibleTags, withDescendants } from "../../../src/cli/views/image-filters.ts";
import type { LiveContainer } from "../../../src/lifecycle/live.ts";
import { liveState, ZERO_TIME } from "../../../src/lifecycle/state.ts";
import type { ContainerRecord, ListedRecord } from "../../../src/store/containers.ts";

describe("the --filter flag and Docker's matchers", () => {
  test("key lower-cased and trimmed, value trimmed, repeats dropped, no = is pflag's error", () => {
    expect([...parseFilterArgs([" Name = web ", "name=web", "name=db", ""])]).toEqual([["name", ["web", "db"]]]);
    expect(() => parseFilterArgs(["name"])).toThrow('invalid argument "name" for "-f, --filter" flag: bad format of filter (expected name=value)');
    expect(() => validateFilterKeys(parseFilterArgs(["nope=1"]), ["name"])).toThrow("invalid filter 'nope'");
  });
  test.each([
    [["web"], "/web", true],
    [["^web$"], "/web", false],
    [["^/web$"], "/web", true],
    [["w.b"], "web", true],
    [["(("], "((", true], // exact match before the regexp
    [["(("], "x((", false], // a pattern that does not compile matches nothing else
  ])("Match %p on %p", (values, source, want) => expect(matchAny(values, source)).toBe(want));
  test.each([
    [["a"], { a: "1" }, true],
    [["a=1"], { a: "1" }, true],
    [["a=2"], { a: "1" }, false],
    [["a", "b"], { a: "1" }, false],
    [["a="], { a: "" }, true],
    [["a"], {}, false],
    [[], {}, true],
  ])("MatchKVList %p over %p", (values, labels, want) => expect(matchLabels(values, labels)).toBe(want));
  test("GetBoolOrDefault", () => {
    expect(boolFilter(parseFilterArgs(["dangling=true"]), "dangling")).toBe(true);
    expect(boolFilter(parseFilterArgs(["dangling=0"]), "dangling")).toBe(false);
    expect(boolFilter(parseFilterArgs([]), "dangling")).toBeUndefined();
    expect(() => boolFilter(parseFilterArgs(["dangling=true", "dangling=false"]), "dangling")).toThrow("invalid filter 'dangling=[true false]'");
    expect(() => boolFilter(parseFilterArgs(["dangling=yes"]), "dangling")).toThrow("invalid filter 'dangling=[yes]'");
  });
  test("port filters: port, port/proto, ranges; ':' refused", () => {
    expect([...portFilterSet("publish", ["80"])]).toEqual(["80/tcp"]);
    expect([...portFilterSet("publish", ["53/udp", "8000-8002/tcp"])]).toEqual(["53/udp", "8000/tcp", "8001/tcp", "8002/tcp"]);
    expect(() => portFilterSet("publish", ["1.2.3.4:80"])).toThrow("filter for 'publish' should not contain ':': 1.2.3.4:80");
    expect(() => portFilterSet("expose", ["x"])).toThrow("error while looking up for expose x");
    expect(() => portFilterSet("expose", ["90-80"])).toThrow("invalid port range");
  });
  test.each([
    ["busy*", "busybox", true],
    ["busy*", "library/busybox", false],
    ["*:latest", "busybox:latest", true],
    ["*/*", "a/b", true],
    ["b?sybox", "busybox", true],
    ["[a-c]usybox", "busybox", true],
    ["[^a-c]usybox", "busybox", false],
    ["a\\*", "a*", true],
    ["a.b", "axb", false],
  ])("path.Match(%p, %p)", (pattern, s, want) => expect(pathGlob(pattern).test(s)).toBe(want));
  test("bad globs are Go's syntax error", () => {
    expect(() => pathGlob("[abc")).toThrow("syntax error in pattern");
    expect(() => pathGlob("abc\\")).toThrow("syntax error in pattern");
  });
  test("timestamps: durations back from now, dates, unix seconds", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(filterTimestamp("1h30m", now)).toBe(now - 5_400_000);
    expect(filterTimestamp("2025-12-31", now)).toBe(Date.parse("2025-12-31T00:00:00Z"));
    expect(filterTimestamp("1700000000", now)).toBe(1_700_000_000_000);
    expect(() => filterTimestamp("yesterday", now)).toThrow('failed to parse value as time or duration: "yesterday"');
  });
});

const T0 = Date.parse("2026-11-23T22:00:00Z");
function live(name: string, n: number, status: "running" | "exited" | "created", extra: Partial<ContainerRecord> = {}, exitCode = 0): LiveContainer {
  const record: ContainerRecord = {
    id: `${name.padEnd(4, "0").slice(0, 4).replace(/[^a-f0-9]/g, "f")}${String(n).padStart(60, "0")}`,
    name,
    image: "busybox",
    imageId: "sha256:bb",
    created: new Date(T0 + n * 1000).toISOString(),
    args: [],
    hostname: "h",
    state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
    ...extra,
  };
  const run =
    status === "created" ? undefined : { status, pid: 10, exitCode, startedAt: new Date(T0).toISOString(), finishedAt: status === "exited" ? new Date(T0).toISOString() : ZERO_TIME };
  return { record, run: run as never, state: liveState(record, run as never, { supervisorAlive: true, frozen: false, removing: false, locked: false }) };
}

const endpoint = (networkName: string, networkId: string) => ({
  networkName,
  networkId,
  ipAddress: "10.0.0.2",
  prefixLen: 24,
  subnet: "10.0.0.0/24",
  gateway: "10.0.0.1",
  macAddress: "",
  bridge: "br",
  hostVeth: "td",
  aliases: [],
});
const ALL = [
  live("web", 1, "running", {
    ports: [{ hostIp: "", hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    mounts: [{ Type: "volume", Name: "v1", Source: "/x", Destination: "/data" }],
    network: { mode: "bridge", netns: "new", joinNamespaces: [], endpoint: endpoint("bridge", "abc123") },
  }),
  live("db", 2, "running", { mounts: [{ Type: "bind", Source: "/srv", Destination: "/var/lib" }], network: { mode: "none", netns: "new", joinNamespaces: [] } }),
  live("job", 3, "exited", { imageId: "sha256:cc" }, 3),
  live("new", 4, "created"),
  live("dad", 5, "running", { imageId: "sha256:cc" }),
];
const pick = (specs: string[], all = false, extra: { ancestorImages?: Set<string>; exposedPorts?: (c: LiveContainer<ListedRecord>) => string[] } = {}) =>
  selectContainers(ALL, { all, filters: parseFilters(specs), ...extra }).map((c) => c.record.name);

describe("ps filters (daemon/list.go)", () => {
  test.each([
    [["name=web"], false, ["web"]],
    [["name=^web$"], false, ["web"]],
    [["name=^/web$"], false, ["web"]],
    [["before=job"], true, ["db", "web"]],
    [["since=db"], true, ["dad", "new", "job"]],
    [["since=db"], false, ["dad"]],
    [["since=db", "before=dad"], true, ["new", "job"]],
    [["exited=3"], false, []],
    [["exited=3"], true, ["job"]],
    [["exited=0"], true, []], // a created container never exited
    [["status=created", "status=exited"], false, ["new", "job"]],
    [["health=none"], false, ["dad", "db", "web"]],
    [["health=starting"], false, []],
    [["volume=/data"], false, ["web"]],
    [["volume=v1"], false, ["web"]],
    [["volume=/srv"], false, ["db"]],
    [["volume=/x"], false, []], // a named volume goes by its name, not its source
    [["network=bridge"], false, ["web"]],
    [["network=abc"], false, ["web"]],
    [["network=none"], false, ["db"]],
    [["publish=8080"], false, ["web"]],
    [["publish=8000-9000/tcp"], false, ["web"]],
    [["publish=80"], false, []],
    [["expose=80"], false, ["web"]],
    [["is-task=true"], false, []],
    [["is-task=false"], false, ["dad", "db", "web"]],
    [["isolation=default"], false, ["dad", "db", "web"]],
  ] as [string[], boolean, string[]][])("%p (-a %p)", (specs, all, want) => expect(pick(specs, all)).toEqual(want));
  test("id= takes a full id or a prefix of exactly one container", () => {
    expect(pick([`id=${ALL[0]!.record.id.slice(0, 6)}`])).toEqual(["web"]);
    expect(pick(["id=d"], true)).toEqual([]); // ambiguous: db and dad
  });
  test("ancestor= goes by the image ids ps resolved; expose= also by the image's EXPOSE", () => {
    expect(pick(["ancestor=x"], true, { ancestorImages: new Set(["sha256:cc"]) })).toEqual(["dad", "job"]);
    expect(pick(["expose=53/udp"], false, { exposedPorts: (c) => (c.record.name === "db" ? ["53/udp"] : []) })).toEqual([]); // not on a bridge: Docker lists no ports
    expect(pick(["expose=53/udp"], false, { exposedPorts: () => ["53/udp"] })).toEqual(["web"]);
  });
  test("-n counts after the filters", () => {
    expect(selectContainers(ALL, { all: false, last: 2, filters: parseFilters(["status=running"]) }).map((c) => c.record.name)).toEqual(["dad", "db"]);
  });
  test("errors in Docker's words", () => {
    expect(() => parseFilters(["exited=x"])).toThrow('strconv.Atoi: parsing "x": invalid syntax');
    expect(() => parseFilters(["health=ok"])).toThrow("Unrecognised filter value for health: ok");
    expect(() => pick(["before=nosuch"])).toThrow("No such container: nosuch");
  });
});

describe("images filters (daemon/images/images.go)", () => {
  const f = (specs: string[]) => parseImageFilters(specs, T0);
  const img = (created: string, labels?: Record<string, string>) => ({ created: Date.parse(created), labels: () => labels });
  test("before/since/until by creation time; label on the config's labels", () => {
    expect(imageMatches(img("2024-01-01"), f([]), { before: Date.parse("2024-06-01") })).toBe(true);
    expect(imageMatches(img("2024-06-01"), f([]), { before: Date.parse("2024-06-01") })).toBe(false);
    expect(imageMatches(img("2024-07-01"), f([]), { since: Date.parse("2024-06-01") })).toBe(true);
    expect(imageMatches(img("2024-07-01"), f(["until=2024-06-01"]), {})).toBe(false);
    expect(imageMatches(img("2024-07-01", { a: "1" }), f(["label=a=1"]), {})).toBe(true);
    expect(imageMatches(img("2024-07-01"), f(["label=a"]), {})).toBe(false);
  });
  test("reference: FamiliarMatch on name:tag, then name", () => {
    expect(referenceMatches(f(["reference=busy*"]), "busybox", "latest")).toBe(true);
    expect(referenceMatches(f(["reference=*:1.36"]), "busybox", "1.36")).toBe(true);
    expect(referenceMatches(f(["reference=*:1.36"]), "busybox", "latest")).toBe(false);
    expect(referenceMatches(f(["reference=localhost:5000/*"]), "localhost:5000/app", "v1")).toBe(true);
  });
  test("which tags show, and dangling", () => {
    const tags = [
      { name: "busybox", tag: "latest" },
      { name: "mine", tag: "1" },
    ];
    expect(visibleTags(f([]), tags)).toEqual(tags);
    expect(visibleTags(f(["reference=mine"]), tags)).toEqual([tags[1]!]);
    expect(visibleTags(f(["reference=nope"]), tags)).toBeNull();
    expect(visibleTags(f([]), [])).toBe("dangling");
    expect(visibleTags(f(["reference=*"]), [])).toBeNull();
    expect(visibleTags(f(["dangling=true"]), tags)).toBeNull();
    expect(visibleTags(f(["dangling=true"]), [])).toBe("dangling");
    expect(visibleTags(f(["dangling=false"]), [])).toBeNull();
    expect(() => f(["bogus=1"])).toThrow("invalid filter 'bogus'");
  });
  test("ancestry: an image and those whose layers extend it", () => {
    const images = [
      { id: "base", diffIds: ["a"] },
      { id: "child", diffIds: ["a", "b"] },
      { id: "grandchild", diffIds: ["a", "b", "c"] },
      { id: "other", diffIds: ["x", "a"] },
      { id: "twin", diffIds: ["a"] },
    ];
    expect([...withDescendants(images, ["base"])].sort()).toEqual(["base", "child", "grandchild"]);
    expect([...withDescendants(images, ["child"])].sort()).toEqual(["child", "grandchild"]);
    expect([...withDescendants(images, ["gone"])]).toEqual([]);
  });
});

describe("listing formats", () => {
  const headers = { ID: "IMAGE ID", Repository: "REPOSITORY", CreatedAt: "CREATED AT" };
  const rows = [
    { ID: "abc", Repository: "busybox", CreatedAt: "2024-01-02 03:04:05 +0000 UTC" },
    { ID: "def", Repository: "x", CreatedAt: "" },
  ];
  const l = (format: string | undefined, noHeading = false) => renderListing({ format, defaultTable: "table {{.Repository}}\t{{.ID}}", headers, noHeading }, rows);
  test.each([
    [undefined, false, "REPOSITORY   IMAGE ID\nbusybox      abc\nx            def\n"],
    ["table", true, "busybox   abc\nx         def\n"],
    ["{{.Repository}}:{{.ID}}", false, "busybox:abc\nx:def\n"],
    ["table {{.ID}}\t{{.CreatedAt}}", false, "IMAGE ID   CREATED AT\nabc        2024-01-02 03:04:05 +0000 UTC\ndef        \n"],
    ["json", false, `${JSON.stringify(rows[0])}\n${JSON.stringify(rows[1])}\n`],
  ])("%p (noheading %p)", (format, noHeading, want) => expect(l(format, noHeading)).toBe(want));
  test.each([
    "table {{.Repository}}\t{{.ID}}",
    "table {{.ID}}\\t{{.CreatedAt}}\\t{{.Repository}}",
    "table {{.Repository}}",
  ])("%p: plain fields skip the template engine and print what it prints", (format) => {
    expect(l(format)).toBe(renderTable(format, headers, rows));
  });
});
