// The container state machine (habit 8): which states exist, which moves each command may make,
// and how the live state is read from what the supervisor recorded. Pure: the caller gathers the
// facts (state.json, run.json, whether the supervisor still lives, the freezer) and passes them in.
//
// created ──start──▶ running ◀──unpause── paused
//    │                 │  ▲ └──pause──────▶   │
//    │            exit │  │ restart policy     │ kill/stop
//    │                 ▼  │                    ▼
//    │            restarting ──stop/kill──▶ exited ──rm──▶ removing ──▶ (gone)
//    └───────────────────────────rm──────────────┘             └─failed─▶ dead ──rm -f──▶ (gone)
import { FailedPreconditionError } from "../errors.ts";
import type { ContainerRecord, ContainerStatus } from "../store/containers.ts";

export type { ContainerStatus } from "../store/containers.ts";

/** run.json: written atomically by the container's supervisor only. */
export interface RunRecord {
  status: "running" | "restarting" | "exited";
  pid: number;
  pidStartTime?: number;
  monitorPid?: number;
  monitorStartTime?: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  restartCount?: number;
  error?: string;
  /** While "restarting": when the restart is due, and the wait (ms) the back-off chose. */
  restartAt?: string;
  restartDelay?: number;
}

/** What a reader knows about the processes run.json names (gathered by liveness.ts). */
export interface Liveness {
  /** The supervisor (monitorPid with its start time) is still that process. */
  supervisorAlive: boolean;
  /** The container's freezer says frozen. */
  frozen: boolean;
  /** The `removing` marker is there: a removal started. */
  removing: boolean;
  /** Another process holds the container's lock (a removal in progress, not an interrupted one). */
  locked: boolean;
  /** The pid recorded as running is no longer the container's process (exited, or its pid recycled) while its supervisor lives: it is about to record the end or restart. */
  initGone?: boolean;
}

export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** Docker's State object, plus `stale`: recorded as running but its supervisor is gone. */
export interface LiveState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  RestartCount: number;
  /** The pid's start time (field 22 of /proc/<pid>/stat), to never signal a recycled pid. */
  pidStartTime?: number;
  stale: boolean;
  /** While restarting: when the back-off ends, and how long it is (ms). */
  nextRestart?: { at: string; delayMs: number };
}

/** SIGKILL's exit code: what a container that died with its supervisor reports. */
export const KILLED_EXIT_CODE = 137;

/**
 * The live state from the records and the facts. No run.json: the legacy state in state.json
 * (foreground `run` before run.json existed), else "created".
 */
export function liveState(rec: Pick<ContainerRecord, "state">, run: RunRecord | undefined, facts: Liveness): LiveState {
  const legacy = rec.state;
  const base: LiveState = {
    Status: "created",
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: "",
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
    RestartCount: 0,
    stale: false,
  };
  const src: RunRecord | undefined =
    run ??
    (legacy && legacy.status !== "created"
      ? {
          status: legacy.status === "restarting" ? "restarting" : legacy.status === "exited" || legacy.status === "dead" ? "exited" : "running",
          pid: legacy.pid,
          startedAt: legacy.startedAt || undefined,
          finishedAt: legacy.finishedAt || undefined,
          exitCode: legacy.exitCode,
          oomKilled: legacy.oomKilled,
          error: legacy.error,
        }
      : undefined);
  // One object, filled in place: `ps` reads this for every container, and each spread of its 14
  // fields into a new one costs more than the rest of the function.
  const s = base;
  if (src) {
    s.Status = src.status;
    s.Pid = src.pid ?? 0;
    s.ExitCode = src.exitCode ?? 0;
    s.OOMKilled = src.oomKilled ?? false;
    s.Error = src.error ?? "";
    s.StartedAt = src.startedAt || ZERO_TIME;
    s.FinishedAt = src.finishedAt || ZERO_TIME;
    s.RestartCount = src.restartCount ?? 0;
    if (src.pidStartTime !== undefined) s.pidStartTime = src.pidStartTime;
    if (src.status === "restarting" && src.restartAt) s.nextRestart = { at: src.restartAt, delayMs: src.restartDelay ?? 0 };
    if (src.status === "running" && facts.initGone && facts.supervisorAlive) {
      // Its process is gone (its pid maybe another's now) and its supervisor has yet to record the
      // end or restart it: restarting, as Docker shows a container between two runs. No pid to act
      // on, and stop / rm -f still go through the supervisor (no restart after them, none left).
      s.Status = "restarting";
      s.Pid = 0;
      delete s.pidStartTime;
    } else if (src.status !== "exited" && !facts.supervisorAlive) {
      // The container has PDEATHSIG=SIGKILL: it died with its supervisor.
      s.Status = "exited";
      s.Pid = 0;
      s.ExitCode = src.exitCode || KILLED_EXIT_CODE;
      s.stale = true;
    } else if (src.status === "running" && facts.frozen) {
      s.Status = "paused";
    }
    if (s.Status === "exited") s.Pid = 0;
  }
  if (facts.removing) s.Status = facts.locked ? "removing" : "dead";
  s.Running = s.Status === "running" || s.Status === "paused" || s.Status === "restarting";
  s.Paused = s.Status === "paused";
  s.Restarting = s.Status === "restarting";
  s.Dead = s.Status === "dead";
  if (s.Status !== "restarting") delete s.nextRestart;
  // Docker keeps Running true while paused or restarting, but a container that is removing or dead is not running.
  if (s.Status === "removing" || s.Status === "dead") s.Running = false;
  return s;
}

