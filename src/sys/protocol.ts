// The one codec of the records between the C init/monitor and TypeScript (all i32/u32 little-endian):
//   events (init/report.c `enum event`), from td_spawn's waiter thread, the monitor's `launch` mode,
//   and the start report of its `run` and `exec` modes on fd 1:
//     [1, stage, errno, index, len, detail…]  the init gave up (InitFailure)
//     [2] (waiter thread) or [2, pid] (monitor)  the command has exec'd
//     [3, exitCode, signal]                      PID 1 was reaped
//     [4, offset]                                the launch mode's parser refused the plan
//   messages (monitor/launch.c `enum message`), from the CLI to the launch mode: [type, len, payload].
//   a container's Kubernetes probes for the monitor (monitor/probe.c), DIR/probes.bin: encodeProbes.
// Pure: test/unit/sys/protocol.test.ts checks it, and the enums against the C source.
import { errnoName } from "./ffi.ts";
import type { InitFailure, ProcessExit } from "./sys.ts";

export enum EventType {
  Failure = 1,
  Started = 2,
  Exited = 3,
  Malformed = 4,
}

export enum MessageType {
  Plan = 2,
  Signal = 3,
  Remove = 4,
}

export type InitEvent =
  | { type: EventType.Failure; failure: InitFailure }
  | { type: EventType.Started; pid?: number }
  | { type: EventType.Exited; exit: ProcessExit }
  | { type: EventType.Malformed; offset: number };

/** The longest detail of a failure record (init/report.c struct failure). */
const MAX_DETAIL = 1024;

/**
 * The first event in buf and the bytes it took, or null while it is incomplete. `startedHasPid`:
 * [2, pid] (the monitor) rather than [2] (the waiter thread). Throws on what no C side writes.
 */
export function decodeEvent(buf: Uint8Array, startedHasPid: boolean): { event: InitEvent; used: number } | null {
  if (buf.length < 4) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const type = view.getInt32(0, true);
  switch (type) {
    case EventType.Started:
      if (!startedHasPid) return { event: { type }, used: 4 };
      return buf.length < 8 ? null : { event: { type, pid: view.getInt32(4, true) }, used: 8 };
    case EventType.Failure: {
      if (buf.length < 20) return null;
      const len = view.getInt32(16, true);
      if (len < 0 || len > MAX_DETAIL) throw new Error(`bad failure record length ${len}`);
      if (buf.length < 20 + len) return null;
      const err = view.getInt32(8, true);
      const failure: InitFailure = {
        stage: view.getInt32(4, true),
        errno: err,
        code: errnoName(err),
        index: view.getInt32(12, true),
        detail: new TextDecoder().decode(buf.subarray(20, 20 + len)),
      };
      return { event: { type, failure }, used: 20 + len };
    }
    case EventType.Exited: {
      if (buf.length < 12) return null;
      const exitCode = view.getInt32(4, true);
      const signal = view.getInt32(8, true);
      return { event: { type, exit: signal ? { exitCode, signal } : { exitCode } }, used: 12 };
    }
    case EventType.Malformed:
      return buf.length < 8 ? null : { event: { type, offset: view.getInt32(4, true) }, used: 8 };
    default:
      throw new Error(`unknown event ${type}`);
  }
}

/** Events as the bytes of a pipe arrive, in any chunks. */
export class EventDecoder {
  private buf = new Uint8Array(0);
  constructor(private readonly startedHasPid: boolean) {}

  push(chunk: Uint8Array): InitEvent[] {
    const next = new Uint8Array(this.buf.length + chunk.length);
    next.set(this.buf);
    next.set(chunk, this.buf.length);
    this.buf = next;
    const events: InitEvent[] = [];
    for (;;) {
      const d = decodeEvent(this.buf, this.startedHasPid);
      if (!d) return events;
      events.push(d.event);
      this.buf = this.buf.subarray(d.used);
    }
  }
}

/** The monitor's start report (`run`, `exec`), read to EOF: the pid, or what the init reported; null for anything else. */
export function parseStartReport(bytes: Uint8Array): { pid: number } | { failure: InitFailure } | null {
  let d: ReturnType<typeof decodeEvent>;
  try {
    d = decodeEvent(bytes, true);
  } catch {
    return null;
  }
  if (d?.event.type === EventType.Started) return { pid: d.event.pid! };
  if (d?.event.type === EventType.Failure) return { failure: d.event.failure };
  return null;
}

export interface EventHandlers {
  started(f: InitFailure | null, pid?: number): void;
  exited(e: ProcessExit): void;
  /** [4, offset]: the early init's parser refused the plan. */
  malformed?(offset: number): void;
}

/**
 * Follows an events pipe to its end (Bun reads it from its event loop, epoll: nothing blocks while
 * the container runs). Rejects when the pipe closes before the exit status, or on a record no C side
 * writes.
 */
export async function readEvents(stream: ReadableStream<Uint8Array>, on: EventHandlers, startedHasPid: boolean): Promise<void> {
  const decoder = new EventDecoder(startedHasPid);
  let done = false;
  for await (const chunk of stream) {
    for (const e of decoder.push(chunk)) {
      if (e.type === EventType.Started) {
        if (startedHasPid) on.started(null, e.pid);
        else on.started(null);
      } else if (e.type === EventType.Failure) {
        on.started(e.failure);
      } else if (e.type === EventType.Exited) {
        on.exited(e.exit);
        done = true;
      } else if (on.malformed) {
        on.malformed(e.offset);
      } else {
        throw new Error(`unknown event ${e.type}`);
      }
    }
  }
  if (!done) throw new Error("the events pipe closed before the exit status");
}

/** One message of the CLI to the launch mode: [type, len, payload]. */
export function encodeMessage(type: MessageType, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

/** monitor/probe.c enum probe_kind and enum probe_action. */
export enum ProbeKindCode {
  Liveness = 0,
  Readiness = 1,
  Startup = 2,
}
export enum ProbeActionCode {
  Exec = 0,
  Http = 1,
  Tcp = 2,
}

/** One probe as the monitor takes it (DIR/probes.bin, see monitor/probe.c). */
export interface MonitorProbe {
  kind: ProbeKindCode;
  action: ProbeActionCode;
  delayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
  port: number;
  /** The address's four bytes; null for the pod's. */
  ip: number[] | null;
  /** The monitor adds "Host: ip:port" after the request line. */
  addHost: boolean;
  /** exec: the encoded plan; httpGet: the request without its Host header; tcpSocket: empty. */
  payload: Uint8Array;
}

/** [count], then per probe 11 u32s and its payload (monitor/probe.c probes_load). */
export function encodeProbes(probes: MonitorProbe[]): Uint8Array {
  const size = 4 + probes.reduce((n, p) => n + 44 + p.payload.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, probes.length, true);
  let off = 4;
  for (const p of probes) {
    const ip = p.ip ? (p.ip[0]! | (p.ip[1]! << 8) | (p.ip[2]! << 16) | (p.ip[3]! << 24)) >>> 0 : 0;
    const fields = [p.kind, p.action, p.delayMs, p.periodMs, p.timeoutMs, p.successThreshold, p.failureThreshold, p.port, ip, p.addHost ? 1 : 0, p.payload.length];
    for (const f of fields) {
      v.setUint32(off, f, true);
      off += 4;
    }
    out.set(p.payload, off);
    off += p.payload.length;
  }
  return out;
}
