// `info`, `version` and `volume ls` parsed without yargs, whose start-up would be most of their
// cost (CI scripts poll `info --format '{{.ServerVersion}}'` for readiness). Only the spellings it
// is sure of: anything else (--help, an unknown flag, a missing value) returns null and yargs
// parses the line, with its errors.

interface Grammar {
  /** -q / --quiet → "quiet" */
  booleans: Record<string, string>;
  /** --format / -f → "format"; array ones collect every use */
  values: Record<string, { key: string; array?: boolean }>;
}

const FORMAT_ONLY: Grammar = { booleans: {}, values: { "--format": { key: "format" }, "-f": { key: "format" } } };
const VOLUME_LS: Grammar = {
  booleans: { "-q": "quiet", "--quiet": "quiet" },
  values: { "--format": { key: "format" }, "--filter": { key: "filter", array: true }, "-f": { key: "filter", array: true } },
};

function parseWith(args: readonly string[], from: number, g: Grammar, argv: Record<string, unknown>): Record<string, unknown> | null {
  for (let i = from; i < args.length; i++) {
    const t = args[i]!;
    const b = g.booleans[t];
    if (b) {
      argv[b] = true;
      continue;
    }
    const eq = t.startsWith("--") ? t.indexOf("=") : -1;
    const spec = g.values[eq > 0 ? t.slice(0, eq) : t];
    if (!spec) return null;
    const value = eq > 0 ? t.slice(eq + 1) : args[++i];
    if (value === undefined) return null;
    if (spec.array) argv[spec.key] = [...((argv[spec.key] as string[] | undefined) ?? []), value];
    else if (argv[spec.key] !== undefined) return null;
    else argv[spec.key] = value;
  }
  return argv;
}

/** `args` is the whole command line ("info", …); {format?} or null. */
export function parseFormatOnlyArgs(args: readonly string[], verb: string): Record<string, unknown> | null {
  if (args[0] !== verb) return null;
  return parseWith(args, 1, FORMAT_ONLY, {});
}

/** `volume ls|list [-q] [--filter F]... [--format F]`; the argv volume ls reads, or null. */
export function parseVolumeLsArgs(args: readonly string[]): Record<string, unknown> | null {
  if (args[0] !== "volume" || (args[1] !== "ls" && args[1] !== "list")) return null;
  return parseWith(args, 2, VOLUME_LS, { quiet: false });
}
