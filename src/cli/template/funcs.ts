// The functions a template may call: Go's builtins (text/template/funcs.go) and Docker's
// (docker/cli templates/templates.go). Each declares its parameter types so the executor checks
// arguments as Go's reflection does; a failing call throws FuncError ("error calling X: ...").
import { sprint, sprintf, sprintln } from "./printf.ts";
import { isInt, isObject, truth, typeName, utf8Length, type Value } from "./value.ts";

export type Param = "any" | "string" | "int" | "strings";

export interface Func {
  params: Param[];
  variadic?: Param;
  fn: (args: Value[]) => Value;
}

/** A function's own failure; the executor reports it as "error calling <name>: <message>". */
export class FuncError extends Error {}

/** Longest string a function may build: beyond it the template fails instead of exhausting memory. */
export const MAX_OUTPUT = 1 << 24;

const fail = (msg: string): never => {
  throw new FuncError(msg);
};

type Kind = "bool" | "int" | "float" | "string" | "nil" | "other";
const kindOf = (v: Value): Kind =>
  v === null || v === undefined ? "nil" : typeof v === "boolean" ? "bool" : typeof v === "string" ? "string" : typeof v === "number" ? (Number.isInteger(v) ? "int" : "float") : "other";
// Integral and fractional numbers are one kind here: JSON does not say which a field was.
const numeric = (k: Kind) => k === "int" || k === "float";
const sameKind = (a: Kind, b: Kind) => a === b || (numeric(a) && numeric(b));

function eq(a: Value, ...bs: Value[]): boolean {
  if (bs.length === 0) fail("missing argument for comparison");
  const ka = kindOf(a);
  for (const b of bs) {
    const kb = kindOf(b);
    if (!sameKind(ka, kb)) {
      if (ka !== "nil" && kb !== "nil") fail("incompatible types for comparison");
      continue;
    }
    if (ka === "nil") return true;
    if (ka === "other") fail(`non-comparable type ${typeName(a)}`);
    if (a === b) return true;
  }
  return false;
}

function lt(a: Value, b: Value): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === "nil" || ka === "other" || kb === "nil" || kb === "other") fail("invalid type for comparison");
  if (!sameKind(ka, kb)) fail("incompatible types for comparison");
  if (ka === "bool") fail("invalid type for comparison");
  return (a as number | string) < (b as number | string);
}

function indexArg(i: Value, cap: number, forSlice: boolean): number {
  if (i === null || i === undefined) fail("cannot index slice/array with nil");
  if (!isInt(i)) fail(`cannot index slice/array with type ${typeName(i)}`);
  const x = i as number;
  if (x < 0 || (forSlice ? x > cap : x >= cap)) fail(`index out of range: ${x}`);
  return x;
}

function index(item: Value, ...keys: Value[]): Value {
  if (item === null || item === undefined) fail("index of untyped nil");
  for (const k of keys) {
    if (item === null || item === undefined) fail("index of nil pointer");
    if (typeof item === "string") item = new TextEncoder().encode(item)[indexArg(k, utf8Length(item), false)];
    else if (Array.isArray(item)) item = item[indexArg(k, item.length, false)];
    else if (isObject(item)) {
      if (typeof k !== "string") fail(`value has type ${typeName(k)}; should be string`);
      const o: Record<string, Value> = item;
      // A missing key gives the map's zero value: "" for string maps like Labels, else nil.
      item = Object.hasOwn(o, k as string) ? o[k as string] : Object.values(o).every((v) => typeof v === "string") ? "" : null;
    } else fail(`can't index item of type ${typeName(item)}`);
  }
  return item;
}

function slice(item: Value, ...idx: Value[]): Value {
  if (item === null || item === undefined) fail("slice of untyped nil");
  if (idx.length > 3) fail(`too many slice indexes: ${idx.length}`);
  let len: number;
  if (typeof item === "string") {
    if (idx.length === 3) fail("cannot 3-index slice a string");
    len = item.length;
  } else if (Array.isArray(item)) len = item.length;
  else return fail(`can't slice item of type ${typeName(item)}`);
  const cap = len;
  const ix = [0, len];
  idx.forEach((v, n) => (ix[n] = indexArg(v, cap, true)));
  if (ix[0]! > ix[1]!) fail(`invalid slice index: ${ix[0]} > ${ix[1]}`);
  if (idx.length === 3 && ix[1]! > ix[2]!) fail(`invalid slice index: ${ix[1]} > ${ix[2]}`);
  return (item as string | Value[]).slice(ix[0], ix[1]);
}

function length(v: Value): number {
  if (v === null || v === undefined) return fail("len of nil pointer");
  if (typeof v === "string") return utf8Length(v);
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  return fail(`len of type ${typeName(v)}`);
}

