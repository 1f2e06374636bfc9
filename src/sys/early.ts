// Sys.startEarly: the monitor's `launch` mode, started before the plan exists (see monitor/launch.c),
// and the state of that early start as a pure transition function (nextEarlyState).
import fs from "node:fs";
import os from "node:os";
import { InternalError, InvalidArgumentError, SyscallError } from "../errors.ts";
import { deferred } from "./deferred.ts";
import { dupFdAbove2, errno, errnoName, lib } from "./ffi.ts";
import { encodeMessage, EventType, MessageType, readEvents, type InitEvent } from "./protocol.ts";
import type { ContainerProcess, EarlyContainer, EarlyLog, ProcessExit, InitFailure } from "./sys.ts";

/**
 * waiting (for its plan) → starting (plan sent) → running (exec'd) or failed (the init gave up, or
 * the plan was refused) → ended (reaped). Only a running command is signalled.
 */
export type EarlyPhase = "waiting" | "starting" | "running" | "failed" | "ended";

export interface EarlyState {
  phase: EarlyPhase;
  /** The container's PID 1 as the host sees it, once reported (0 before). */
  pid: number;
}

export const EARLY_WAITING: EarlyState = { phase: "waiting", pid: 0 };

/** The state after `input`; a second plan is a bug of the caller (the init takes one). */
export function nextEarlyState(s: EarlyState, input: InitEvent | { type: "plan" }): EarlyState {
  switch (input.type) {
    case "plan":
      if (s.phase !== "waiting") throw new InternalError("the container init was already given its plan");
      return { ...s, phase: "starting" };
    case EventType.Started:
      return { phase: s.phase === "ended" ? "ended" : "running", pid: input.pid ?? s.pid };
    case EventType.Failure:
    case EventType.Malformed:
      return { ...s, phase: s.phase === "ended" ? "ended" : "failed" };
    case EventType.Exited:
      return { ...s, phase: "ended" };
  }
}

const SYS_PIDFD_OPEN = 434;

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
}

/** Blocks until the process of pidfd has exited, at most timeoutMs: whether it did. */
function waitGone(pidfd: number, timeoutMs: number): boolean {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(pidfd, 0);
  pfd.writeInt16LE(1 /* POLLIN */, 4);
  const until = performance.now() + timeoutMs;
  for (;;) {
    const left = Math.max(0, Math.ceil(until - performance.now()));
    const r = lib().poll(pfd, 1, left);
    if (r > 0) return true;
    if (r === 0 || errno() !== 4 /* EINTR */) return false;
  }
}

