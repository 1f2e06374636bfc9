// `run -t`: the container gets a pseudo-terminal; tinydock copies between it and its own stdio,
// puts its own terminal in raw mode (with -i) and passes window sizes on, as `docker run -it` does.
import fs from "node:fs";
import type { Sys } from "../sys/sys.ts";
import { makeRaw } from "./raw-terminal.ts";

export interface TtySession {
  /** The slave end, for the container's stdio. */
  slave: number;
  /** The container runs: close our copy of the slave, start copying. */
  started(): void;
  /** Resolves when the container side is closed and all output is written. */
  finished(): Promise<void>;
  /** Restore the caller's terminal; idempotent. */
  close(): void;
  /** With `logPipe`: the read end of a pipe that carries a copy of the terminal's output (for the log), -1 without. */
  logFeed: number;
}

export interface TtyOptions {
  interactive: boolean;
  out: NodeJS.WriteStream;
  in: NodeJS.ReadStream;
  /** A directory fd on a running container's root: the pty comes from its devpts (see Sys.openPty). */
  root?: number;
  /** A pipe maker (ffi.ts cloexecPipe): the output is also copied into one, whose read end is logFeed. */
  logPipe?: () => [number, number];
}

export function openTtySession(sys: Sys, opts: TtyOptions): TtySession {
  const { master, slave } = sys.openPty(opts.root);
  // The copy for the log: written as the terminal is, closed at the end (its reader's EOF).
  let [logFeed, logCopy] = opts.logPipe ? opts.logPipe() : [-1, -1];
  const closeLogCopy = () => {
    if (logCopy < 0) return;
    try {
      fs.closeSync(logCopy);
    } catch {}
    logCopy = -1;
  };
  let slaveOpen = true;
  let restoreTerminal = () => {};
  let closed = false;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const resize = () => {
    if (opts.out.isTTY && opts.out.rows && opts.out.columns) sys.setWinsize(master, opts.out.rows, opts.out.columns);
  };
  const onInput = (d: Buffer) => {
    try {
      fs.writeSync(master, d);
    } catch {}
  };
  resize();
  return {
    slave,
    get logFeed() {
      return logFeed;
    },
    started() {
      fs.closeSync(slave);
      slaveOpen = false;
      if (logFeed >= 0) fs.closeSync(logFeed); // the container's init has its copy
      logFeed = -1;
      if (opts.out.isTTY) process.on("SIGWINCH", resize);
      if (opts.interactive) {
        if (opts.in.isTTY) restoreTerminal = makeRaw(sys, 0); // process.stdin
        opts.in.on("data", onInput);
        opts.in.resume();
      }
      // Read the master until the kernel says EIO: every slave fd (the container's) is closed.
      const buf = Buffer.allocUnsafe(64 * 1024);
      const pump = () => {
        fs.read(master, buf, 0, buf.length, null, (err, n) => {
          if (err || n === 0) {
            closeLogCopy();
            done();
            return;
          }
          if (logCopy >= 0) {
            try {
              let off = 0;
              while (off < n) off += fs.writeSync(logCopy, buf, off, n - off);
            } catch {
              closeLogCopy(); // its reader is gone: the terminal still gets everything
            }
          }
          opts.out.write(Buffer.from(buf.subarray(0, n)), () => pump());
        });
      };
      pump();
    },
    finished: () => finished,
    close() {
      if (closed) return;
      closed = true;
      process.off("SIGWINCH", resize);
      opts.in.off("data", onInput);
      if (opts.interactive) opts.in.pause();
      restoreTerminal();
      if (slaveOpen) fs.closeSync(slave);
      closeLogCopy();
      if (logFeed >= 0) fs.closeSync(logFeed);
      logFeed = -1;
      try {
        fs.closeSync(master);
      } catch {}
    },
  };
}
