// `run`'s arguments without yargs, for the spellings a script or a person types most: yargs costs
// 10-15 ms a start (its modules, 31 .option() calls, its parser and validation), more than
// everything else `run` does before the container starts. Pure. Anything it is not sure to read as
// yargs does — help, version, unknown options, --no-x, x=true, quoted or dash-leading values, an
// integer option that is not one — returns null, and yargs parses the line as before (with its
// errors and help). As yargs is told to (index.ts), values stay strings and a repeated single-value
// option keeps its last value. test/unit/cli/run-args.test.ts holds the two parsers to the same answers.
import { RUN_OPTIONS, type RunOption } from "./commands/run.ts";

/** A dash-leading word yargs-parser still takes as a flag's value (its `negative`): `--cpus -1`, `--memory-swap -1`. */
const NEGATIVE = /^-([0-9]+(\.[0-9]+)?|\.[0-9]+)$/;

/**
 * `head` as splitRunArgs gives it: global flags, "run", run's options, IMAGE. Returns what the
 * command reads from yargs' argv (options by their long names, defaults included, and `image`),
 * or null.
 */
export function parseRunArgs(head: readonly string[]): Record<string, unknown> | null {
  const byName = new Map<string, RunOption>();
  const byLetter = new Map<string, RunOption>();
  for (const o of RUN_OPTIONS) {
    byName.set(o.name, o);
    if (o.alias) (o.alias.length === 1 ? byLetter : byName).set(o.alias, o);
  }
  const argv: Record<string, unknown> = {};
  for (const o of RUN_OPTIONS) if (o.default !== undefined) argv[o.name] = o.default;
  let i = 0;
  for (; i < head.length && head[i] !== "run"; i++) {
    if (head[i] !== "--debug" && head[i] !== "-D") return null;
    argv.debug = true;
  }
  const set = (o: RunOption, value: string | true): boolean => {
    if (value === true) {
      if (o.type !== "boolean") return false;
      argv[o.name] = true;
      return true;
    }
    if (o.type === "boolean" || value === "" || /^["']/.test(value) || (value.startsWith("-") && !NEGATIVE.test(value))) return false;
    if (o.type === "int") {
      if (!/^-?\d{1,15}$/.test(value)) return false; // yargs (intFlag) words the error
      argv[o.name] = Number(value);
      return true;
    }
    if (o.array) {
      argv[o.name] = [...((argv[o.name] as string[] | undefined) ?? []), value];
      return true;
    }
    argv[o.name] = value;
    return true;
  };
  for (i++; i < head.length; i++) {
    const t = head[i]!;
    if (t === "--debug" || t === "-D") {
      argv.debug = true;
      continue;
    }
    if (t.startsWith("--")) {
      const eq = t.indexOf("=");
      const o = byName.get(eq < 0 ? t.slice(2) : t.slice(2, eq));
      if (!o) return null;
      if (o.type === "boolean") {
        if (eq >= 0 || !set(o, true)) return null;
      } else if (!set(o, eq >= 0 ? t.slice(eq + 1) : (head[++i] ?? ""))) {
        return null;
      }
      continue;
    }
    if (/^-[A-Za-z]+$/.test(t)) {
      const letters = [...t.slice(1)].map((c) => byLetter.get(c));
      if (letters.some((o) => o === undefined)) return null;
      if (letters.every((o) => o!.type === "boolean")) {
        for (const o of letters) if (!set(o!, true)) return null;
      } else if (letters.length !== 1 || !set(letters[0]!, head[++i] ?? "")) {
        return null;
      }
      continue;
    }
    // The image: the last word of head. yargs would read "true"/"false" after a flag as its value.
    if (i !== head.length - 1 || t.startsWith("-") || t === "true" || t === "false") return null;
    argv.image = t;
    return argv;
  }
  return null;
}
