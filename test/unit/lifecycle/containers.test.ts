import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isKind } from "../../../src/errors.ts";
import { checkNameFree, findContainer, matchContainer, saveContainer, type ContainerRecord } from "../../../src/store/containers.ts";
import { parseProcStat, processStartTime, sameProcess } from "../../../src/lifecycle/liveness.ts";
import { parseSignal } from "../../../src/lifecycle/signals.ts";

const mk = (id: string, name: string): ContainerRecord => ({
  id,
  name,
  image: "busybox",
  imageId: `sha256:${"0".repeat(64)}`,
  created: "2026-11-23T22:00:00Z",
  args: [],
  hostname: id.slice(0, 12),
  state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
});
const A = `abc1${"1".repeat(60)}`;
const B = `abc2${"2".repeat(60)}`;
const C = `${"f".repeat(63)}0`;
const all = [mk(A, "web"), mk(B, "db"), mk(C, "abc1")];

describe("matchContainer", () => {
  test("full id, name with or without /, unique prefix", () => {
    expect(matchContainer(all, A)?.name).toBe("web");
    expect(matchContainer(all, "db")?.id).toBe(B);
    expect(matchContainer(all, "/db")?.id).toBe(B);
    expect(matchContainer(all, "abc2")?.id).toBe(B);
    expect(matchContainer(all, "fff")?.id).toBe(C);
  });
  test("a name wins over an id prefix, as in Docker", () => {
    expect(matchContainer(all, "abc1")?.id).toBe(C);
  });
  test("ambiguous prefix is an error; unknown is undefined", () => {
    expect(() => matchContainer(all, "abc")).toThrow("Multiple IDs found with provided prefix: abc");
    expect(matchContainer(all, "nope")).toBeUndefined();
    expect(matchContainer(all, "")).toBeUndefined();
  });
});

describe("findContainer on a root", () => {
  let dir = "";
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  test("reads state.json files; Docker's not-found; names unique", () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-find-"));
    for (const r of all) {
      fs.mkdirSync(path.join(dir, "containers", r.id), { recursive: true });
      saveContainer(dir, r);
    }
    // A torn state file (crash mid-create) is no container.
    fs.mkdirSync(path.join(dir, "containers", "e".repeat(64)));
    fs.writeFileSync(path.join(dir, "containers", "e".repeat(64), "state.json"), "{");
    expect(findContainer(dir, "web").id).toBe(A);
    try {
      findContainer(dir, "missing");
      throw new Error("found");
    } catch (err) {
      expect(isKind(err, "NotFound")).toBe(true);
      expect((err as Error).message).toBe("No such container: missing");
    }
    expect(() => checkNameFree(dir, "web")).toThrow(`Conflict. The container name "/web" is already in use by container "${A}"`);
    expect(() => checkNameFree(dir, "other")).not.toThrow();
  });
});

describe("liveness", () => {
  test("parses /proc/<pid>/stat with spaces and parens in comm", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = "S";
    const st = parseProcStat(`123 (a b) c)) ${fields.join(" ")}`);
    expect(st).toEqual({ state: "S", ppid: 4, utime: 14, stime: 15, startTime: 22 });
  });
  test("own process is alive with its start time; a wrong start time is not the same process", () => {
    const t = processStartTime(process.pid);
    expect(typeof t).toBe("number");
    expect(sameProcess(process.pid, t)).toBe(true);
    expect(sameProcess(process.pid, t! + 1)).toBe(false);
    expect(sameProcess(0, undefined)).toBe(false);
    expect(sameProcess(2 ** 30, undefined)).toBe(false);
  });
});

describe("parseSignal", () => {
  test.each([
    ["SIGTERM", 15],
    ["TERM", 15],
    ["term", 15],
    ["9", 9],
    ["KILL", 9],
    ["SIGHUP", 1],
    ["SIGRTMIN+3", 37],
    ["USR1", 10],
  ])("%s → %d", (input, n) => expect(parseSignal(input)).toBe(n));
  test.each(["", "SIGNOPE", "0", "65", "-1"])("bad %p", (input) => expect(() => parseSignal(input)).toThrow("Invalid signal"));
});