export function startEarly(executable: string, o: { cloneFlags: number; fds: number[]; discardAfterExit?: boolean; log?: EarlyLog; pidNamespace?: string }): EarlyContainer {
  const ends = new Int32Array(2);
  if (lib().pipe2(ends, 0o2000000 /* O_CLOEXEC */) !== 0) {
    const n = errno();
    throw new SyscallError("pipe2 for the container init", n, errnoName(n));
  }
  const [readEnd, writeEnd] = [ends[0]!, ends[1]!];
  let proc: ReturnType<typeof Bun.spawn>;
  // Bun.spawn passes a 0 among the extra stdio as something else (an epoll fd): copies above 2.
  const copies: number[] = [];
  try {
    const slots = o.fds.map((fd) => {
      if (fd < 0) return "ignore" as const;
      if (fd > 2) return fd;
      copies.push(dupFdAbove2(fd));
      return copies[copies.length - 1]!;
    });
    const log = o.log ? ["-l", o.log.path, "-s", String(o.log.maxSize), "-n", String(o.log.maxFile), ...(o.log.feed ? ["-f", String(2 + o.fds.length)] : [])] : [];
    // A PID namespace to clone the container's process into (--pid container:NAME).
    const pidNs = o.pidNamespace ? ["-p", o.pidNamespace] : [];
    proc = Bun.spawn([executable, "launch", String(o.cloneFlags >>> 0), String(process.pid), ...pidNs, ...log], {
      argv0: "tinydock-monitor",
      stdio: [readEnd, "pipe", "ignore", ...slots],
      env: {},
    });
  } catch (err) {
    fs.closeSync(writeEnd);
    throw err;
  } finally {
    fs.closeSync(readEnd);
    for (const fd of copies) fs.closeSync(fd);
  }
  // Open while it surely runs (it waits for our messages; Bun reaps only from its event loop): abort
  // waits on it for the end, which comes only after the container process was reaped.
  const pidfd = Number(lib().syscall(SYS_PIDFD_OPEN, proc.pid, null, null, 0));
  let control = writeEnd;
  let pidfdOpen = pidfd >= 0;
  let state = EARLY_WAITING;
  const started = deferred<InitFailure | null>();
  const exited = deferred<ProcessExit>();
  const closeControl = () => {
    if (control < 0) return;
    fs.closeSync(control);
    control = -1;
  };
  const closePidfd = () => {
    if (!pidfdOpen) return;
    pidfdOpen = false;
    fs.closeSync(pidfd);
  };
  const send = (type: MessageType, payload: Uint8Array): boolean => {
    if (control < 0) return false;
    try {
      writeAll(control, encodeMessage(type, payload));
      return true;
    } catch {
      return false; // it has ended (EPIPE): the events say how
    }
  };
  readEvents(proc.stdout as ReadableStream<Uint8Array>, {
    started(f, p) {
      state = f ? nextEarlyState(state, { type: EventType.Failure, failure: f }) : nextEarlyState(state, { type: EventType.Started, ...(p !== undefined ? { pid: p } : {}) });
      started.resolve(f);
    },
    exited(e) {
      state = nextEarlyState(state, { type: EventType.Exited, exit: e });
      closePidfd();
      if (!o.discardAfterExit) closeControl(); // else open for discard() (or abort())
      started.reject(new InternalError("The container init ended before the command started")); // a no-op once settled
      exited.resolve(e);
    },
    malformed(offset) {
      state = nextEarlyState(state, { type: EventType.Malformed, offset });
      started.reject(new InvalidArgumentError(`Cannot start the container: the encoded run plan is malformed at byte ${offset}`));
    },
  }, true).catch(async (err: unknown) => {
    // It ended without its exit report: killed (the container died with it, PR_SET_PDEATHSIG), or a bug.
    const code = await proc.exited;
    closeControl();
    closePidfd();
    const signal = proc.signalCode;
    const e = new InternalError(`The container init ended (${signal ?? `exit ${code}`}) without reporting: ${(err as Error).message}`);
    started.reject(e); // a no-op once it had started
    const n = typeof signal === "string" ? os.constants.signals[signal] : (signal ?? undefined);
    if (n !== undefined) exited.resolve({ exitCode: 128 + n, signal: n });
    else exited.reject(e);
  });
  const container: ContainerProcess = {
    get pid() {
      return state.pid;
    },
    started: started.promise,
    exited: exited.promise,
    kill(signal) {
      if (state.phase !== "running") return;
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, signal, true);
      send(MessageType.Signal, b);
    },
  };
  return {
    fdMap: o.fds.map((fd, i) => (fd >= 0 ? 3 + i : -1)),
    start(plan) {
      state = nextEarlyState(state, { type: "plan" });
      send(MessageType.Plan, plan);
      return container;
    },
    ended: proc.exited.then(
      () => {},
      () => {},
    ),
    discard(dir) {
      const sent = send(MessageType.Remove, new TextEncoder().encode(dir));
      closeControl(); // EOF: it exits once done
      // This process exits without waiting for the removal, unless it is the init of its PID
      // namespace (tinydock as a CI container's PID 1): its exit would kill the removal midway.
      if (process.pid !== 1) proc.unref();
      return sent;
    },
    abort() {
      if (state.phase === "running") container.kill(9);
      closeControl(); // before the plan: it kills the waiting process, reaps it, and exits
      if (pidfdOpen && !waitGone(pidfd, 5000)) throw new InternalError(`The container init (pid ${proc.pid}) did not end within 5 s`);
      closePidfd();
    },
  };
}
