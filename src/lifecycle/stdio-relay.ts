// `run` and `exec` without -t: the container never gets the caller's terminal. Where one of fds 0-2
// is a terminal the container gets a pipe instead and tinydock copies between the two, as Docker
// does (stdin /dev/null, or a pipe with -i; stdout and stderr pipes): with the terminal itself a
// container could queue input into the caller's shell (TIOCSTI) or change its settings. Where none
// is a terminal the container gets the caller's fds themselves, with no copying (a run's start-up).
import fs from "node:fs";

/** What fd n of the container is: the caller's fd, a pipe copied by tinydock, or /dev/null. */
export type StdioSource = "direct" | "relay" | "null";

/** Pure: fds 0-2 of the container, given -i and which of the caller's fds are terminals. */
export function stdioSources(interactive: boolean, isTerminal: (fd: number) => boolean): [StdioSource, StdioSource, StdioSource] {
  const pick = (fd: number): StdioSource => (isTerminal(fd) ? "relay" : "direct");
  return [interactive ? pick(0) : "null", pick(1), pick(2)];
}

export interface StdioRelay {
  /** The container's fds 0-2 (-1: /dev/null). */
  stdio: [number, number, number];
  /** The container has its copies: close ours, start copying. */
  started(): void;
  /** Resolves once every output pipe is at EOF and written out, or after `ms` at most (no timer is left behind). */
  finished(ms: number): Promise<void>;
  /** Stops copying and closes every pipe end; idempotent. */
  close(): void;
}

export interface RelayOptions {
  interactive: boolean;
  /** The pipe maker (ffi.ts cloexecPipe: both ends close-on-exec). */
  pipe: () => [number, number];
  /** isatty (ffi.ts isTerminal). */
  isTerminal: (fd: number) => boolean;
  in?: NodeJS.ReadStream;
}

export function relayStdio(o: RelayOptions): StdioRelay {
  const sources = stdioSources(o.interactive, o.isTerminal);
  // process.stdin only when copied: creating that stream costs a run's start-up ~15 ms of CPU.
  let input: NodeJS.ReadStream | undefined;
  const ours: number[] = []; // our ends, closed by close()
  const theirs: number[] = []; // the container's ends, closed once it has them
  const outputs: { from: number; to: number }[] = [];
  let stdinPipe = -1;
  const stdio = sources.map((s, fd) => {
    if (s === "null") return -1;
    if (s === "direct") return fd;
    const [r, w] = o.pipe();
    if (fd === 0) {
      stdinPipe = w;
      ours.push(w);
      theirs.push(r);
      return r;
    }
    ours.push(r);
    theirs.push(w);
    outputs.push({ from: r, to: fd });
    return w;
  }) as [number, number, number];
  let closed = false;
  let listening = false;
  const closeFd = (fd: number) => {
    try {
      fs.closeSync(fd);
    } catch {}
  };
  const onInput = (d: Buffer) => {
    try {
      fs.writeSync(stdinPipe, d);
    } catch {} // EPIPE: the container closed its stdin or ended
  };
  const onEnd = () => {
    if (stdinPipe >= 0 && !closed) closeFd(stdinPipe);
    const i = ours.indexOf(stdinPipe);
    if (i >= 0) ours.splice(i, 1);
    stdinPipe = -1;
  };
  const pumps: Promise<void>[] = [];
  return {
    stdio,
    started() {
      for (const fd of theirs.splice(0)) closeFd(fd);
      if (stdinPipe >= 0) {
        listening = true;
        input = o.in ?? process.stdin;
        input.on("data", onInput);
        input.once("end", onEnd);
        input.resume();
      }
      // Read each pipe until EOF (every copy of its write end, the container's, is closed).
      for (const { from, to } of outputs) {
        pumps.push(
          new Promise<void>((done) => {
            const buf = Buffer.allocUnsafe(64 * 1024);
            const pump = () =>
              fs.read(from, buf, 0, buf.length, null, (err, n) => {
                if (err || n === 0 || closed) return done();
                try {
                  let off = 0;
                  while (off < n) off += fs.writeSync(to, buf, off, n - off);
                } catch {
                  return done(); // the caller's terminal is gone
                }
                pump();
              });
            pump();
          }),
        );
      }
    },
    finished(ms) {
      if (pumps.length === 0) return Promise.resolve();
      return within(Promise.all(pumps).then(() => {}), ms);
    },
    close() {
      if (closed) return;
      closed = true;
      if (listening && input) {
        input.off("data", onInput);
        input.off("end", onEnd);
        input.pause();
      }
      for (const fd of [...theirs.splice(0), ...ours.splice(0)]) closeFd(fd);
    },
  };
}

/** `p`, or undefined after `ms`: the timer cleared either way, so it never keeps this process alive. */
export function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}
