// The state of an early start (Sys.startEarly): which events move it where, and when a signal may go.
import { expect, test } from "bun:test";
import { EARLY_WAITING, nextEarlyState, type EarlyState } from "../../../src/sys/early.ts";
import { EventType } from "../../../src/sys/protocol.ts";

const failure = { stage: 10, errno: 22, code: "EINVAL", index: 0, detail: "" };

test("waiting → starting → running (with its pid) → ended", () => {
  let s: EarlyState = EARLY_WAITING;
  s = nextEarlyState(s, { type: "plan" });
  expect(s).toEqual({ phase: "starting", pid: 0 });
  s = nextEarlyState(s, { type: EventType.Started, pid: 42 });
  expect(s).toEqual({ phase: "running", pid: 42 });
  s = nextEarlyState(s, { type: EventType.Exited, exit: { exitCode: 0 } });
  expect(s).toEqual({ phase: "ended", pid: 42 });
});

test("a failure or a refused plan is not running (no signal goes), then ends", () => {
  for (const e of [{ type: EventType.Failure, failure } as const, { type: EventType.Malformed, offset: 4 } as const]) {
    const s = nextEarlyState(nextEarlyState(EARLY_WAITING, { type: "plan" }), e);
    expect(s.phase).toBe("failed");
    expect(nextEarlyState(s, { type: EventType.Exited, exit: { exitCode: 1 } }).phase).toBe("ended");
  }
  // Before its plan, the process can only end (EOF on its control pipe kills it).
  expect(nextEarlyState(EARLY_WAITING, { type: EventType.Exited, exit: { exitCode: 1 } }).phase).toBe("ended");
});

test("a second plan is refused", () => {
  const s = nextEarlyState(EARLY_WAITING, { type: "plan" });
  expect(() => nextEarlyState(s, { type: "plan" })).toThrow("already given its plan");
  expect(() => nextEarlyState({ phase: "ended", pid: 1 }, { type: "plan" })).toThrow("already given its plan");
});
