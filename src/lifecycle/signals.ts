// Signal names as Docker accepts them: "SIGTERM", "TERM", "term", "15", "SIGRTMIN+3".
import os from "node:os";
import { ParseError } from "../errors.ts";

const NUMBERS = os.constants.signals as Record<string, number>;
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** Parses a signal; throws ParseError naming the input. */
export function parseSignal(input: string): number {
  const t = input.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n >= 1 && n <= SIGRTMAX) return n;
    throw new ParseError(`Invalid signal: ${input}`);
  }
  const name = t.toUpperCase().replace(/^SIG/, "");
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name) ?? /^RTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[1] ?? 0);
    const n = name.startsWith("RTMIN") ? SIGRTMIN + off : SIGRTMAX - off;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  const n = NUMBERS[`SIG${name}`];
  if (n === undefined || name === "") throw new ParseError(`Invalid signal: ${input}`);
  return n;
}

export function signalName(n: number): string {
  for (const [k, v] of Object.entries(NUMBERS)) if (v === n) return k;
  return String(n);
}
