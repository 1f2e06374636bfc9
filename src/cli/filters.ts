// Docker's `--filter key=value` as its CLI reads the flag (opts.FilterOpt) and its daemon judges it
// (api/types/filters): values of one key form a set, keys are checked against the command's list,
// and the matchers (exact-or-regexp, label lists, booleans, port ranges, path globs) keep Docker's
// semantics. Pure; the listing views (views/container-filters.ts, views/image-filters.ts) use it.
import { InvalidArgumentError } from "../errors.ts";
import { UsageError } from "./usage.ts";

/** key → its values, in the order given, without repeats. */
export type FilterArgs = ReadonlyMap<string, readonly string[]>;

/**
 * `-f status=exited -f label=a=b` → {status: [exited], label: [a=b]}. The key is trimmed and
 * lower-cased, the value trimmed, as Docker's CLI does; a spec without "=" is pflag's flag error.
 */
export function parseFilterArgs(specs: readonly string[]): FilterArgs {
  const out = new Map<string, string[]>();
  for (const spec of specs) {
    if (spec === "") continue;
    const i = spec.indexOf("=");
    if (i < 0) throw new UsageError(`invalid argument "${spec}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    const key = spec.slice(0, i).trim().toLowerCase();
    const value = spec.slice(i + 1).trim();
    const values = out.get(key) ?? [];
    if (!values.includes(value)) values.push(value);
    out.set(key, values);
  }
  return out;
}

/** The daemon's first check: every key must be one the command knows. */
export function validateFilterKeys(args: FilterArgs, accepted: readonly string[]): void {
  for (const key of args.keys()) if (!accepted.includes(key)) throw new InvalidArgumentError(`invalid filter '${key}'`);
}

const regexCache = new Map<string, RegExp | null>();

/** Go's regexp.MatchString(pattern, s): unanchored; a pattern that does not compile matches nothing. */
export function goRegexMatch(pattern: string, s: string): boolean {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern);
    } catch {
      re = null;
    }
    if (regexCache.size > 256) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re !== null && re.test(s);
}

/** Args.Match: some value equals `source` or, as a regular expression, matches it. */
export function matchAny(values: readonly string[], source: string): boolean {
  return values.includes(source) || values.some((v) => goRegexMatch(v, source));
}

/** Args.MatchKVList: every value ("k" or "k=v") is among `labels`. */
export function matchLabels(values: readonly string[], labels: Readonly<Record<string, string>> | undefined): boolean {
  if (values.length === 0) return true;
  if (!labels || Object.keys(labels).length === 0) return false;
  return values.every((v) => {
    const i = v.indexOf("=");
    const key = i < 0 ? v : v.slice(0, i);
    if (!Object.hasOwn(labels, key)) return false;
    return i < 0 || labels[key] === v.slice(i + 1);
  });
}

/** Args.GetBoolOrDefault: "true"/"1" or "false"/"0"; none or both is Docker's invalid filter. */
export function boolFilter(args: FilterArgs, key: string): boolean | undefined {
  const values = args.get(key);
  if (!values) return undefined;
  const isTrue = values.includes("true") || values.includes("1");
  const isFalse = values.includes("false") || values.includes("0");
  if (isTrue === isFalse) throw new InvalidArgumentError(`invalid filter '${key}=[${values.join(" ")}]'`);
  return isTrue;
}

/**
 * `publish=`/`expose=` values as the set of "port/proto" they name: "80", "8080/tcp",
 * "8000-8010/udp". A ":" is refused as Docker refuses it.
 */
export function portFilterSet(key: string, values: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const value of values) {
    if (value.includes(":")) throw new InvalidArgumentError(`filter for '${key}' should not contain ':': ${value}`);
    const slash = value.indexOf("/");
    const port = slash < 0 ? value : value.slice(0, slash);
    const proto = slash < 0 || value.slice(slash + 1) === "" ? "tcp" : value.slice(slash + 1).toLowerCase();
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(port);
    const start = m ? Number(m[1]) : NaN;
    const end = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || start > 65535 || end > 65535 || end < start) {
      throw new InvalidArgumentError(`error while looking up for ${key} ${value}: invalid port range: ${port}`);
    }
    for (let p = start; p <= end; p++) out.add(`${p}/${proto}`);
  }
  return out;
}

/**
 * Go's path.Match as a RegExp: `*` any run of non-"/" characters, `?` one, `[...]` a class
 * (`[^...]` negated), `\` escapes. A malformed pattern throws Go's "syntax error in pattern".
 */
export function pathGlob(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\") {
      if (i + 1 >= pattern.length) throw new InvalidArgumentError("syntax error in pattern");
      re += escapeRegex(pattern[++i]!);
    } else if (c === "[") {
      const close = findClassEnd(pattern, i + 1);
      if (close < 0) throw new InvalidArgumentError("syntax error in pattern");
      let body = pattern.slice(i + 1, close);
      const negated = body.startsWith("^");
      if (negated) body = body.slice(1);
      if (body === "") throw new InvalidArgumentError("syntax error in pattern");
      re += `[${negated ? "^/" : ""}${body.replace(/\\(.)/g, "$1").replace(/[\]\\^]/g, "\\$&")}]`;
      i = close;
    } else re += escapeRegex(c);
  }
  return new RegExp(`${re}$`);
}

function findClassEnd(p: string, from: number): number {
  for (let j = from; j < p.length; j++) {
    if (p[j] === "\\") j++;
    else if (p[j] === "]" && j > from + (p[from] === "^" ? 1 : 0)) return j;
  }
  return -1;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * Docker's timestamp for `until=`/`since=` on images (timetypes.GetTimestamp): a Go duration
 * ("10m", "1h30m") back from now, an RFC 3339 date or date-time, or Unix seconds. Milliseconds.
 */
export function filterTimestamp(value: string, now: number): number {
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
    let ms = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * unit[m[2]!]!;
    return now - ms;
  }
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (!Number.isNaN(t) && /^\d{4}-\d{2}-\d{2}/.test(value)) return t;
  throw new InvalidArgumentError(`failed to parse value as time or duration: "${value}"`);
}

/** What a prune keeps: an object the filters spare (created after until=, or failing a label test). */
export type PruneKeep = (created: string | undefined, labels: () => Readonly<Record<string, string>> | undefined) => boolean;

/**
 * The `prune --filter`s of Docker's daemon (prune.go, image_prune.go): until= (what was created
 * after it stays), label=, label!=; `extra` keys are the caller's to read from `args`.
 */
export function pruneFilters(specs: readonly string[], now: number, extra: readonly string[] = []): { args: FilterArgs; keep: PruneKeep } {
  const args = parseFilterArgs(specs);
  validateFilterKeys(args, ["until", "label", "label!", ...extra]);
  const untils = args.get("until") ?? [];
  if (untils.length > 1) throw new InvalidArgumentError("more than one until filter specified");
  const until = untils[0] !== undefined ? filterTimestamp(untils[0], now) : undefined;
  const label = args.get("label");
  const not = args.get("label!");
  return {
    args,
    keep: (created, labelsOf) => {
      if (until !== undefined && !(Date.parse(created ?? "") <= until)) return true;
      if (!label && !not) return false;
      const labels = labelsOf() ?? {};
      return (label !== undefined && !matchLabels(label, labels)) || (not !== undefined && matchLabels(not, labels));
    },
  };
}
