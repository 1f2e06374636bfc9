// The events' shape, filters, times and text format (lifecycle/events.ts), and appending and
// following on a temp root.
import { expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { appendEvent, eventsFile, followEvents, formatEvent, makeEvent, matchesEvent, parseEventFilters, parseEventLines, parseEventTime, type DockerEvent } from "../../../src/lifecycle/events.ts";

const ID = "a".repeat(64);
const ev = (action: string, extra: Record<string, string> = {}) => makeEvent(action, { id: ID, name: "web", image: "busybox", labels: { tier: "front" } }, 1_700_000_000_123_456_789n, extra);

test("Docker's shape", () => {
  expect(ev("die", { exitCode: "3" })).toEqual({
    status: "die",
    id: ID,
    from: "busybox",
    Type: "container",
    Action: "die",
    Actor: { ID, Attributes: { tier: "front", exitCode: "3", image: "busybox", name: "web" } },
    scope: "local",
    time: 1_700_000_000,
    timeNano: 1_700_000_000_123_456_789,
  });
});

test("filters: values of a key OR'd, keys AND'd; event= matches health_status", () => {
  const f = (...s: string[]) => parseEventFilters(s);
  expect(matchesEvent(ev("die"), f("container=web"))).toBe(true);
  expect(matchesEvent(ev("die"), f("container=aaaa"))).toBe(true);
  expect(matchesEvent(ev("die"), f("container=db"))).toBe(false);
  expect(matchesEvent(ev("die"), f("event=start", "event=die"))).toBe(true);
  expect(matchesEvent(ev("die"), f("event=start", "container=web"))).toBe(false);
  expect(matchesEvent(ev("health_status: healthy"), f("event=health_status"))).toBe(true);
  expect(matchesEvent(ev("die"), f("type=container", "image=busybox", "label=tier=front", "label=tier"))).toBe(true);
  expect(matchesEvent(ev("die"), f("image=busybox:latest"))).toBe(true);
  expect(matchesEvent(ev("die"), f("label=tier=back"))).toBe(false);
  expect(matchesEvent(ev("die"), f("type=network"))).toBe(false);
  expect(() => f("nope=1")).toThrow("Invalid filter 'nope'");
  expect(() => f("container")).toThrow("Bad format of filter (expected name=value): container");
});

test("--since/--until: Unix seconds, RFC 3339, or a duration back from now", () => {
  const now = 1_700_000_100_000;
  expect(parseEventTime("1700000000", now, "--since")).toBe(1_700_000_000_000_000_000n);
  expect(parseEventTime("1700000000.5", now, "--since")).toBe(1_700_000_000_500_000_000n);
  expect(parseEventTime("10s", now, "--since")).toBe(1_700_000_090_000_000_000n);
  expect(parseEventTime("2023-11-14T22:13:20Z", now, "--since")).toBe(1_700_000_000_000_000_000n);
  expect(() => parseEventTime("yesterday", now, "--since")).toThrow('Cannot parse --since "yesterday"');
});

test("the text line: time with ns, type, action, id, attributes sorted", () => {
  expect(formatEvent(ev("die", { exitCode: "0" }))).toBe(`2023-11-14T22:13:20.123456768Z container die ${ID} (exitCode=0, image=busybox, name=web, tier=front)`);
});

test("appended lines read back; a torn last line waits; the window and filters apply", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "td-events-"));
  try {
    appendEvent(root, "create", { id: ID, name: "web", image: "busybox" });
    appendEvent(root, "start", { id: ID, name: "web", image: "busybox" });
    fs.appendFileSync(eventsFile(root), '{"status":"torn"');
    expect(parseEventLines(fs.readFileSync(eventsFile(root), "utf8")).map((e) => e.Action)).toEqual(["create", "start"]);
    const got: DockerEvent[] = [];
    await followEvents(root, { sinceNs: 0n, untilNs: 1n, filters: parseEventFilters(["event=start"]), emit: (e) => got.push(e), now: () => Date.now(), sleep: async () => {}, stopped: () => false });
    expect(got).toEqual([]);
    await followEvents(root, { sinceNs: 0n, untilNs: BigInt(Date.now() - 1) * 1_000_000n + 10n ** 18n, filters: parseEventFilters(["event=start"]), emit: (e) => got.push(e), now: () => Date.now(), sleep: async () => {}, stopped: () => true });
    expect(got.map((e) => e.Action)).toEqual(["start"]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
