// The detached-container flags of run/create: --restart, --log-opt, -l/--label. Pure parsers with
// Docker's words in their errors.
import { ParseError } from "../errors.ts";
import { DEFAULT_LOG_MAX_FILE, DEFAULT_LOG_MAX_SIZE, type RestartPolicy } from "./monitor.ts";

/** `no`, `always`, `unless-stopped`, `on-failure[:N]`. */
export function parseRestartPolicy(input: string): RestartPolicy {
  const [name, count, ...rest] = input.split(":");
  if (rest.length) throw new ParseError(`Cannot parse restart policy "${input}": too many colons`);
  if (name === "no" || name === "always" || name === "unless-stopped") {
    if (count !== undefined) throw new ParseError(`Cannot parse restart policy "${input}": maximum retry count cannot be used with restart policy '${name}'`);
    return { name, maximumRetryCount: 0 };
  }
  if (name === "on-failure") {
    if (count === undefined) return { name, maximumRetryCount: 0 };
    if (!/^\d+$/.test(count) || !Number.isSafeInteger(Number(count))) throw new ParseError(`Cannot parse restart policy "${input}": maximum retry count must be a non-negative integer`);
    return { name, maximumRetryCount: Number(count) };
  }
  throw new ParseError(`Cannot parse restart policy "${input}": invalid restart policy '${name}'`);
}

const SI: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/** go-units FromHumanSize, as Docker reads max-size: decimal units ("10m" = 10,000,000 bytes). */
export function parseHumanSize(input: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?b?$/i.exec(input.trim());
  if (!m) throw new ParseError(`Cannot parse ${what} "${input}": not a size like 10k, 10m or 1g`);
  const n = Math.floor(Number(m[1]) * SI[(m[2] ?? "").toLowerCase()]!);
  if (!Number.isSafeInteger(n)) throw new ParseError(`Cannot parse ${what} "${input}": size is too large`);
  return n;
}

/** `--log-opt max-size=10m --log-opt max-file=3` (json-file's options). */
export function parseLogOpts(opts: string[]): { maxSize: number; maxFile: number } {
  let maxSize = DEFAULT_LOG_MAX_SIZE;
  let maxFile = DEFAULT_LOG_MAX_FILE;
  for (const o of opts.flatMap((o) => o.split(","))) {
    const eq = o.indexOf("=");
    const key = eq < 0 ? o : o.slice(0, eq);
    const value = eq < 0 ? "" : o.slice(eq + 1);
    if (eq < 0) throw new ParseError(`Cannot parse log option "${o}": expected key=value`);
    if (key === "max-size") {
      maxSize = value === "-1" ? 0 : parseHumanSize(value, "log option max-size");
      if (maxSize === 0 && value !== "-1") throw new ParseError(`Cannot parse log option max-size "${value}": must be a positive size`);
    } else if (key === "max-file") {
      if (!/^\d+$/.test(value) || Number(value) < 1) throw new ParseError(`Cannot parse log option max-file "${value}": must be a positive integer`);
      maxFile = Number(value);
    } else {
      throw new ParseError(`Cannot parse log option "${o}": unknown log opt '${key}' for json-file log driver`);
    }
  }
  // Docker: max-file without a max-size makes no sense (rotation is by size).
  if (maxSize === 0) maxFile = 1;
  return { maxSize, maxFile };
}

/** `-l k=v`, `-l k` (empty value). */
export function parseLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const eq = l.indexOf("=");
    const key = eq < 0 ? l : l.slice(0, eq);
    if (!key) throw new ParseError(`Cannot parse label "${l}": empty key`);
    out[key] = eq < 0 ? "" : l.slice(eq + 1);
  }
  return out;
}
