// `info` and `version` take only --format: parsed here without yargs, whose start-up would be most
// of their cost (CI scripts poll `info --format '{{.ServerVersion}}'` for readiness). Anything
// else (--help, an unknown flag) returns null and yargs parses the line with its errors.

/** `args` is the whole command line ("info", …); {format?} or null. */
export function parseFormatOnlyArgs(args: readonly string[], verb: string): Record<string, unknown> | null {
  if (args[0] !== verb) return null;
  const argv: Record<string, unknown> = {};
  for (let i = 1; i < args.length; i++) {
    const m = /^(--format|-f)(?:=(.*))?$/s.exec(args[i]!);
    if (!m || argv.format !== undefined) return null;
    const value = m[2] ?? args[++i];
    if (value === undefined) return null;
    argv.format = value;
  }
  return argv;
}
