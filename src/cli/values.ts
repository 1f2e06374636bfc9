// yargs' values as the commands read them: a repeatable option as a list of strings (none, one or
// several given), an optional one as a string. Pure and import-free, so any command may load it.

export const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
export const str = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));
