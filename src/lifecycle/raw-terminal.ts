// The caller's terminal in raw mode for `run -it`, `exec -it` and `attach` to a -t container, with
// cfmakeraw's semantics (src/sys/termios.ts, as Docker's term.MakeRaw), and put back exactly as it
// was on every way out: the returned restore (normal end, error paths' finally), process exit, and a
// signal that would otherwise end this process with the terminal still raw.
import type { Sys } from "../sys/sys.ts";
import { cfmakeraw } from "../sys/termios.ts";

const FATAL: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

/** Puts terminal `fd` in raw mode; returns the idempotent restore. */
export function makeRaw(sys: Sys, fd: number): () => void {
  const saved = sys.getTermios(fd);
  sys.setTermios(fd, cfmakeraw(saved));
  let done = false;
  const onSignal: [NodeJS.Signals, () => void][] = [];
  const restore = () => {
    if (done) return;
    done = true;
    process.off("exit", restore);
    for (const [sig, fn] of onSignal) process.off(sig, fn);
    try {
      sys.setTermios(fd, saved);
    } catch {} // the terminal is gone (hung up): nothing to restore
  };
  process.on("exit", restore);
  for (const sig of FATAL) {
    // Another listener (the signal proxy) keeps this process alive: it stays raw. Alone, ours would
    // swallow the signal: restore, then let it end the process as it would have.
    const fn = () => {
      if (process.listenerCount(sig) > 1) return;
      restore();
      process.kill(process.pid, sig);
    };
    onSignal.push([sig, fn]);
    process.on(sig, fn);
  }
  return restore;
}
