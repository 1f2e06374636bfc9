// Advisory file locks (flock): held by an open fd, so the kernel releases them when a process dies,
// even by SIGKILL — a killed pull never leaves a lock that blocks the next one.
import fs from "node:fs";
import { UnavailableError } from "../errors.ts";
import { LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, type Sys } from "../sys/sys.ts";

export interface Lock {
  release(): void;
}

export interface LockDeps {
  sys: Sys;
  sleep: (ms: number) => Promise<void>;
}

function open(file: string): number {
  return fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
}

function held(deps: Pick<LockDeps, "sys">, fd: number): Lock {
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        deps.sys.flock(fd, LOCK_UN);
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}

/** Take the lock without waiting; null when another process holds it. */
export function tryLock(deps: LockDeps, file: string, shared = false): Lock | null {
  const fd = open(file);
  if (deps.sys.flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB)) return held(deps, fd);
  fs.closeSync(fd);
  return null;
}

/**
 * Wait for the lock by blocking the thread: for teardown paths that must stay synchronous (run's
 * undo list, cleanup), on locks whose holders keep them for milliseconds.
 */
export function lockSync(deps: Pick<LockDeps, "sys">, file: string): Lock {
  const fd = open(file);
  try {
    deps.sys.flock(fd, LOCK_EX);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return held(deps, fd);
}

/**
 * Wait for the lock, polling so the event loop keeps running (a blocking flock would freeze every
 * other download of this process). `timeoutMs` bounds the wait.
 */
export async function acquireLock(deps: LockDeps, file: string, opts: { shared?: boolean; timeoutMs?: number } = {}): Promise<Lock> {
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const fd = open(file);
  const start = Date.now();
  let delay = 5;
  try {
    while (!deps.sys.flock(fd, (opts.shared ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
      if (Date.now() - start > timeoutMs) {
        throw new UnavailableError(`Cannot lock "${file}": held by another process for ${Math.round(timeoutMs / 1000)}s`);
      }
      await deps.sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return held(deps, fd);
}

/** Run `fn` under the lock; the lock is released however fn ends. */
export async function withLock<T>(deps: LockDeps, file: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = await acquireLock(deps, file);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
