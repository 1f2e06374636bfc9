// Docker's json-file logs, read back: <id>-json.log and its rotated files (.1 newest … .N oldest),
// oldest first, each line {"log","stream","time"}; --tail, --since, --until, -t, and -f that follows
// new lines across rotations until the container has exited.
import fs from "node:fs";
import path from "node:path";
import { dirNames } from "../atomic.ts";
import { ParseError } from "../errors.ts";

export interface LogEntry {
  log: string;
  stream: "stdout" | "stderr";
  time: string;
}

/** Rotated files oldest first, then the live file; only those that exist. */
export function logFiles(dir: string, id: string): string[] {
  const base = `${id}-json.log`;
  const names = dirNames(dir);
  const rotated = names
    .map((n) => (n.startsWith(`${base}.`) && /^\d+$/.test(n.slice(base.length + 1)) ? Number(n.slice(base.length + 1)) : -1))
    .filter((n) => n > 0)
    .sort((a, b) => b - a)
    .map((n) => path.join(dir, `${base}.${n}`));
  return names.includes(base) ? [...rotated, path.join(dir, base)] : rotated;
}

/** One line of the file; undefined for a torn or foreign line (skipped, as Docker's reader does). */
export function parseLogLine(line: string): LogEntry | undefined {
  if (line === "") return undefined;
  try {
    const v = JSON.parse(line) as Partial<LogEntry>;
    if (typeof v.log !== "string" || typeof v.time !== "string") return undefined;
    return { log: v.log, stream: v.stream === "stderr" ? "stderr" : "stdout", time: v.time };
  } catch {
    return undefined;
  }
}

/** RFC 3339 (any fraction) → nanoseconds since the epoch; undefined when it does not parse. */
export function timeNs(s: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)?$/.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3] ?? "Z"}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0") || "0");
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * --since / --until as Docker takes them: RFC 3339 (date-only and no-zone forms too), a Unix
 * timestamp with optional fraction, or a Go duration relative to now ("10m", "1h30m").
 */
export function parseLogTime(input: string, nowMs: number): bigint {
  const t = input.trim();
  if (/^\d+(\.\d{1,9})?$/.test(t)) {
    const [sec, frac = ""] = t.split(".");
    return BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
  }
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(t)) {
    let ms = 0;
    for (const [, n, u] of t.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * UNITS[u!]!;
    return BigInt(Math.round((nowMs - ms) * 1000)) * 1000n;
  }
  const full = /^\d{4}-\d\d-\d\d$/.test(t) ? `${t}T00:00:00Z` : /T\d\d:\d\d(:\d\d)?(\.\d+)?$/.test(t) ? `${t}Z` : t;
  const withSeconds = full.replace(/T(\d\d:\d\d)(Z|[+-])/, "T$1:00$2");
  const ns = timeNs(withSeconds);
  if (ns === undefined) throw new ParseError(`Cannot parse time "${input}": not a timestamp, RFC 3339 date or duration`);
  return ns;
}

export interface LogSelection {
  /** Last N entries; undefined or negative = all. */
  tail?: number;
  sinceNs?: bigint;
  untilNs?: bigint;
}

export function inWindow(e: LogEntry, sel: LogSelection): boolean {
  if (sel.sinceNs === undefined && sel.untilNs === undefined) return true;
  const t = timeNs(e.time);
  if (t === undefined) return true;
  if (sel.sinceNs !== undefined && t < sel.sinceNs) return false;
  if (sel.untilNs !== undefined && t > sel.untilNs) return false;
  return true;
}

function entriesOf(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split("\n")) {
    const e = parseLogLine(line);
    if (e) out.push(e);
  }
  return out;
}

/** Every selected entry in order. --tail is applied after the time window, as Docker does. */
export function readLogs(dir: string, id: string, sel: LogSelection = {}): LogEntry[] {
  const all: LogEntry[] = [];
  for (const f of logFiles(dir, id)) {
    let text: string;
    try {
      text = fs.readFileSync(f, "utf8");
    } catch {
      continue; // rotated away while we listed
    }
    for (const e of entriesOf(text)) if (inWindow(e, sel)) all.push(e);
  }
  return sel.tail !== undefined && sel.tail >= 0 ? all.slice(Math.max(0, all.length - sel.tail)) : all;
}

/** Docker's -t: the entry's time (RFC3339Nano with 9 digits) and a space before each line. */
export function formatEntry(e: LogEntry, timestamps: boolean): string {
  if (!timestamps) return e.log;
  const ns = timeNs(e.time);
  let t = e.time;
  if (ns !== undefined) {
    const ms = Number(ns / 1_000_000n);
    t = `${new Date(ms).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, "0")}Z`;
  }
  return `${t} ${e.log}`;
}

