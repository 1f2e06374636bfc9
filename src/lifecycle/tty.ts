// `run -t`: the container gets a pseudo-terminal; tinydock copies between it and its own stdio,
// puts its own terminal in raw mode (with -i) and passes window sizes on, as `docker run -it` does.
import fs from "node:fs";
import type { Sys } from "../sys/sys.ts";

export interface TtySession {
  /** The slave end, for the container's stdio. */
  slave: number;
  /** The container runs: close our copy of the slave, start copying. */
  started(): void;
  /** Resolves when the container side is closed and all output is written. */
  finished(): Promise<void>;
  /** Restore the caller's terminal; idempotent. */
  close(): void;
}

export interface TtyOptions {
  interactive: boolean;
  out: NodeJS.WriteStream;
  in: NodeJS.ReadStream;
  /** A directory fd on a running container's root: the pty comes from its devpts (see Sys.openPty). */
  root?: number;
}

export function openTtySession(sys: Sys, opts: TtyOptions): TtySession {
  const { master, slave } = sys.openPty(opts.root);
  let slaveOpen = true;
  let raw = false;
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
    started() {
      fs.closeSync(slave);
      slaveOpen = false;
      if (opts.out.isTTY) process.on("SIGWINCH", resize);
      if (opts.interactive) {
        if (opts.in.isTTY) {
          opts.in.setRawMode(true);
          raw = true;
        }
        opts.in.on("data", onInput);
        opts.in.resume();
      }
      // Read the master until the kernel says EIO: every slave fd (the container's) is closed.
      const buf = Buffer.allocUnsafe(64 * 1024);
      const pump = () => {
        fs.read(master, buf, 0, buf.length, null, (err, n) => {
          if (err || n === 0) {
            done();
            return;
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
      if (raw) opts.in.setRawMode(false);
      if (slaveOpen) fs.closeSync(slave);
      try {
        fs.closeSync(master);
      } catch {}
    },
  };
}
