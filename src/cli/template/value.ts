// Template values are JSON-like JavaScript values read as Go reads decoded JSON: objects are
// map[string]interface {}, arrays []interface {}, numbers int when integral (else float64),
// null is a nil interface and undefined is Go's invalid value (a missing map key: "<no value>").

export type Value = unknown;

/** Go's %v of a float64: %g with the shortest digits, an exponent from 1e6 or below 1e-4. */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : "-Inf";
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  const [mant, expText] = n.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return String(n);
}

/** Go's fmt %v of a value as text/template prints it. */
export function goString(v: Value): string {
  if (v === undefined) return "<no value>";
  return printV(v);
}

function printV(v: Value): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number") return Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : goFloat(v);
  if (typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (typeof v === "function") return "<func>";
  if (Array.isArray(v)) return `[${v.map(printV).join(" ")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, Value>;
    return `map[${sortedKeys(o)
      .map((k) => `${k}:${printV(o[k])}`)
      .join(" ")}]`;
  }
  return String(v);
}

/** Go sorts map keys when it prints or ranges over a map. */
export function sortedKeys(o: object): string[] {
  return Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The Go type a value stands for, as error messages name it. */
export function typeName(v: Value): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float64";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "function") return "func";
  if (Array.isArray(v)) return "[]interface {}";
  return "map[string]interface {}";
}

export const isInt = (v: Value): v is number => typeof v === "number" && Number.isInteger(v);
export const isObject = (v: Value): v is Record<string, Value> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Go's isTrue: the zero value of its type is false. */
export function truth(v: Value): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

/** len() of a string in Go counts UTF-8 bytes. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
