// --ulimit name=soft[:hard], as Docker parses it (go-units ulimit.go ParseUlimit): the hard
// limit defaults to the soft one, -1 means unlimited, soft may not exceed hard.
//
// Where we differ on purpose: "as" (RLIMIT_AS) is accepted — go-units comments it out because
// of how Docker's old init ran, which does not apply to our C init; values below -1 and a soft
// "unlimited" over a finite hard limit are refused here, where Docker would pass them on to
// fail in setrlimit.
//
// Defaults: Docker sets no rlimits of its own; a container inherits dockerd's (its systemd unit)
// unless the daemon has --default-ulimit. We likewise add none: the container keeps ours.
import { ParseError } from "../errors.ts";
import type { Rlimit } from "./plan.ts";

/** RLIMIT_* numbers (asm-generic/resource.h; the same on x86_64 and aarch64). */
export const RLIMIT = Object.freeze({
  cpu: 0,
  fsize: 1,
  data: 2,
  stack: 3,
  core: 4,
  rss: 5,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
  locks: 10,
  sigpending: 11,
  msgqueue: 12,
  nice: 13,
  rtprio: 14,
  rttime: 15,
});

export type UlimitName = keyof typeof RLIMIT;

/** The rlimits a container gets when none are asked for: none, so it inherits the engine's. */
export const DEFAULT_ULIMITS: readonly Rlimit[] = Object.freeze([]);

const UNLIMITED = -1;

function parseLimit(input: string, text: string, which: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new ParseError(`Cannot parse ulimit "${input}": ${which} limit "${text}" is not an integer`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new ParseError(`Cannot parse ulimit "${input}": ${which} limit "${text}" is out of range`);
  if (n < UNLIMITED) throw new ParseError(`Cannot parse ulimit "${input}": ${which} limit must be -1 (unlimited) or at least 0`);
  return n === 0 ? 0 : n; // no -0
}

/** "nofile=1024:2048" → { resource: RLIMIT_NOFILE, soft: 1024, hard: 2048 }. */
export function parseUlimit(input: string): Rlimit {
  const eq = input.indexOf("=");
  if (eq < 0) throw new ParseError(`Cannot parse ulimit "${input}": expected <type>=<soft limit>[:<hard limit>]`);
  const name = input.slice(0, eq);
  if (!Object.hasOwn(RLIMIT, name)) {
    throw new ParseError(`Cannot parse ulimit "${input}": unknown type "${name}" (one of ${Object.keys(RLIMIT).sort().join(", ")})`);
  }
  const values = input.slice(eq + 1).split(":");
  if (values.length > 2) throw new ParseError(`Cannot parse ulimit "${input}": too many limit values, expected <soft limit>[:<hard limit>]`);
  const soft = parseLimit(input, values[0]!, "soft");
  const hard = values.length === 2 ? parseLimit(input, values[1]!, "hard") : soft;
  if (hard !== UNLIMITED && (soft === UNLIMITED || soft > hard)) {
    throw new ParseError(`Cannot parse ulimit "${input}": soft limit must be less than or equal to hard limit: ${soft === UNLIMITED ? "unlimited" : soft} > ${hard}`);
  }
  return { resource: RLIMIT[name as UlimitName], soft, hard };
}

/** Several --ulimit flags: a later one for the same type replaces an earlier one, as Docker's map does. */
export function parseUlimits(inputs: readonly string[], defaults: readonly Rlimit[] = DEFAULT_ULIMITS): Rlimit[] {
  const byResource = new Map<number, Rlimit>();
  for (const r of defaults) byResource.set(r.resource, r);
  for (const input of inputs) {
    const r = parseUlimit(input);
    byResource.set(r.resource, r);
  }
  return [...byResource.values()];
}
