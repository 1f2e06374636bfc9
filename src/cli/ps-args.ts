// `ps`'s arguments without yargs, as run-args.ts does for `run`: yargs' start-up is most of what
// `ps` costs. Only the spellings it is sure of; anything else returns null and yargs parses the
// line (with its errors and help). A repeated --format or -n keeps its last value, as yargs is told
// to. test/unit/cli/ps-args.test.ts holds both parsers to the same answers.

const BOOLEANS: Record<string, string> = {
  "-a": "all",
  "--all": "all",
  "-q": "quiet",
  "--quiet": "quiet",
  "-l": "latest",
  "--latest": "latest",
  "--no-trunc": "no-trunc",
  "-s": "size",
  "--size": "size",
  "--noheading": "noheading",
};
const LETTERS: Record<string, string> = { a: "all", q: "quiet", l: "latest", s: "size" };

/** `args` is the whole command line ("ps", …); the argv ps.ts reads, or null. */
export function parsePsArgs(args: readonly string[]): Record<string, unknown> | null {
  if (args[0] !== "ps") return null;
  const argv: Record<string, unknown> = { all: false, quiet: false, latest: false, "no-trunc": false, size: false, noheading: false };
  const filters: string[] = [];
  for (let i = 1; i < args.length; i++) {
    const t = args[i]!;
    const boolean = BOOLEANS[t];
    if (boolean) {
      argv[boolean] = true;
      continue;
    }
    if (/^-[aqls]{2,}$/.test(t)) {
      for (const c of t.slice(1)) argv[LETTERS[c]!] = true;
      continue;
    }
    const m = /^(--filter|-f|--format|--last|-n)(?:=(.*))?$/.exec(t);
    if (!m) return null;
    const value = m[2] ?? args[++i];
    if (value === undefined || value === "" || value.startsWith("-")) return null;
    if (m[1] === "--filter" || m[1] === "-f") filters.push(value);
    else if (m[1] === "--format") argv.format = value;
    else {
      if (!/^\d{1,15}$/.test(value)) return null; // yargs (intFlag) words the error
      argv.last = Number(value);
    }
  }
  if (filters.length) argv.filter = filters;
  return argv;
}
