// `tinydock events`: the engine's event stream, one JSON line per event in <root>/events.jsonl in
// Docker's shape. The CLI appends what it does (create, stop, kill, destroy, pause, unpause,
// restart, rename, and the start/die of foreground runs); the monitor appends what it sees
// (src/sys/monitor/events.c: start, die, oom, health_status). Each line is one write() on an
// O_APPEND fd, so concurrent writers never interleave; past EVENTS_MAX bytes the file becomes
// <file>.1, the one older file kept. Reading, filtering and the text format are pure.
import fs from "node:fs";
import path from "node:path";
import { ParseError } from "../errors.ts";
import { parseGoDuration } from "./run/healthcheck.ts";

const O_CLOEXEC = 0o2000000;

/** The monitor's EVENTS_MAX too. */
export const EVENTS_MAX = 4 << 20;

export interface DockerEvent {
  status: string;
  id: string;
  from: string;
  Type: "container";
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  time: number;
  timeNano: number;
}

export function eventsFile(root: string): string {
  return path.join(root, "events.jsonl");
}

export interface EventActor {
  id: string;
  name: string;
  image: string;
  labels?: Record<string, string>;
}

/** The event as Docker writes it; its attributes are the container's labels, name, image and `extra`. */
export function makeEvent(action: string, a: EventActor, nowNs: bigint, extra: Record<string, string> = {}): DockerEvent {
  return {
    status: action,
    id: a.id,
    from: a.image,
    Type: "container",
    Action: action,
    Actor: { ID: a.id, Attributes: { ...(a.labels ?? {}), ...extra, image: a.image, name: a.name } },
    scope: "local",
    time: Number(nowNs / 1_000_000_000n),
    timeNano: Number(nowNs),
  };
}

/** Appends one event; a failure to record it never fails the command that caused it. */
export function appendEvent(root: string, action: string, a: EventActor, extra: Record<string, string> = {}): void {
  const file = eventsFile(root);
  // Wall time below the millisecond: the time origin plus the monotonic clock.
  const nowNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  try {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND | O_CLOEXEC, 0o640);
    try {
      if (fs.fstatSync(fd).size >= EVENTS_MAX) fs.renameSync(file, `${file}.1`);
      fs.writeSync(fd, `${JSON.stringify(makeEvent(action, a, nowNs, extra))}\n`);
    } finally {
      fs.closeSync(fd);
    }
  } catch {}
}

/** The actor of a container record. */
export function actorOf(rec: { id: string; name: string; image: string; labels?: Record<string, string>; config?: Record<string, unknown> }): EventActor {
  const labels = (rec.config?.Labels as Record<string, string> | undefined) ?? rec.labels;
  return { id: rec.id, name: rec.name, image: rec.image, ...(labels && Object.keys(labels).length ? { labels } : {}) };
}

const EVENT_FILTER_KEYS = ["container", "event", "type", "label", "image"] as const;
export type EventFilters = Partial<Record<(typeof EVENT_FILTER_KEYS)[number], string[]>>;

/** ["container=c", "event=die"] → {container: ["c"], event: ["die"]}; Docker's errors. */
export function parseEventFilters(specs: string[]): EventFilters {
  const out: EventFilters = {};
  for (const spec of specs) {
    const i = spec.indexOf("=");
    if (i <= 0) throw new ParseError(`Bad format of filter (expected name=value): ${spec}`);
    const key = spec.slice(0, i).trim().toLowerCase();
    if (!(EVENT_FILTER_KEYS as readonly string[]).includes(key)) throw new ParseError(`Invalid filter '${key}'`);
    (out[key as keyof EventFilters] ??= []).push(spec.slice(i + 1));
  }
  return out;
}

/** Values of one key are OR'd, keys AND'd. event= matches the action before its ": " too (health_status). */
export function matchesEvent(e: DockerEvent, f: EventFilters): boolean {
  const attrs = e.Actor.Attributes;
  if (f.type && !f.type.includes(e.Type)) return false;
  if (f.event && !f.event.some((v) => e.Action === v || e.Action.split(":")[0] === v)) return false;
  if (f.container && !f.container.some((v) => attrs.name === v || (v.length > 0 && e.Actor.ID.startsWith(v)))) return false;
  const untagged = (ref: string | undefined) => ref?.replace(/:latest$/, "");
  if (f.image && !f.image.some((v) => untagged(attrs.image) === untagged(v) || untagged(e.from) === untagged(v))) return false;
  if (f.label) {
    for (const l of f.label) {
      const i = l.indexOf("=");
      if (i < 0 ? !(l in attrs) : attrs[l.slice(0, i)] !== l.slice(i + 1)) return false;
    }
  }
  return true;
}