/** Go's encoding/json with SetEscapeHTML(false), as Docker's json function encodes. */
export function goJson(v: Value): string {
  const s = JSON.stringify(v === undefined ? null : v, (_k, x: Value) => (typeof x === "function" ? undefined : x)) ?? "null";
  return s.replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

const htmlEscape = (s: string) => s.replace(/["'&<>\0]/g, (c) => ({ '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\uFFFD" })[c]!);
const jsEscape = (s: string) =>
  s.replace(/[\\'"<>&=\u0000-\u001f]/g, (c) =>
    ({ "\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D" })[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`,
  );
const queryEscape = (s: string) =>
  [...new TextEncoder().encode(s)].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : b === 0x20 ? "+" : `%${b.toString(16).toUpperCase().padStart(2, "0")}`)).join("");
const evalArgs = (args: Value[]) => (args.length === 1 && typeof args[0] === "string" ? args[0] : sprint(args));

/** strings.Title: the first letter of each word in upper case. */
function title(s: string): string {
  let prev = " ";
  let out = "";
  for (const c of s) {
    const sep = c.charCodeAt(0) < 0x80 ? !/[A-Za-z0-9_]/.test(prev) : /\s/u.test(prev) || !/[\p{L}\p{Nd}_]/u.test(prev);
    out += sep ? c.toUpperCase() : c;
    prev = c;
  }
  return out;
}

function repeatSpaces(n: number): string {
  if (n < 0) fail("strings: negative Repeat count");
  if (n > MAX_OUTPUT) fail(`result longer than ${MAX_OUTPUT} bytes`);
  return " ".repeat(n);
}

export const FUNCS: Record<string, Func> = {
  and: { params: ["any"], variadic: "any", fn: (a) => a.find((v) => !truth(v)) ?? a[a.length - 1] },
  or: { params: ["any"], variadic: "any", fn: (a) => a.find((v) => truth(v)) ?? a[a.length - 1] },
  not: { params: ["any"], fn: ([v]) => !truth(v) },
  len: { params: ["any"], fn: ([v]) => length(v) },
  index: { params: ["any"], variadic: "any", fn: ([v, ...k]) => index(v, ...k) },
  slice: { params: ["any"], variadic: "any", fn: ([v, ...k]) => slice(v, ...k) },
  print: { params: [], variadic: "any", fn: (a) => sprint(a) },
  printf: { params: ["string"], variadic: "any", fn: ([f, ...a]) => sprintf(f as string, a) },
  println: { params: [], variadic: "any", fn: (a) => sprintln(a) },
  eq: { params: ["any"], variadic: "any", fn: ([a, ...b]) => eq(a, ...b) },
  ne: { params: ["any", "any"], fn: ([a, b]) => !eq(a, b) },
  lt: { params: ["any", "any"], fn: ([a, b]) => lt(a, b) },
  le: { params: ["any", "any"], fn: ([a, b]) => lt(a, b) || eq(a, b) },
  gt: { params: ["any", "any"], fn: ([a, b]) => !(lt(a, b) || eq(a, b)) },
  ge: { params: ["any", "any"], fn: ([a, b]) => !lt(a, b) },
  html: { params: [], variadic: "any", fn: (a) => htmlEscape(evalArgs(a)) },
  js: { params: [], variadic: "any", fn: (a) => jsEscape(evalArgs(a)) },
  urlquery: { params: [], variadic: "any", fn: (a) => queryEscape(evalArgs(a)) },
  call: {
    params: ["any"],
    variadic: "any",
    fn: ([f, ...a]) => (typeof f === "function" ? (f as (...x: Value[]) => Value)(...a) : fail(`non-function of type ${typeName(f)}`)),
  },
  json: { params: ["any"], fn: ([v]) => goJson(v) },
  split: { params: ["string", "string"], fn: ([s, sep]) => (sep === "" ? [...(s as string)] : (s as string).split(sep as string)) },
  join: { params: ["strings", "string"], fn: ([a, sep]) => (a as string[]).join(sep as string) },
  title: { params: ["string"], fn: ([s]) => title(s as string) },
  lower: { params: ["string"], fn: ([s]) => (s as string).toLowerCase() },
  upper: { params: ["string"], fn: ([s]) => (s as string).toUpperCase() },
  pad: { params: ["string", "int", "int"], fn: ([s, p, q]) => (s === "" ? "" : repeatSpaces(p as number) + (s as string) + repeatSpaces(q as number)) },
  truncate: {
    params: ["string", "int"],
    fn: ([s, n]) => ((s as string).length < (n as number) ? s : (n as number) < 0 ? fail(`runtime error: slice bounds out of range [:${n}]`) : (s as string).slice(0, n as number)),
  },
};

/** Docker's HeaderFunctions: in a table's header row these give back the column name unchanged. */
export const HEADER_FUNCS: Record<string, Func> = {
  ...FUNCS,
  json: { params: ["string"], fn: ([v]) => v },
  split: { params: ["string", "string"], fn: ([v]) => v },
  join: { params: ["string", "string"], fn: ([v]) => v },
  title: { params: ["string"], fn: ([v]) => v },
  lower: { params: ["string"], fn: ([v]) => v },
  upper: { params: ["string"], fn: ([v]) => v },
  truncate: { params: ["string", "int"], fn: ([v]) => v },
};
