import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../../src/errors.ts";
import { parseControllerList, parseKeyedFile, parseLimitValue, parsePidList } from "../../../../src/runtime/cgroups/files.ts";

describe("parseKeyedFile", () => {
  test("v2 memory.events", () => {
    const m = parseKeyedFile("low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n", "memory.events");
    expect(m.get("oom_kill")).toBe(1);
    expect(m.get("max")).toBe(12);
  });
  test("v1 memory.oom_control", () => {
    const m = parseKeyedFile("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "memory.oom_control");
    expect([...m]).toEqual([
      ["oom_kill_disable", 0],
      ["under_oom", 0],
      ["oom_kill", 3],
    ]);
  });
  test("v1 memory.stat with a near-2^63 value", () => {
    expect(parseKeyedFile("hierarchical_memory_limit 9223372036854771712\n", "memory.stat").get("hierarchical_memory_limit")).toBe(
      9223372036854771712,
    );
  });
  test("empty", () => expect(parseKeyedFile("", "x").size).toBe(0));
  for (const bad of ["oom_kill", "oom_kill x", "a b c", "oom_kill 1.5"]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      expect(() => parseKeyedFile(`${bad}\n`, "/cg/memory.events")).toThrow(ParseError);
      expect(() => parseKeyedFile(`${bad}\n`, "/cg/memory.events")).toThrow(`Cannot parse cgroup file "/cg/memory.events": line "${bad}"`);
    });
  }
});

describe("parsePidList", () => {
  test("pids", () => expect(parsePidList("12\n345\n", "cgroup.procs")).toEqual([12, 345]));
  test("empty", () => expect(parsePidList("", "cgroup.procs")).toEqual([]));
  test("rejects junk", () => expect(() => parsePidList("12\nx\n", "cgroup.procs")).toThrow('Cannot parse cgroup file "cgroup.procs": "x" is not a pid'));
});

describe("parseLimitValue", () => {
  const table: [string, number][] = [
    ["max\n", Infinity],
    ["9223372036854771712\n", Infinity],
    ["-1\n", Infinity],
    ["16777216\n", 16777216],
    ["0", 0],
  ];
  for (const [text, want] of table) test(`${JSON.stringify(text)} → ${want}`, () => expect(parseLimitValue(text, "f")).toBe(want));
  test("rejects junk", () => expect(() => parseLimitValue("lots\n", "memory.max")).toThrow('Cannot parse cgroup file "memory.max": "lots"'));
});

describe("parseControllerList", () => {
  test("names", () => expect(parseControllerList("cpuset cpu io memory hugetlb pids rdma misc\n", "c")).toEqual(["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"]));
  test("empty", () => expect(parseControllerList("\n", "c")).toEqual([]));
  test("rejects junk", () => expect(() => parseControllerList("+memory", "c")).toThrow(ParseError));
});
