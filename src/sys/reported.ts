// Starting a monitor that takes its input on fd 0 and reports on fd 1, which it closes once it has
// reported. The caller waits for that report anyway: both ends are plain pipes written and read here
// with blocking calls, not streams fed by the event loop (a detached run's start spent ~15% of its
// JS time in Bun.spawn's stdin writer and the ReadableStream of its stdout).
import fs from "node:fs";
import type { Subprocess } from "bun";
import { cloexecPipe } from "./ffi.ts";

export interface ReportedSpawn {
  argv0: string;
  env?: Record<string, string | undefined>;
  /** Written to the process's fd 0, then closed (absent: fd 0 is /dev/null). */
  input?: Uint8Array;
  /**
   * Instead of input: fd 0 is a pipe whose write end this process keeps open and never writes, so
   * the child reads EOF when we exit (close-on-exec: no child of ours holds it).
   */
  holdInput?: boolean;
  /** Its fds 3, 4, …: these fds of ours, or /dev/null. */
  fds?: (number | "ignore")[];
  /** In a session of its own (Bun.spawn's detached). */
  detached?: boolean;
}

/** Spawns `argv` and blocks until its fd 1 reaches EOF: the process and all it wrote there. */
export function spawnReported(argv: string[], o: ReportedSpawn): { proc: Subprocess; report: Uint8Array } {
  const input = o.input ?? (o.holdInput ? new Uint8Array(0) : undefined);
  const [inRead, inWrite] = input ? cloexecPipe() : [-1, -1];
  let out: [number, number] | undefined;
  let proc: Subprocess;
  try {
    out = cloexecPipe();
    const stdio = [input ? inRead : "ignore", out[1], "ignore", ...(o.fds ?? [])] as const;
    proc = Bun.spawn(argv, { argv0: o.argv0, stdio: stdio as never, ...(o.env ? { env: o.env } : {}), ...(o.detached ? { detached: true } : {}) });
  } catch (err) {
    if (input) fs.closeSync(inWrite);
    if (out) fs.closeSync(out[0]);
    throw err;
  } finally {
    if (input) fs.closeSync(inRead);
    if (out) fs.closeSync(out[1]);
  }
  if (input && !o.holdInput) {
    try {
      for (let off = 0; off < input.length; ) off += fs.writeSync(inWrite, input, off, input.length - off);
    } catch {
      // EPIPE: it ended before reading it all; its report (or none) says why
    } finally {
      fs.closeSync(inWrite);
    }
  }
  try {
    return { proc, report: readToEnd(out[0]) };
  } finally {
    fs.closeSync(out[0]);
  }
}

function readToEnd(fd: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = new Uint8Array(4096);
    const n = fs.readSync(fd, chunk, 0, chunk.length, null);
    if (n <= 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}
