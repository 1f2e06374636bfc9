// Docker's (pflag's and cobra's) answers to a wrong command line, for the argv yargs could not
// read: the first unknown flag, a flag missing its value, the wrong number of arguments, an integer
// flag that is not one. Pure: the sets of flags come from the chosen command's yargs options.
import { UsageError } from "./usage.ts";

/** A command's flags, by name without dashes (long names, one-letter and long aliases). */
export interface FlagSet {
  names: ReadonlySet<string>;
  /** Those that take no value. */
  booleans: ReadonlySet<string>;
  /** Those that may be repeated to make a list (-e, -v, -p, --label, …). */
  lists: ReadonlySet<string>;
}

/** The flags every command knows. */
export const GLOBAL_FLAGS: FlagSet = {
  names: new Set(["debug", "D", "help", "version"]),
  booleans: new Set(["debug", "D", "help", "version"]),
  lists: new Set(),
};

/** The flags of a yargs instance, from its getOptions(); `positionals` are argument names, not flags. */
export function flagSetOf(
  options: { key: Record<string, unknown>; alias: Record<string, string[]>; boolean: string[]; array: string[] },
  positionals: ReadonlySet<string> = new Set(),
): FlagSet {
  const names = new Set(GLOBAL_FLAGS.names);
  const booleans = new Set(GLOBAL_FLAGS.booleans);
  const lists = new Set<string>();
  const isBoolean = new Set(options.boolean);
  const isList = new Set(options.array);
  for (const key of Object.keys(options.key)) {
    if (positionals.has(key)) continue;
    for (const name of [key, ...(options.alias[key] ?? [])]) {
      names.add(name);
      if (isBoolean.has(key)) booleans.add(name);
      if (isList.has(key)) lists.add(name);
    }
  }
  return { names, booleans, lists };
}

/**
 * The first flag error in `tokens` (a command's arguments after its name), as pflag words it, or
 * undefined. A value flag takes the next token whatever it is, as pflag does; `--` ends the flags.
 */
export function flagError(tokens: readonly string[], flags: FlagSet): string | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === "--") return undefined;
    if (t.startsWith("--")) {
      const eq = t.indexOf("=");
      const name = eq < 0 ? t.slice(2) : t.slice(2, eq);
      if (!flags.names.has(name)) return `unknown flag: --${name}`;
      if (eq < 0 && !flags.booleans.has(name)) {
        if (i + 1 >= tokens.length) return `flag needs an argument: --${name}`;
        i++;
      }
      continue;
    }
    if (!t.startsWith("-") || t.length === 1) continue;
    for (let j = 1; j < t.length; j++) {
      const c = t[j]!;
      if (!flags.names.has(c)) return `unknown shorthand flag: '${c}' in ${t}`;
      if (flags.booleans.has(c)) continue;
      // A value flag: its value is the rest of this token, or the next one.
      if (j === t.length - 1) {
        if (i + 1 >= tokens.length) return `flag needs an argument: '${c}' in ${t}`;
        i++;
      }
      break;
    }
  }
  return undefined;
}

/** The argument names of a yargs command string: "stop <containers..>" → containers. */
export function positionalsOf(command: string | readonly string[]): Set<string> {
  return new Set([...String(command).matchAll(/[<[]([^\]>.]+)/g)].map((m) => m[1]!));
}

/** How many arguments a yargs command string ("stop <containers..>") takes. */
export function arityOf(command: string | readonly string[]): { min: number; max: number } {
  let min = 0;
  let max = 0;
  for (const m of (typeof command === "string" ? command : command[0]!).matchAll(/([<[])[^\]>]*?(\.\.)?[\]>]/g)) {
    if (m[1] === "<") min++;
    max = m[2] ? Infinity : max + 1;
  }
  return { min, max };
}

/** Docker's sentence for a command given the wrong number of arguments (cli/required.go). */
export function arityMessage(path: string, arity: { min: number; max: number }): string {
  const n = (k: number) => `${k} argument${k === 1 ? "" : "s"}`;
  const cmd = `"tinydock ${path}"`;
  if (arity.max === 0) return `${cmd} accepts no arguments.`;
  if (arity.min === 0) return `${cmd} requires at most ${n(arity.max)}.`;
  if (arity.max === Infinity) return `${cmd} requires at least ${n(arity.min)}.`;
  if (arity.min === arity.max) return `${cmd} requires exactly ${n(arity.min)}.`;
  return `${cmd} requires at least ${arity.min} and at most ${n(arity.max)}.`;
}

/**
 * A yargs `coerce` for an integer flag (yargs reads it as a string: no number parsing anywhere).
 * Repeated, the last value counts. `label` is pflag's: "-t, --time".
 */
export function intFlag(label: string): (value: unknown) => number {
  return (value) => parseIntFlag(Array.isArray(value) ? value[value.length - 1] : value, label);
}

/** An integer flag's value; the message is pflag's, without Go's strconv words. */
export function parseIntFlag(value: unknown, label: string): number {
  const text = String(value);
  if (!/^[-+]?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`invalid argument "${text}" for "${label}" flag: not an integer`);
  }
  return Number(text);
}

/** The label pflag gives a flag in its messages: "-t, --time" or "--pids-limit". */
export function flagLabel(name: string, alias?: string | readonly string[]): string {
  const letter = (typeof alias === "string" ? [alias] : (alias ?? [])).find((a) => a.length === 1);
  return letter ? `-${letter}, --${name}` : `--${name}`;
}

/**
 * yargs makes a repeated single-value flag an array (`--name a --name b` → ["a","b"]); Docker
 * keeps the last. yargs' "duplicate-arguments-array": false would, but it also keeps only the last
 * `-e` of a list flag.
 */
export function keepLast(argv: Record<string, unknown>, flags: FlagSet): Record<string, unknown> {
  for (const key of flags.names) {
    if (flags.lists.has(key) || flags.booleans.has(key)) continue;
    const v = argv[key];
    if (Array.isArray(v)) argv[key] = v[v.length - 1];
  }
  return argv;
}
