// `attach` and `start -a`: the container's output from its log, from now on; the caller's stdin into
// the FIFO the monitor holds (stdin.ts; with -t the monitor types it at the container's terminal)
// until the detach keys; with a terminal container (-t) the caller's terminal in raw mode, so the
// keys and ctrl-c reach the container as bytes, and its size passed on; without one, the caller's
// signals passed to the container (Docker's --sig-proxy applies only without a TTY).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { isTerminal } from "../terminal.ts";
import { containerPaths } from "../store/containers.ts";
import type { LogEntry } from "./logs.ts";
import { attachToLog } from "./start.ts";
import { makeRaw } from "./raw-terminal.ts";
import { forwardStdin } from "./stdin.ts";
import { signalContainer } from "./stop.ts";
import { withProcess } from "./liveness.ts";
import { readLive, type LiveContainer } from "./live.ts";

/** The signals Docker's CLI proxies (all but those it cannot catch); ours: the ones a user sends. */
export const PROXIED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT"];

export interface AttachOptions {
  /** Forward the caller's stdin (not --no-stdin); only a container run with -i takes it. */
  stdin: boolean;
  keys: number[];
  sigProxy: boolean;
  emit: (e: LogEntry) => void;
  /** Where the log starts: attach shows what comes from now on. */
  sinceNs: bigint;
}

/**
 * The slave of a run -dit container's terminal that its monitor keeps (monitor/run.c console_take),
 * opened again through /proc (a master cannot be: opening a ptmx makes a new pty): a window size set
 * there is the container's. -1 when it has none (no -t, or the monitor is gone). Read through the
 * checked /proc directory of the monitor (its start time): never the fds of a process that took its pid.
 */
export function openMonitorTty(monitorPid: number | undefined, monitorStartTime: number | undefined): number {
  if (!monitorPid) return -1;
  return (
    withProcess(monitorPid, monitorStartTime, (dir) => {
      const fdDir = `${dir}/fd`;
      try {
        for (const n of fs.readdirSync(fdDir)) {
          const link = fs.readlinkSync(path.join(fdDir, n));
          if (link.startsWith("/dev/pts/")) return fs.openSync(path.join(fdDir, n), fs.constants.O_RDWR | fs.constants.O_NOCTTY);
        }
      } catch {}
      return -1;
    }) ?? -1
  );
}

/** Attaches until the container ends (its exit code) or the detach keys (detached: true). */
export async function attachContainer(ctx: Ctx, live: LiveContainer, o: AttachOptions): Promise<{ code: number; detached: boolean }> {
  const id = live.record.id;
  const tty = live.record.config?.Tty === true;
  const abort = new AbortController();
  let detached = false;
  let terminal = false;
  let restoreTerminal = () => {};
  let ttyFd = -1;
  const undo: (() => void)[] = [];
  try {
    if (tty && isTerminal(1)) {
      ttyFd = openMonitorTty(live.run?.monitorPid, live.run?.monitorStartTime);
      const resize = () => {
        const { rows, columns } = process.stdout;
        if (ttyFd >= 0 && rows && columns) ctx.sys.setWinsize(ttyFd, rows, columns);
      };
      resize();
      process.on("SIGWINCH", resize);
      undo.push(() => process.off("SIGWINCH", resize));
    }
    if (o.stdin && live.record.config?.OpenStdin === true) {
      // A terminal is read through process.stdin, which can be put in raw mode and let go of.
      let input: AsyncIterable<Uint8Array> = Bun.stdin.stream();
      if (isTerminal(0)) {
        terminal = true;
        input = process.stdin;
        if (tty) restoreTerminal = makeRaw(ctx.sys, 0);
      }
      forwardStdin(containerPaths(ctx.root, id).dir, input, o.keys).then(
        (d) => {
          if (!d) return;
          detached = true;
          abort.abort();
        },
        () => {}, // process.stdin destroyed at the end: its reader's "premature close"
      );
    }
    if (o.sigProxy && !tty) {
      for (const sig of PROXIED) {
        const fn = () => void signalContainer(ctx, readLive(ctx, live.record), os.constants.signals[sig]);
        process.on(sig, fn);
        undo.push(() => process.off(sig, fn));
      }
    }
    const code = await attachToLog(ctx, id, o.emit, { sinceNs: o.sinceNs, signal: abort.signal });
    return { code: detached ? 0 : code, detached };
  } finally {
    for (const u of undo) u();
    if (terminal) {
      restoreTerminal();
      process.stdin.destroy(); // its pending read would keep this process alive
    }
    if (ttyFd >= 0) fs.closeSync(ttyFd);
  }
}
