// The one codec between the C init/monitor and TypeScript, and the C enums against the TS ones:
// read from the C source text, so that a stage added on one side only fails here, not as a wrong
// message at run time.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { EVENTS_MAX } from "../../../src/lifecycle/events.ts";
import { HEALTH_STATUSES } from "../../../src/lifecycle/health.ts";
import { PROBE_RESULTS } from "../../../src/lifecycle/probe-status.ts";
import { InitStage } from "../../../src/runtime/encode.ts";
import { decodeEvent, encodeMessage, EventDecoder, EventType, MessageType, parseStartReport, ProbeActionCode, ProbeKindCode, readEvents } from "../../../src/sys/protocol.ts";

const SYS = path.resolve(import.meta.dir, "../../../src/sys");

/** `enum NAME { A = 1, B, C = 7 }` in a C file → [[A, 1], [B, 2], [C, 7]]. */
function cEnum(file: string, name: string): [string, number][] {
  const text = fs.readFileSync(path.join(SYS, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  const m = new RegExp(`enum\\s+${name}\\s*\\{([^}]*)\\}`).exec(text);
  if (!m) throw new Error(`no enum ${name} in ${file}`);
  let next = 0;
  return m[1]!
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [n, v] = item.split("=").map((s) => s.trim());
      next = v === undefined ? next : Number(v);
      return [n!, next++] as [string, number];
    });
}

/** A TS numeric enum as [[Name, value]…] in value order. */
function tsEnum(e: Record<string, string | number>): [string, number][] {
  return Object.entries(e)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [k, v as number] as [string, number])
    .sort((a, b) => a[1] - b[1]);
}

/** ST_MOUNT_TARGET → mounttarget, MountTarget → mounttarget: the names compared without case and separators. */
const norm = (s: string, prefix: string) => s.replace(prefix, "").replace(/_/g, "").toLowerCase();

