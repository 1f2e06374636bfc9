import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { followLogs, formatEntry, logFiles, parseLogLine, parseLogTime, readLogs, timeNs, type LogEntry } from "../../../src/lifecycle/logs.ts";

const ID = "c".repeat(64);
let dir = "";
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-logs-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const line = (log: string, stream: "stdout" | "stderr", sec: number) =>
  `${JSON.stringify({ log, stream, time: `2026-11-23T22:00:${String(sec).padStart(2, "0")}.000000001Z` })}\n`;
const file = (suffix: string) => path.join(dir, `${ID}-json.log${suffix}`);

describe("json-file reading", () => {
  test("rotated files oldest first (.10 before .2 before .1), then the live one", () => {
    fs.writeFileSync(file(".1"), line("three\n", "stdout", 3));
    fs.writeFileSync(file(".2"), line("two\n", "stderr", 2));
    fs.writeFileSync(file(".10"), line("one\n", "stdout", 1));
    fs.writeFileSync(file(""), line("four\n", "stdout", 4) + '{"torn');
    fs.writeFileSync(path.join(dir, `${ID}-json.log.x`), "junk");
    expect(logFiles(dir, ID).map((f) => path.basename(f).slice(64))).toEqual(["-json.log.10", "-json.log.2", "-json.log.1", "-json.log"]);
    expect(readLogs(dir, ID).map((e) => e.log)).toEqual(["one\n", "two\n", "three\n", "four\n"]);
    expect(readLogs(dir, ID)[1]!.stream).toBe("stderr");
  });
  test("--tail across files, 0, and the time window", () => {
    fs.writeFileSync(file(".1"), line("a\n", "stdout", 1) + line("b\n", "stdout", 2));
    fs.writeFileSync(file(""), line("c\n", "stdout", 3) + line("d\n", "stdout", 4));
    expect(readLogs(dir, ID, { tail: 3 }).map((e) => e.log)).toEqual(["b\n", "c\n", "d\n"]);
    expect(readLogs(dir, ID, { tail: 0 })).toEqual([]);
    const since = parseLogTime("2026-11-23T22:00:02Z", 0);
    const until = parseLogTime("2026-11-23T22:00:03.5Z", 0);
    expect(readLogs(dir, ID, { sinceNs: since, untilNs: until }).map((e) => e.log)).toEqual(["b\n", "c\n"]);
    expect(readLogs(dir, ID, { sinceNs: since, tail: 1 }).map((e) => e.log)).toEqual(["d\n"]);
  });
  test("partial lines stay joined; bad lines are skipped", () => {
    expect(parseLogLine('{"log":"x","stream":"stdout","time":"t"}')).toEqual({ log: "x", stream: "stdout", time: "t" });
    expect(parseLogLine("not json")).toBeUndefined();
    expect(parseLogLine('{"stream":"stdout"}')).toBeUndefined();
  });
  test("-t prints RFC3339Nano with nine digits", () => {
    const e: LogEntry = { log: "hi\n", stream: "stdout", time: "2026-11-23T22:00:00.5Z" };
    expect(formatEntry(e, true)).toBe("2026-11-23T22:00:00.500000000Z hi\n");
    expect(formatEntry(e, false)).toBe("hi\n");
  });
});

describe("times", () => {
  test("RFC 3339 forms, Unix timestamps and durations", () => {
    expect(timeNs("2026-11-23T22:00:00.123456789Z")).toBe(BigInt(Date.parse("2026-11-23T22:00:00Z")) * 1_000_000n + 123456789n);
    expect(parseLogTime("1700000000", 0)).toBe(1_700_000_000_000_000_000n);
    expect(parseLogTime("1700000000.5", 0)).toBe(1_700_000_000_500_000_000n);
    expect(parseLogTime("2026-11-23", 0)).toBe(BigInt(Date.parse("2026-11-23T00:00:00Z")) * 1_000_000n);
    expect(parseLogTime("2026-11-23T22:00", 0)).toBe(BigInt(Date.parse("2026-11-23T22:00:00Z")) * 1_000_000n);
    expect(parseLogTime("2026-11-23T23:00:00+01:00", 0)).toBe(BigInt(Date.parse("2026-11-23T22:00:00Z")) * 1_000_000n);
    expect(parseLogTime("10m", 3_600_000)).toBe(BigInt(3_000_000) * 1_000_000n);
    expect(parseLogTime("1h30m", 2 * 3_600_000)).toBe(BigInt(1_800_000) * 1_000_000n);
    expect(() => parseLogTime("yesterday", 0)).toThrow('Cannot parse time "yesterday"');
  });
});

describe("follow", () => {
  test("new lines, a rotation (two files rotated between polls), and the end when the container exits", async () => {
    fs.writeFileSync(file(""), line("old1\n", "stdout", 1) + line("old2\n", "stdout", 2));
    const seen: string[] = [];
    let running = true;
    let step = 0;
    // Each sleep is one poll: the "container" writes between polls.
    const sleep = async () => {
      step++;
      if (step === 1) fs.appendFileSync(file(""), line("new3\n", "stdout", 3) + '{"log":"par');
      if (step === 2) fs.appendFileSync(file(""), 'tial\\n","stream":"stderr","time":"2026-11-23T22:00:04Z"}\n');
      if (step === 3) {
        // Two rotations at once: live → .1 → .2, a whole file in .1, a fresh live file.
        fs.appendFileSync(file(""), line("before-rotate5\n", "stdout", 5));
        fs.renameSync(file(""), file(".1"));
        fs.renameSync(file(".1"), file(".2"));
        fs.writeFileSync(file(".1"), line("middle6\n", "stdout", 6));
        fs.writeFileSync(file(""), line("after7\n", "stdout", 7));
      }
      if (step === 4) {
        fs.appendFileSync(file(""), line("last8\n", "stdout", 8));
        running = false;
      }
      if (step > 10) throw new Error("did not end");
    };
    await followLogs(dir, ID, { sel: { tail: 1 }, emit: (e) => seen.push(e.log), running: () => running, sleep, pollMs: 0 });
    expect(seen).toEqual(["old2\n", "new3\n", "partial\n", "before-rotate5\n", "middle6\n", "after7\n", "last8\n"]);
  });
  test("a container that never logged ends at once when not running", async () => {
    const seen: string[] = [];
    await followLogs(dir, ID, { sel: {}, emit: (e) => seen.push(e.log), running: () => false, sleep: async () => {} });
    expect(seen).toEqual([]);
  });
});
