import { describe, expect, test } from "bun:test";
import { isKind } from "../../../src/errors.ts";
import type { ContainerRecord } from "../../../src/store/containers.ts";
import { checkTransition, liveState, TRANSITIONS, ZERO_TIME, type Liveness, type RunRecord } from "../../../src/lifecycle/state.ts";

const ID = "a".repeat(64);
const rec = (state: Partial<ContainerRecord["state"]> = {}): Pick<ContainerRecord, "state"> => ({
  state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "", ...state },
});
const facts = (f: Partial<Liveness> = {}): Liveness => ({ supervisorAlive: true, frozen: false, removing: false, locked: false, ...f });
const run = (r: Partial<RunRecord> = {}): RunRecord => ({
  status: "running",
  pid: 42,
  pidStartTime: 7,
  monitorPid: 41,
  monitorStartTime: 6,
  startedAt: "2026-11-23T22:00:00.000000001Z",
  finishedAt: ZERO_TIME,
  exitCode: 0,
  oomKilled: false,
  restartCount: 0,
  error: "",
  ...r,
});

describe("liveState", () => {
  test("no run.json is created", () => {
    const s = liveState(rec(), undefined, facts({ supervisorAlive: false }));
    expect(s.Status).toBe("created");
    expect(s.Running).toBe(false);
    expect(s.StartedAt).toBe(ZERO_TIME);
  });
  test("running with a live supervisor", () => {
    const s = liveState(rec(), run(), facts());
    expect([s.Status, s.Running, s.Pid, s.pidStartTime]).toEqual(["running", true, 42, 7]);
  });
  test("supervisor gone while run.json says running: exited 137, stale", () => {
    const s = liveState(rec(), run(), facts({ supervisorAlive: false }));
    expect([s.Status, s.Running, s.Pid, s.ExitCode, s.stale]).toEqual(["exited", false, 0, 137, true]);
  });
  test("supervisor gone while restarting keeps a recorded exit code", () => {
    const s = liveState(rec(), run({ status: "restarting", exitCode: 3 }), facts({ supervisorAlive: false }));
    expect([s.Status, s.ExitCode]).toEqual(["exited", 3]);
  });
  test("exited as recorded, whatever the supervisor", () => {
    const s = liveState(rec(), run({ status: "exited", exitCode: 3, oomKilled: true, finishedAt: "2026-11-23T22:01:00Z" }), facts({ supervisorAlive: false }));
    expect([s.Status, s.ExitCode, s.OOMKilled, s.stale, s.Pid]).toEqual(["exited", 3, true, false, 0]);
  });
  test("frozen running is paused, still Running as Docker says", () => {
    const s = liveState(rec(), run(), facts({ frozen: true }));
    expect([s.Status, s.Running, s.Paused]).toEqual(["paused", true, true]);
  });
  test("restarting", () => {
    const s = liveState(rec(), run({ status: "restarting", restartCount: 2 }), facts());
    expect([s.Status, s.Running, s.Restarting, s.RestartCount]).toEqual(["restarting", true, true, 2]);
  });
  test("removing marker: removing while locked, dead when the remover died", () => {
    expect(liveState(rec(), run({ status: "exited" }), facts({ removing: true, locked: true })).Status).toBe("removing");
    const dead = liveState(rec(), run({ status: "exited" }), facts({ removing: true }));
    expect([dead.Status, dead.Dead, dead.Running]).toEqual(["dead", true, false]);
  });
  test("legacy state.json of a foreground run", () => {
    const s = liveState(rec({ status: "exited", exitCode: 3, finishedAt: "2026-11-23T22:00:00Z" }), undefined, facts({ supervisorAlive: false }));
    expect([s.Status, s.ExitCode, s.FinishedAt]).toEqual(["exited", 3, "2026-11-23T22:00:00Z"]);
    const gone = liveState(rec({ status: "running", pid: 5 }), undefined, facts({ supervisorAlive: false }));
    expect([gone.Status, gone.ExitCode]).toEqual(["exited", 137]);
  });
});

describe("transition table", () => {
  const refused = (status: Parameters<typeof checkTransition>[0], action: Parameters<typeof checkTransition>[1]) => {
    try {
      checkTransition(status, action, ID);
    } catch (err) {
      expect(isKind(err, "FailedPrecondition")).toBe(true);
      return (err as Error).message;
    }
    throw new Error(`${action} from ${status} was allowed`);
  };
  test("Docker's wording for refused moves", () => {
    expect(refused("running", "remove")).toBe(
      `You cannot remove a running container ${ID}. Stop the container before attempting removal or force remove`,
    );
    expect(refused("paused", "remove")).toBe(
      `You cannot remove a paused container ${ID}. Unpause and then stop the container before attempting removal or force remove`,
    );
    expect(refused("restarting", "remove")).toContain("You cannot remove a restarting container");
    expect(refused("exited", "pause")).toBe(`Container ${ID} is not running`);
    expect(refused("paused", "pause")).toBe(`Container ${ID} is already paused`);
    expect(refused("running", "unpause")).toBe(`Container ${ID} is not paused`);
    expect(refused("exited", "kill")).toBe(`Container ${ID} is not running`);
    expect(refused("exited", "top")).toBe(`Container ${ID} is not running`);
    expect(refused("paused", "exec")).toContain("is paused, unpause the container before exec");
    expect(refused("removing", "remove")).toBe(`removal of container ${ID} is already in progress`);
    expect(refused("removing", "forceRemove")).toBe(`removal of container ${ID} is already in progress`);
  });
  test("legal moves and no-ops", () => {
    expect(checkTransition("running", "stop", ID)).toBe(true);
    expect(checkTransition("exited", "stop", ID)).toBe(false);
    expect(checkTransition("created", "stop", ID)).toBe(false);
    expect(checkTransition("running", "forceRemove", ID)).toBe(true);
    expect(checkTransition("dead", "forceRemove", ID)).toBe(true);
    expect(checkTransition("exited", "remove", ID)).toBe(true);
    expect(checkTransition("paused", "unpause", ID)).toBe(true);
  });
  test("every state has an entry and force removal works from every state but removing", () => {
    for (const [status, moves] of Object.entries(TRANSITIONS)) {
      expect(moves.wait).toBe("ok");
      if (status !== "removing") expect(moves.forceRemove).toBe("ok");
    }
  });
});