export interface FollowOptions {
  sel: LogSelection;
  emit: (e: LogEntry) => void;
  /** True while the container may still write (running or restarting). */
  running: () => boolean;
  sleep: (ms: number) => Promise<void>;
  pollMs?: number;
  /** Stop early (Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * Prints what is there (tail applied), then follows the live file: new lines as they come, the
 * next file when it is rotated (the old one drained first), until the container has exited.
 */
export async function followLogs(dir: string, id: string, opts: FollowOptions): Promise<void> {
  const live = path.join(dir, `${id}-json.log`);
  // Open the live file first, so nothing written between the read and the follow is lost or doubled.
  let fd = openIfExists(live);
  let offset = 0;
  let ino = fd === undefined ? -1 : fs.fstatSync(fd).ino;
  {
    const rotated = logFiles(dir, id).filter((f) => f !== live);
    const entries: LogEntry[] = [];
    for (const f of rotated) {
      try {
        for (const e of entriesOf(fs.readFileSync(f, "utf8"))) if (inWindow(e, opts.sel)) entries.push(e);
      } catch {}
    }
    if (fd !== undefined) {
      const { text, consumed } = readComplete(fd, 0);
      offset = consumed;
      for (const e of entriesOf(text)) if (inWindow(e, opts.sel)) entries.push(e);
    }
    const tail = opts.sel.tail;
    for (const e of tail !== undefined && tail >= 0 ? entries.slice(Math.max(0, entries.length - tail)) : entries) opts.emit(e);
  }
  const poll = opts.pollMs ?? 50;
  const drain = () => {
    if (fd === undefined) return;
    const { text, consumed } = readComplete(fd, offset);
    offset += consumed;
    for (const e of entriesOf(text)) if (inWindow(e, opts.sel)) opts.emit(e);
  };
  try {
    for (;;) {
      if (opts.signal?.aborted) return;
      // Asked before reading: whatever the container wrote before it was seen exited is drained below.
      const stillRunning = opts.running();
      drain();
      const st = fs.statSync(live, { throwIfNoEntry: false });
      if (st && st.ino !== ino) {
        // Rotated: finish the old file, then any whole files rotated past us since the last poll
        // (between the old file, now .k, and the live one), then the new live file from 0.
        drain();
        if (fd !== undefined) fs.closeSync(fd);
        const rotated = logFiles(dir, id).filter((f) => f !== live);
        const k = rotated.findIndex((f) => fs.statSync(f, { throwIfNoEntry: false })?.ino === ino);
        for (const f of k >= 0 ? rotated.slice(k + 1) : []) {
          try {
            for (const e of entriesOf(fs.readFileSync(f, "utf8"))) if (inWindow(e, opts.sel)) opts.emit(e);
          } catch {}
        }
        fd = openIfExists(live);
        ino = fd === undefined ? -1 : fs.fstatSync(fd).ino;
        offset = 0;
        drain();
        continue;
      }
      if (!stillRunning) return;
      await opts.sleep(poll);
    }
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function openIfExists(file: string): number | undefined {
  try {
    return fs.openSync(file, "r");
  } catch {
    return undefined;
  }
}

/** Reads from offset to EOF, keeping back a last line not yet ended by "\n" (still being written). */
function readComplete(fd: number, offset: number): { text: string; consumed: number } {
  const chunks: Buffer[] = [];
  let pos = offset;
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    pos += n;
  }
  const all = Buffer.concat(chunks);
  const end = all.lastIndexOf(0x0a) + 1;
  return { text: all.subarray(0, end).toString("utf8"), consumed: end };
}

/** --tail ("all" or a number), --since, --until as the CLI takes them. */
export function parseLogSelection(opts: { tail?: string | undefined; since?: string | undefined; until?: string | undefined }, nowMs: number): LogSelection {
  const tailText = opts.tail ?? "all";
  let tail: number | undefined;
  if (tailText !== "all") {
    if (!/^-?\d+$/.test(tailText)) throw new ParseError(`Cannot parse --tail "${tailText}": not a number or "all"`);
    tail = Number(tailText);
  }
  return {
    ...(tail !== undefined ? { tail } : {}),
    ...(opts.since ? { sinceNs: parseLogTime(opts.since, nowMs) } : {}),
    ...(opts.until ? { untilNs: parseLogTime(opts.until, nowMs) } : {}),
  };
}

/** One container's log to show: `prefix` goes before each line (podman's, when it shows several). */
export interface LogSource {
  id: string;
  dir: string;
  prefix: string;
  /** True while the container may still write (for -f). */
  running: () => boolean;
}

export interface ShowOptions {
  sel: LogSelection;
  timestamps: boolean;
  follow: boolean;
  sleep: (ms: number) => Promise<void>;
  out: (s: string) => void;
  err: (s: string) => void;
}

/**
 * `logs` and `pod logs`: each source's selected entries (--tail per container, as podman applies
 * it), several sources merged in time order; with -f, every source followed until all have exited
 * or SIGINT/SIGTERM.
 */
export async function showLogs(sources: LogSource[], o: ShowOptions): Promise<void> {
  const emitter = (prefix: string) => (e: LogEntry) => (e.stream === "stderr" ? o.err : o.out)(`${prefix}${formatEntry(e, o.timestamps)}`);
  if (!o.follow) {
    const all = sources.flatMap((s) => readLogs(s.dir, s.id, o.sel).map((e) => ({ e, s, t: timeNs(e.time) ?? 0n })));
    if (sources.length > 1) all.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
    for (const { e, s } of all) emitter(s.prefix)(e);
    return;
  }
  const abort = new AbortController();
  const onSig = () => abort.abort();
  process.once("SIGINT", onSig);
  process.once("SIGTERM", onSig);
  try {
    await Promise.all(sources.map((s) => followLogs(s.dir, s.id, { sel: o.sel, emit: emitter(s.prefix), running: s.running, sleep: o.sleep, signal: abort.signal })));
  } finally {
    process.off("SIGINT", onSig);
    process.off("SIGTERM", onSig);
  }
}
