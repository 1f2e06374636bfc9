// --health-cmd, --health-interval, --health-timeout, --health-start-period, --health-start-interval,
// --health-retries, --no-healthcheck: Docker's HealthConfig from the flags, checked with the CLI's
// and the daemon's words, and merged over the image's HEALTHCHECK as the daemon merges it. Pure.
import { ParseError } from "../../errors.ts";

/** Config.Healthcheck: Test ["CMD", …] | ["CMD-SHELL", "…"] | ["NONE"]; durations in ns. */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration ("1m30s", "200ms", "1.5h", "0"), in ns; its error words. */
export function parseGoDuration(input: string): number {
  const bad = (why: string) => new ParseError(`time: ${why} "${input}"`);
  let s = input;
  let sign = 1;
  if (s[0] === "-" || s[0] === "+") {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw bad("invalid duration");
  let total = 0;
  while (s !== "") {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (m[0] === "" || m[0] === ".") throw bad("invalid duration");
    s = s.slice(m[0].length);
    const unit = /^[^\d.]+/.exec(s)?.[0];
    if (!unit) throw bad("missing unit in duration");
    const scale = UNIT_NS[unit];
    if (scale === undefined) throw new ParseError(`time: unknown unit "${unit}" in duration "${input}"`);
    s = s.slice(unit.length);
    total += Number(`${m[1] || "0"}.${m[2] || "0"}`) * scale;
  }
  if (total > 2 ** 63) throw bad("invalid duration");
  return sign * Math.round(total);
}

export interface HealthFlags {
  cmd?: string;
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: number;
  none?: boolean;
}

const MIN_NS = 1e6;

/** The HealthConfig the flags ask for, or undefined when none was given. */
export function healthcheckFromFlags(f: HealthFlags): HealthConfig | undefined {
  const dur = (v: string | undefined, flag: string): number => {
    if (v === undefined) return 0;
    try {
      return parseGoDuration(v);
    } catch (err) {
      throw new ParseError(`invalid argument "${v}" for "--${flag}" flag: ${(err as Error).message}`);
    }
  };
  const interval = dur(f.interval, "health-interval");
  const timeout = dur(f.timeout, "health-timeout");
  const startPeriod = dur(f.startPeriod, "health-start-period");
  const startInterval = dur(f.startInterval, "health-start-interval");
  const retries = f.retries ?? 0;
  const any = (f.cmd ?? "") !== "" || interval !== 0 || timeout !== 0 || startPeriod !== 0 || startInterval !== 0 || retries !== 0;
  if (f.none) {
    if (any) throw new ParseError("--no-healthcheck conflicts with --health-* options");
    return { Test: ["NONE"] };
  }
  if (!any) return undefined;
  for (const [v, flag] of [[interval, "interval"], [timeout, "timeout"], [startPeriod, "start-period"], [startInterval, "start-interval"]] as const) {
    if (v < 0) throw new ParseError(`--health-${flag} cannot be negative`);
  }
  if (retries < 0) throw new ParseError("--health-retries cannot be negative");
  // The daemon's floor.
  for (const [v, name] of [[interval, "Interval"], [timeout, "Timeout"], [startPeriod, "StartPeriod"], [startInterval, "StartInterval"]] as const) {
    if (v !== 0 && v < MIN_NS) throw new ParseError(`${name} in Healthcheck cannot be less than 1ms`);
  }
  return {
    ...(f.cmd ? { Test: ["CMD-SHELL", f.cmd] } : {}),
    Interval: interval,
    Timeout: timeout,
    StartPeriod: startPeriod,
    StartInterval: startInterval,
    Retries: retries,
  };
}

/** The user's config over the image's: what the user left empty or zero comes from the image. */
export function mergeHealthcheck(user: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!user) return image;
  if (!image) return user;
  return {
    Test: user.Test?.length ? user.Test : image.Test,
    Interval: user.Interval || image.Interval || 0,
    Timeout: user.Timeout || image.Timeout || 0,
    StartPeriod: user.StartPeriod || image.StartPeriod || 0,
    StartInterval: user.StartInterval || image.StartInterval || 0,
    Retries: user.Retries || image.Retries || 0,
  };
}

/** The probe's command: ["CMD", …] runs as is, ["CMD-SHELL", s] through /bin/sh -c; null for none. */
export function probeArgs(h: HealthConfig | undefined): string[] | null {
  const t = h?.Test;
  if (!t?.length || t[0] === "NONE") return null;
  if (t[0] === "CMD") return t.length > 1 ? t.slice(1) : null;
  if (t[0] === "CMD-SHELL") return t.length > 1 ? ["/bin/sh", "-c", t[1]!] : null;
  return null;
}

/** Docker's defaults: interval 30 s, timeout 30 s, start period 0, start interval 5 s, 3 retries. */
export const HEALTH_DEFAULTS = { interval: 30e9, timeout: 30e9, startPeriod: 0, startInterval: 5e9, retries: 3 };

/** The monitor's -H value: INTERVAL,TIMEOUT,START_PERIOD,START_INTERVAL (ms, at least 1),RETRIES. */
export function monitorHealthSpec(h: HealthConfig): string {
  const ms = (ns: number | undefined, def: number) => Math.max(1, Math.round((ns || def) / 1e6));
  const d = HEALTH_DEFAULTS;
  return [ms(h.Interval, d.interval), ms(h.Timeout, d.timeout), Math.round((h.StartPeriod || 0) / 1e6), ms(h.StartInterval, d.startInterval), h.Retries || d.retries].join(",");
}