describe("the C enums and the TypeScript ones agree, name by value", () => {
  test("init/report.c enum stage = InitStage", () => {
    // The TS names are longer in places; the C name is the reference, the TS one must say the same.
    const alias: Record<string, string> = { oom: "oomscoreadj", pivot: "pivotroot", join: "joinnamespace" };
    const c = cEnum("init/report.c", "stage").map(([n, v]) => [alias[norm(n, "ST_")] ?? norm(n, "ST_"), v]);
    const ts = tsEnum(InitStage as never).map(([n, v]) => [norm(n, ""), v]);
    expect(c.length).toBeGreaterThan(30);
    expect(ts).toEqual(c);
  });

  test("init/report.c enum event = EventType", () => {
    const alias: Record<string, string> = {};
    const c = cEnum("init/report.c", "event").map(([n, v]) => [alias[norm(n, "EV_")] ?? norm(n, "EV_"), v]);
    expect(tsEnum(EventType as never).map(([n, v]) => [norm(n, ""), v])).toEqual(c);
  });

  test("monitor/health.c enum health and its names = HEALTH_STATUSES; EVENTS_MAX on both sides", () => {
    const c = cEnum("monitor/health.c", "health").map(([n, v]) => [norm(n, "H_"), v]);
    expect(HEALTH_STATUSES.map((n, i): [string, number] => [n, i])).toEqual(c as [string, number][]);
    const text = fs.readFileSync(path.join(SYS, "monitor/health.c"), "utf8");
    const names = /HEALTH_NAMES\[\] = \{([^}]*)\}/.exec(text)![1]!.split(",").map((s) => s.trim().replace(/"/g, ""));
    expect(names).toEqual([...HEALTH_STATUSES]);
    const max = /#define EVENTS_MAX \((\d+)u << (\d+)\)/.exec(fs.readFileSync(path.join(SYS, "monitor/events.c"), "utf8"))!;
    expect(Number(max[1]) << Number(max[2])).toBe(EVENTS_MAX);
  });

  test("monitor/probe.c enum probe_kind, probe_action, probe_result and the names it writes = the TypeScript ones", () => {
    const text = fs.readFileSync(path.join(SYS, "monitor/probe.c"), "utf8");
    const names = (array: string) => new RegExp(`${array}\\[\\] = \\{([^}]*)\\}`).exec(text)![1]!.split(",").map((s) => s.trim().replace(/"/g, ""));
    expect(cEnum("monitor/probe.c", "probe_kind").map(([n, v]) => [norm(n, "PK_"), v])).toEqual(tsEnum(ProbeKindCode as never).map(([n, v]) => [norm(n, ""), v]));
    expect(names("PROBE_KINDS")).toEqual(tsEnum(ProbeKindCode as never).map(([n]) => n.toLowerCase()));
    const actions: Record<string, string> = { exec: "exec", http: "http", tcp: "tcp" };
    expect(cEnum("monitor/probe.c", "probe_action").map(([n, v]) => [actions[norm(n, "PA_")], v])).toEqual(tsEnum(ProbeActionCode as never).map(([n, v]) => [norm(n, ""), v]));
    expect(cEnum("monitor/probe.c", "probe_result").map(([n, v]) => [norm(n, "R_"), v])).toEqual(PROBE_RESULTS.map((n, i): [string, number] => [n, i]));
    expect(names("PROBE_RESULTS")).toEqual([...PROBE_RESULTS]);
  });

  test("monitor/launch.c enum message = MessageType", () => {
    const c = cEnum("monitor/launch.c", "message").map(([n, v]) => [norm(n, "MSG_"), v]);
    expect(tsEnum(MessageType as never).map(([n, v]) => [norm(n, ""), v])).toEqual(c);
  });
});

function i32s(...v: number[]): Uint8Array {
  const b = new Uint8Array(v.length * 4);
  const d = new DataView(b.buffer);
  v.forEach((x, i) => d.setInt32(i * 4, x, true));
  return b;
}

function failureRecord(stage: number, errno: number, index: number, detail: string): Uint8Array {
  const text = new TextEncoder().encode(detail);
  const b = new Uint8Array(20 + text.length);
  b.set(i32s(EventType.Failure, stage, errno, index, text.length));
  b.set(text, 20);
  return b;
}

describe("events", () => {
  test("each record, with and without the pid in [2]", () => {
    expect(decodeEvent(i32s(2), false)).toEqual({ event: { type: EventType.Started }, used: 4 });
    expect(decodeEvent(i32s(2, 4242), true)).toEqual({ event: { type: EventType.Started, pid: 4242 }, used: 8 });
    expect(decodeEvent(i32s(3, 137, 9), false)).toEqual({ event: { type: EventType.Exited, exit: { exitCode: 137, signal: 9 } }, used: 12 });
    expect(decodeEvent(i32s(3, 0, 0), false)).toEqual({ event: { type: EventType.Exited, exit: { exitCode: 0 } }, used: 12 });
    expect(decodeEvent(i32s(4, 17), true)).toEqual({ event: { type: EventType.Malformed, offset: 17 }, used: 8 });
    expect(decodeEvent(failureRecord(InitStage.Mount, 22, 3, "x"), true)).toEqual({
      event: { type: EventType.Failure, failure: { stage: InitStage.Mount, errno: 22, code: "EINVAL", index: 3, detail: "x" } },
      used: 21,
    });
  });

  test("an incomplete record waits; an impossible one throws", () => {
    expect(decodeEvent(i32s(2), true)).toBeNull();
    expect(decodeEvent(failureRecord(1, 1, 0, "abc").subarray(0, 22), false)).toBeNull();
    expect(() => decodeEvent(i32s(9), false)).toThrow("unknown event 9");
    expect(() => decodeEvent(i32s(1, 1, 1, 0, 4096), false)).toThrow("bad failure record length 4096");
  });

  test("the stream decoder gives the same events whatever the chunks", () => {
    const all = new Uint8Array([...failureRecord(InitStage.Exec, 2, 1, "/bin/nope"), ...i32s(3, 127, 0)]);
    const whole = new EventDecoder(false).push(all);
    expect(whole.map((e) => e.type)).toEqual([EventType.Failure, EventType.Exited]);
    for (let cut = 1; cut < all.length; cut++) {
      const d = new EventDecoder(false);
      expect([...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))]).toEqual(whole);
    }
  });

  test("readEvents calls the handlers in order and wants the exit status", async () => {
    const seen: string[] = [];
    const stream = (parts: Uint8Array[]) => new ReadableStream<Uint8Array>({ start: (c) => (parts.forEach((p) => c.enqueue(p)), c.close()) });
    await readEvents(stream([i32s(2, 77), i32s(3, 0, 0)]), { started: (f, pid) => seen.push(`started ${f} ${pid}`), exited: (e) => seen.push(`exited ${e.exitCode}`) }, true);
    expect(seen).toEqual(["started null 77", "exited 0"]);
    await expect(readEvents(stream([i32s(2)]), { started: () => {}, exited: () => {} }, false)).rejects.toThrow("closed before the exit status");
  });

  test("the monitor's start report", () => {
    expect(parseStartReport(i32s(2, 99))).toEqual({ pid: 99 });
    expect(parseStartReport(failureRecord(InitStage.Cgroup, 13, 0, ""))).toEqual({ failure: { stage: InitStage.Cgroup, errno: 13, code: "EACCES", index: 0, detail: "" } });
    expect(parseStartReport(new Uint8Array(0))).toBeNull();
    expect(parseStartReport(i32s(7))).toBeNull();
  });
});

test("a message to the launch mode: [type, len, payload]", () => {
  expect([...encodeMessage(MessageType.Signal, i32s(15))]).toEqual([...i32s(3, 4, 15)]);
});
