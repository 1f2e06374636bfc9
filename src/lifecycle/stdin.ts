// `attach` to a detached container's stdin: the caller's stdin goes into containers/<id>/stdin,
// the FIFO the monitor holds as the container's stdin (src/sys/monitor/stdin.c), until the detach
// keys (Docker's --detach-keys, default ctrl-p,ctrl-q) or the caller's EOF. Parsing the keys and
// finding them in the stream are pure.
import fs from "node:fs";
import path from "node:path";
import { ParseError } from "../errors.ts";

export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

/** "ctrl-p,ctrl-q" → [0x10, 0x11]; "a,ctrl-@" → [0x61, 0]; Docker's words on anything else. */
export function parseDetachKeys(spec: string): number[] {
  const out: number[] = [];
  for (const key of spec.split(",")) {
    if (key.length === 1) {
      out.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/.exec(key);
    const c = m?.[1]!;
    if (m && c >= "a" && c <= "z") out.push(c.charCodeAt(0) - 96);
    else if (m && "@[\\]^_".includes(c)) out.push("@[\\]^_".indexOf(c) === 0 ? 0 : 26 + "@[\\]^_".indexOf(c));
    else throw new ParseError(`Invalid detach keys (${spec}) provided`);
  }
  return out;
}

/**
 * Finds the detach sequence across chunks. push() returns the bytes to pass on (a partial match is
 * held back until it fails) and whether the sequence was completed.
 */
export class DetachScanner {
  private held: number[] = [];
  constructor(private readonly keys: number[]) {}

  push(chunk: Uint8Array): { pass: Uint8Array; detached: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.keys.length && b === this.keys[this.held.length]) {
        this.held.push(b);
        if (this.held.length === this.keys.length) return { pass: Uint8Array.from(out), detached: true };
        continue;
      }
      out.push(...this.held);
      this.held = [];
      if (this.keys.length && b === this.keys[0]) this.held.push(b);
      else out.push(b);
    }
    return { pass: Uint8Array.from(out), detached: false };
  }
}

export function stdinFifo(dir: string): string {
  return path.join(dir, "stdin");
}

/**
 * Copies `input` into the container's stdin FIFO until EOF or the detach keys; resolves to true
 * when detached. A container without the FIFO (not run with -i) gets nothing.
 */
export async function forwardStdin(dir: string, input: AsyncIterable<Uint8Array>, keys: number[]): Promise<boolean> {
  let fd: number;
  try {
    // The monitor holds the FIFO open for reading: this open does not wait.
    fd = fs.openSync(stdinFifo(dir), fs.constants.O_WRONLY | 0o2000000 /* O_CLOEXEC */);
  } catch {
    return false;
  }
  const scanner = new DetachScanner(keys);
  try {
    for await (const chunk of input) {
      const { pass, detached } = scanner.push(chunk);
      if (pass.length) fs.writeSync(fd, pass);
      if (detached) return true;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}
