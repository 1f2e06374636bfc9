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
  /** Every name of each flag's option, by each of its names (force → [force, f]). */
  aliases?: ReadonlyMap<string, readonly string[]>;
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
  const aliases = new Map<string, string[]>();
  for (const key of Object.keys(options.key)) {
    if (positionals.has(key)) continue;
    const all = [key, ...(options.alias[key] ?? [])];
    for (const name of all) {
      names.add(name);
      // yargs lists an alias among the keys too, with no aliases of its own.
      if ((aliases.get(name)?.length ?? 0) < all.length) aliases.set(name, all);
      if (isBoolean.has(key)) booleans.add(name);
      if (isList.has(key)) lists.add(name);
    }
  }
  return { names, booleans, lists, aliases };
}

/**
 * pflag's walk over `tokens` (a command's arguments after its name): `visit` sees each flag with the
 * value given after `=` (`--x=v`, `-x=v`), else undefined. A value flag takes the next token whatever
 * it is, as pflag does; `--` ends the flags. The first error, in pflag's words, or undefined.
 */
function walkFlags(tokens: readonly string[], flags: FlagSet, visit: (name: string, value: string | undefined) => string | undefined): string | undefined {
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
      const error = visit(name, eq < 0 ? undefined : t.slice(eq + 1));
      if (error) return error;
      continue;
    }
    if (!t.startsWith("-") || t.length === 1) continue;
    for (let j = 1; j < t.length; j++) {
      const c = t[j]!;
      if (!flags.names.has(c)) return `unknown shorthand flag: '${c}' in ${t}`;
      const value = t[j + 1] === "=" && j + 2 < t.length ? t.slice(j + 2) : undefined;
      if (flags.booleans.has(c) && value === undefined) {
        const error = visit(c, undefined);
        if (error) return error;
        continue;
      }
      // A value flag: its value is the rest of this token, or the next one.
      if (j === t.length - 1) {
        if (i + 1 >= tokens.length) return `flag needs an argument: '${c}' in ${t}`;
        i++;
      }
      const error = visit(c, value);
      if (error) return error;
      break;
    }
  }
  return undefined;
}

/** The first flag error in `tokens` (a command's arguments after its name), as pflag words it, or undefined. */
export function flagError(tokens: readonly string[], flags: FlagSet): string | undefined {
  return walkFlags(tokens, flags, () => undefined);
}

/** Go's strconv.ParseBool: what pflag takes after `=` for a boolean flag. */
const GO_BOOLS: Readonly<Record<string, boolean>> = { 1: true, t: true, T: true, TRUE: true, true: true, True: true, 0: false, f: false, F: false, FALSE: false, false: false, False: false };

/**
 * The boolean flags given a value after `=` in `tokens` (`--rm=false`, `-f=1`), by name, read as
 * Go's ParseBool reads them (yargs takes only "true"). Any other value is pflag's error (exit 125).
 */
export function booleanFlagValues(tokens: readonly string[], flags: FlagSet, command: string): Map<string, boolean> {
  const values = new Map<string, boolean>();
  const error = walkFlags(tokens, flags, (name, value) => {
    if (value === undefined || !flags.booleans.has(name)) return undefined;
    const b = Object.hasOwn(GO_BOOLS, value) ? GO_BOOLS[value] : undefined;
    const names = flags.aliases?.get(name) ?? [name];
    if (b === undefined) return `invalid argument "${value}" for "${flagLabel(names.find((n) => n.length > 1) ?? name, names)}" flag: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`;
    for (const n of names) values.set(n, b);
    return undefined;
  });
  if (error) throw new UsageError(error, command);
  return values;
}

/**
 * yargs reads a lone "-" argument (Docker's stdin or stdout) as `true`, or as "" for a string
 * positional: it is "-" again (`cp c:/f -` must not write a file named "true").
 */
export function keepDashes(argv: Record<string, unknown>, positionals: ReadonlySet<string>, tokens: readonly string[]): void {
  if (!tokens.includes("-")) return;
  const fix = (v: unknown) => (v === true || (v === "" && !tokens.includes("")) ? "-" : v);
  for (const name of positionals) {
    const v = argv[name];
    argv[name] = Array.isArray(v) ? v.map(fix) : fix(v);
  }
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