/**
 * --since/--until as Docker reads them: Unix seconds (with a fraction), an RFC 3339 date, or a Go
 * duration back from now ("10m"). In ns.
 */
export function parseEventTime(input: string, nowMs: number, flag: string): bigint {
  if (/^\d+(\.\d{1,9})?$/.test(input)) {
    const [s, frac = ""] = input.split(".");
    return BigInt(s!) * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
  }
  try {
    return BigInt(nowMs) * 1_000_000n - BigInt(parseGoDuration(input));
  } catch {}
  const t = Date.parse(input);
  if (Number.isNaN(t)) throw new ParseError(`Cannot parse ${flag} "${input}": not a Unix time, an RFC 3339 date nor a duration`);
  return BigInt(t) * 1_000_000n;
}

/** The events in text, one JSON line each; lines that do not parse are skipped. */
export function parseEventLines(text: string): DockerEvent[] {
  const out: DockerEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as DockerEvent;
      if (e && typeof e.timeNano === "number" && e.Actor) out.push(e);
    } catch {}
  }
  return out;
}

/** Docker's text line: "2024-01-02T03:04:05.123456789Z container die <id> (exitCode=0, image=busybox, name=c)". */
export function formatEvent(e: DockerEvent): string {
  const ns = BigInt(e.timeNano);
  const iso = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
  const nano = String(ns % 1_000_000_000n).padStart(9, "0");
  const attrs = Object.keys(e.Actor.Attributes)
    .sort()
    .map((k) => `${k}=${e.Actor.Attributes[k]}`)
    .join(", ");
  return `${iso}.${nano}Z ${e.Type} ${e.Action} ${e.Actor.ID}${attrs ? ` (${attrs})` : ""}`;
}

export interface FollowOptions {
  sinceNs?: bigint;
  untilNs?: bigint;
  filters: EventFilters;
  emit: (e: DockerEvent) => void;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Stops the following (SIGINT); checked between polls. */
  stopped: () => boolean;
  pollMs?: number;
}

/**
 * The events from --since (or from now) to --until (or until stopped), in file order. Without
 * --since only new events come, as Docker's. The file is polled; a rotation (a new inode) is
 * followed from the new file's start.
 */
export async function followEvents(root: string, o: FollowOptions): Promise<void> {
  const file = eventsFile(root);
  const inWindow = (e: DockerEvent) => {
    const t = BigInt(e.timeNano);
    return (o.sinceNs === undefined || t >= o.sinceNs) && (o.untilNs === undefined || t <= o.untilNs);
  };
  const pass = (e: DockerEvent) => {
    if (inWindow(e) && matchesEvent(e, o.filters)) o.emit(e);
  };
  const read = (f: string, from: number): { text: string; end: number; ino: number } | null => {
    let fd: number;
    try {
      fd = fs.openSync(f, "r");
    } catch {
      return null;
    }
    try {
      const st = fs.fstatSync(fd);
      const size = st.size;
      if (size <= from) return { text: "", end: size < from ? 0 : from, ino: st.ino };
      const buf = Buffer.alloc(size - from);
      const n = fs.readSync(fd, buf, 0, buf.length, from);
      const text = buf.subarray(0, n).toString("utf8");
      const cut = text.lastIndexOf("\n") + 1; // a line still being written waits
      return { text: text.slice(0, cut), end: from + Buffer.byteLength(text.slice(0, cut)), ino: st.ino };
    } finally {
      fs.closeSync(fd);
    }
  };
  let offset = 0;
  let ino = -1;
  if (o.sinceNs !== undefined) {
    const old = read(`${file}.1`, 0);
    if (old) for (const e of parseEventLines(old.text)) pass(e);
    const cur = read(file, 0);
    if (cur) {
      for (const e of parseEventLines(cur.text)) pass(e);
      offset = cur.end;
      ino = cur.ino;
    }
  } else {
    try {
      const st = fs.statSync(file);
      offset = st.size;
      ino = st.ino;
    } catch {}
  }
  const pastUntil = () => o.untilNs !== undefined && BigInt(o.now()) * 1_000_000n > o.untilNs;
  while (!o.stopped() && !pastUntil()) {
    await o.sleep(o.pollMs ?? 100);
    const r = read(file, 0 + offset);
    if (!r) continue;
    if (r.ino !== ino) {
      // Rotated: the rest of the old file (now <file>.1), then the new one from its start.
      if (ino !== -1) {
        const old = read(`${file}.1`, offset);
        if (old) for (const e of parseEventLines(old.text)) pass(e);
      }
      ino = r.ino;
      offset = 0;
      continue;
    }
    for (const e of parseEventLines(r.text)) pass(e);
    offset = r.end;
  }
}