export type Action = "start" | "stop" | "kill" | "pause" | "unpause" | "remove" | "forceRemove" | "exec" | "top" | "rename" | "attach" | "wait" | "copy";

/**
 * Which state allows which action. A missing entry is refused with the message of REFUSALS.
 * "noop": legal and nothing to do (Docker's stop of a stopped container succeeds).
 */
export const TRANSITIONS: Record<ContainerStatus, Partial<Record<Action, "ok" | "noop">>> = {
  created: { start: "ok", stop: "noop", remove: "ok", forceRemove: "ok", rename: "ok", attach: "ok", wait: "ok", copy: "ok" },
  running: { stop: "ok", kill: "ok", pause: "ok", forceRemove: "ok", exec: "ok", top: "ok", rename: "ok", attach: "ok", wait: "ok", copy: "ok" },
  paused: { stop: "ok", kill: "ok", unpause: "ok", forceRemove: "ok", top: "ok", rename: "ok", wait: "ok", copy: "ok" },
  restarting: { stop: "ok", kill: "ok", forceRemove: "ok", rename: "ok", wait: "ok" },
  exited: { start: "ok", stop: "noop", remove: "ok", forceRemove: "ok", rename: "ok", attach: "ok", wait: "ok", copy: "ok" },
  dead: { stop: "noop", remove: "ok", forceRemove: "ok", wait: "ok" },
  removing: { wait: "ok" },
};

/** Docker's wording for each refused move. */
function refusal(status: ContainerStatus, action: Action, id: string): string {
  if (status === "removing") return `removal of container ${id} is already in progress`;
  switch (action) {
    case "remove":
      if (status === "paused") return `You cannot remove a paused container ${id}. Unpause and then stop the container before attempting removal or force remove`;
      return `You cannot remove a ${status} container ${id}. Stop the container before attempting removal or force remove`;
    case "pause":
      return status === "paused" ? `Container ${id} is already paused` : `Container ${id} is not running`;
    case "unpause":
      return `Container ${id} is not paused`;
    case "exec":
      if (status === "paused") return `Container ${id} is paused, unpause the container before exec`;
      if (status === "restarting") return `Container ${id} is restarting, wait until the container is running`;
      return `Container ${id} is not running`;
    case "start":
      if (status === "dead") return `Container ${id} is marked for removal and cannot be started`;
      return `Container ${id} is already running`;
    case "rename":
      return `Renaming a container with the state ${status} is not allowed`;
    case "copy":
      return `Cannot copy files of a ${status} container ${id}`;
    default:
      return `Container ${id} is not running`;
  }
}

/** Asks the table: true to go ahead, false when the move is a no-op; throws when refused. */
export function checkTransition(status: ContainerStatus, action: Action, id: string): boolean {
  const move = TRANSITIONS[status][action];
  if (move === undefined) throw new FailedPreconditionError(refusal(status, action, id));
  return move === "ok";
}
