// A small subset of Go's text/template, as `docker inspect -f` and `docker ps --format` use it:
// {{.A.B}} dotted paths, {{json .X}}, {{index .X "key"}}, {{join .X ","}}, {{upper .X}},
// {{lower .X}}, {{len .X}}, {{println .X}}, {{.}}; text between actions is kept, and \t, \n in the
// format are tabs and newlines as Docker's CLI makes them. Anything else is a ParseError.
import { ParseError } from "../errors.ts";

type Value = unknown;

/** Go's %v of a value as text/template prints it. */
export function goString(v: Value): string {
  if (v === undefined) return "<no value>";
  if (v === null) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  if (typeof v === "object") {
    const keys = Object.keys(v as object).sort();
    return `map[${keys.map((k) => `${k}:${goString((v as Record<string, Value>)[k])}`).join(" ")}]`;
  }
  return String(v);
}

function tokenize(action: string, format: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|[^\s"`]+)/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(action))) {
    out.push(m[1]!);
    last = re.lastIndex;
  }
  if (action.slice(last).trim() !== "") throw new ParseError(`Cannot parse template "${format}": bad action {{${action}}}`);
  return out;
}

function lookup(data: Value, dotted: string, format: string): Value {
  if (dotted === ".") return data;
  let v: Value = data;
  for (const part of dotted.slice(1).split(".")) {
    if (v === null || v === undefined) return undefined;
    if (typeof v !== "object") throw new ParseError(`Cannot parse template "${format}": can't evaluate field ${part} in type ${typeof v}`);
    v = (v as Record<string, Value>)[part];
  }
  return v;
}

function argValue(tok: string, data: Value, format: string): Value {
  if (tok.startsWith(".")) return lookup(data, tok, format);
  if (tok.startsWith('"')) return unquote(tok, format);
  if (tok.startsWith("`")) return tok.slice(1, -1);
  if (/^-?\d+$/.test(tok)) return Number(tok);
  if (tok === "true" || tok === "false") return tok === "true";
  throw new ParseError(`Cannot parse template "${format}": function "${tok}" not defined`);
}

/** A Go string literal: JSON's escapes, and raw control characters (the format's \t became a tab) as is. */
function unquote(tok: string, format: string): string {
  const escaped = tok.replace(/[\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  try {
    return JSON.parse(escaped) as string;
  } catch {
    throw new ParseError(`Cannot parse template "${format}": bad string ${tok}`);
  }
}

const FUNCS: Record<string, (args: Value[], format: string) => Value> = {
  json: ([v]) => JSON.stringify(v ?? null),
  index: ([v, ...keys]) => keys.reduce<Value>((acc, k) => (acc === null || acc === undefined ? undefined : (acc as Record<string, Value>)[String(k)]), v),
  join: ([v, sep]) => (Array.isArray(v) ? v.map(goString).join(String(sep ?? "")) : goString(v)),
  upper: ([v]) => goString(v).toUpperCase(),
  lower: ([v]) => goString(v).toLowerCase(),
  title: ([v]) => goString(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  len: ([v]) => (Array.isArray(v) || typeof v === "string" ? v.length : v && typeof v === "object" ? Object.keys(v).length : 0),
  println: (args) => `${args.map(goString).join(" ")}\n`,
  print: (args) => args.map(goString).join(""),
};

function evalAction(action: string, data: Value, format: string): string {
  const trimmed = action.replace(/^-\s*/, "").replace(/\s*-$/, "");
  const toks = tokenize(trimmed, format);
  if (toks.length === 0) throw new ParseError(`Cannot parse template "${format}": empty action`);
  const [head, ...rest] = toks as [string, ...string[]];
  if (FUNCS[head]) return goString(FUNCS[head](rest.map((t) => argValue(t, data, format)), format));
  if (rest.length > 0) {
    if (/^[A-Za-z_]\w*$/.test(head)) throw new ParseError(`Cannot parse template "${format}": function "${head}" not defined`);
    throw new ParseError(`Cannot parse template "${format}": can't give argument to non-function ${head}`);
  }
  return goString(argValue(head, data, format));
}

export interface Template {
  (data: Value): string;
}

/** Compiles once; the result renders one object. */
export function compileTemplate(format: string): Template {
  const parts: (string | { action: string })[] = [];
  const text = format.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{{", i);
    if (open < 0) {
      parts.push(text.slice(i));
      break;
    }
    parts.push(text.slice(i, open));
    const close = text.indexOf("}}", open + 2);
    if (close < 0) throw new ParseError(`Cannot parse template "${format}": unclosed action`);
    parts.push({ action: text.slice(open + 2, close) });
    i = close + 2;
  }
  // Validate now: a bad template fails before any output.
  for (const p of parts) if (typeof p !== "string") tokenize(p.action.replace(/^-\s*/, "").replace(/\s*-$/, ""), format);
  return (data) => parts.map((p) => (typeof p === "string" ? p : evalAction(p.action, data, format))).join("");
}
