// `run -t`, `exec -t`: the container's init makes the terminal in the container's own devpts and
// sends its master back through a console socket (runc's design, src/sys/init/console.c); tinydock
// copies between it and its own stdio, puts its own terminal in raw mode (with -i) and passes window
// sizes on, as `docker run -it` does.
import fs from "node:fs";
import type { Sys } from "../sys/sys.ts";
import { makeRaw } from "./raw-terminal.ts";
import { within } from "./stdio-relay.ts";

/** Docker's size for a terminal that is not sized from the caller's (run -dit from a pipe). */
export const DEFAULT_CONSOLE_SIZE = { rows: 24, cols: 80 } as const;

/** The caller's terminal size (stdout), or Docker's default when it has none. */
export function consoleSizeOf(out: { isTTY?: boolean; rows?: number; columns?: number }): { rows: number; cols: number } {
  return out.isTTY && out.rows && out.columns ? { rows: out.rows, cols: out.columns } : { ...DEFAULT_CONSOLE_SIZE };
}

export interface TtySession {
  /** The init's end of the console socket, for the plan (consoleSocket). */
  console: number;
  /** The size the init gives the terminal before the command starts. */
  size: { rows: number; cols: number };
  /** The command runs: its master is here (sent before execve); start copying. */
  started(): void;
  /** Resolves when the container side is closed and all output is written, or after `ms` (the timer cleared: it must not keep this process alive). */
  finished(ms: number): Promise<void>;
  /** Restore the caller's terminal; idempotent. */
  close(): void;
  /** With `logPipe`: the read end of a pipe that carries a copy of the terminal's output (for the log), -1 without. */
  logFeed: number;
}

export interface TtyOptions {
  interactive: boolean;
  out: NodeJS.WriteStream;
  in: NodeJS.ReadStream;
  /** A pipe maker (ffi.ts cloexecPipe): the output is also copied into one, whose read end is logFeed. */
  logPipe?: () => [number, number];
}

export function openTtySession(sys: Sys, opts: TtyOptions): TtySession {
  let [sock, initEnd] = sys.consoleSocket();
  const theirs = initEnd;
  let master = -1;
  // The copy for the log: written as the terminal is, closed at the end (its reader's EOF).
  let [logFeed, logCopy] = opts.logPipe ? opts.logPipe() : [-1, -1];
  const closeFd = (fd: number) => {
    if (fd < 0) return;
    try {
      fs.closeSync(fd);
    } catch {}
  };
  const closeLogCopy = () => {
    closeFd(logCopy);
    logCopy = -1;
  };
  let restoreTerminal = () => {};
  let closed = false;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const resize = () => {
    if (master >= 0 && opts.out.isTTY && opts.out.rows && opts.out.columns) sys.setWinsize(master, opts.out.rows, opts.out.columns);
  };
  const onInput = (d: Buffer) => {
    try {
      fs.writeSync(master, d);
    } catch {}
  };
  return {
    console: theirs,
    size: consoleSizeOf(opts.out),
    get logFeed() {
      return logFeed;
    },
    started() {
      closeFd(initEnd);
      initEnd = -1;
      master = sys.receiveFd(sock);
      closeFd(sock);
      sock = -1;
      if (logFeed >= 0) fs.closeSync(logFeed); // the container's init has its copy
      logFeed = -1;
      if (master < 0) {
        // Cannot happen once the command exec'd (the init sends it first); nothing to copy then.
        closeLogCopy();
        done();
        return;
      }
      if (opts.out.isTTY) process.on("SIGWINCH", resize);
      if (opts.interactive) {
        if (opts.in.isTTY) restoreTerminal = makeRaw(sys, 0); // opts.in is process.stdin
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
    finished: (ms) => within(finished, ms),
    close() {
      if (closed) return;
      closed = true;
      process.off("SIGWINCH", resize);
      opts.in.off("data", onInput);
      if (opts.interactive) opts.in.pause();
      restoreTerminal();
      closeFd(initEnd);
      closeFd(sock);
      closeLogCopy();
      closeFd(logFeed);
      logFeed = -1;
      closeFd(master);
    },
  };
}
