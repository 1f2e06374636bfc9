// The text formats of cgroupfs files, parsed purely (habit 1): flat keyed files (memory.events,
// memory.oom_control, memory.stat, cpu.stat, cgroup.events), pid lists (cgroup.procs), single
// values that may be "max", and controller lists (cgroup.controllers, cgroup.subtree_control).
import { ParseError } from "../../errors.ts";

/** "key value" per line → Map; values are integers (byte counts beyond 2^53 lose only precision). */
export function parseKeyedFile(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = /^(\S+) (-?\d+)$/.exec(line.trim());
    if (!m) throw new ParseError(`Cannot parse cgroup file "${name}": line "${line}" is not "key number"`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** cgroup.procs / tasks: one pid a line. */
export function parsePidList(text: string, name: string): number[] {
  const out: number[] = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (t === "") continue;
    if (!/^\d+$/.test(t)) throw new ParseError(`Cannot parse cgroup file "${name}": "${t}" is not a pid`);
    out.push(Number(t));
  }
  return out;
}

/** A single number, or "max" (v2) → Infinity. v1 shows "unlimited" as a number near 2^63. */
export function parseLimitValue(text: string, name: string): number {
  const t = text.trim();
  if (t === "max") return Infinity;
  if (!/^-?\d+$/.test(t)) throw new ParseError(`Cannot parse cgroup file "${name}": "${t}" is not a number or "max"`);
  const n = Number(t);
  return n === -1 || n >= 2 ** 62 ? Infinity : n;
}

/** cgroup.controllers / cgroup.subtree_control: names separated by spaces. */
export function parseControllerList(text: string, name: string): string[] {
  const out = text.trim() === "" ? [] : text.trim().split(/\s+/);
  for (const c of out) {
    if (!/^[a-z_][a-z0-9_]*$/.test(c)) throw new ParseError(`Cannot parse cgroup file "${name}": "${c}" is not a controller name`);
  }
  return out;
}
