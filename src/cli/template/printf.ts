// Go's fmt.Sprintf/Sprint/Sprintln for template values: the verbs %v %s %d %q %x %X %o %b %c %U
// %t %e %f %g %T %%, flags - + # 0 space, width and precision (also *), and Go's in-band errors
// (%!d(string=a), %!v(MISSING), %!(EXTRA ...)). A * width over 1e6 is %!(BADWIDTH), as in Go.
import { goQuote } from "./quote.ts";
import { goFloat, goString, isInt, isObject, sortedKeys, typeName, type Value } from "./value.ts";

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
  verb: string;
}

const pv = (v: Value) => (v === undefined ? "<nil>" : goString(v));

/** fmt.Sprint: operands separated by a space when neither side is a string. */
export function sprint(args: Value[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += pv(a);
  });
  return out;
}

export const sprintln = (args: Value[]): string => `${args.map(pv).join(" ")}\n`;

export function sprintf(format: string, args: Value[]): string {
  let out = "";
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const s: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false, verb: "" };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === "-") s.minus = true;
      else if (c === "+") s.plus = true;
      else if (c === "#") s.sharp = true;
      else if (c === " ") s.space = true;
      else if (c === "0") s.zero = true;
      else break;
    }
    let bad = "";
    const num = (): number | undefined => {
      if (format[i] === "*") {
        i++;
        const a = args[argi++];
        if (!isInt(a) || Math.abs(a) > 1e6) {
          bad = "BAD";
          return undefined;
        }
        return a;
      }
      // Go's parsenum: past 1e6 the number swallows the rest of the format.
      let n: number | undefined;
      while (i < format.length && format[i]! >= "0" && format[i]! <= "9") {
        if ((n ?? 0) > 1e6) {
          i = format.length;
          return undefined;
        }
        n = (n ?? 0) * 10 + Number(format[i]);
        i++;
      }
      return n;
    };
    s.width = num();
    if (bad) {
      out += "%!(BADWIDTH)";
      s.width = undefined;
      bad = "";
    }
    if (s.width !== undefined && s.width < 0) {
      s.minus = true;
      s.width = -s.width;
    }
    if (format[i] === ".") {
      i++;
      s.prec = num() ?? 0;
      if (bad || s.prec < 0) {
        out += "%!(BADPREC)";
        s.prec = undefined;
        bad = "";
      }
    }
    if (i >= format.length) {
      out += "%!(NOVERB)";
      break;
    }
    const cp = format.codePointAt(i)!;
    s.verb = String.fromCodePoint(cp);
    i += s.verb.length;
    if (s.verb === "%") {
      out += "%";
      continue;
    }
    if (argi >= args.length) {
      out += `%!${s.verb}(MISSING)`;
      continue;
    }
    out += formatArg(args[argi++], s);
  }
  if (argi < args.length) out += `%!(EXTRA ${args.slice(argi).map((a) => `${typeName(a)}=${pv(a)}`).join(", ")})`;
  return out;
}

function pad(s: string, sp: Spec, numeric = false): string {
  const w = sp.width ?? 0;
  const len = [...s].length;
  if (len >= w) return s;
  if (sp.minus) return s + " ".repeat(w - len);
  if (sp.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : "";
    return sign + "0".repeat(w - len) + s.slice(sign.length);
  }
  return " ".repeat(w - len) + s;
}

const badVerb = (v: Value, sp: Spec) => (v === null || v === undefined ? `%!${sp.verb}(<nil>)` : `%!${sp.verb}(${typeName(v)}=${pv(v)})`);

function signed(n: number, body: string, sp: Spec): string {
  return (n < 0 || Object.is(n, -0) ? "-" : sp.plus ? "+" : sp.space ? " " : "") + body;
}

function formatNumber(n: number, sp: Spec): string | undefined {
  const abs = Math.abs(n);
  const int = Number.isInteger(n);
  switch (sp.verb) {
    case "d":
    case "b":
    case "o":
    case "O":
    case "x":
    case "X": {
      if (!int && sp.verb === "d") return undefined;
      if (!int) return undefined;
      const base = { d: 10, b: 2, o: 8, O: 8, x: 16, X: 16 }[sp.verb]!;
      let digits = abs.toString(base);
      if (sp.verb === "X") digits = digits.toUpperCase();
      if (sp.prec !== undefined) digits = digits.padStart(sp.prec, "0");
      const prefix = sp.verb === "O" ? "0o" : sp.sharp ? { b: "0b", o: "0", x: "0x", X: "0X", d: "" }[sp.verb]! : "";
      return pad(signed(n, prefix + digits, sp), sp, sp.prec === undefined);
    }
    case "c":
      return int && abs <= 0x10ffff ? pad(String.fromCodePoint(abs), sp) : undefined;
    case "q":
      return int && abs <= 0x10ffff ? pad(`'${goQuote(String.fromCodePoint(abs)).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`, sp) : undefined;
    case "U":
      return int ? pad(`U+${abs.toString(16).toUpperCase().padStart(4, "0")}`, sp) : undefined;
    case "e":
    case "E": {
      const [m, e] = abs.toExponential(sp.prec ?? 6).split("e") as [string, string];
      const ex = Number(e);
      const body = `${m}e${ex < 0 ? "-" : "+"}${String(Math.abs(ex)).padStart(2, "0")}`;
      return pad(signed(n, sp.verb === "E" ? body.toUpperCase() : body, sp), sp, true);
    }
    case "f":
    case "F":
      return pad(signed(n, abs.toFixed(Math.min(sp.prec ?? 6, 100)), sp), sp, true);
    case "g":
    case "G": {
      let body: string;
      if (sp.prec === undefined) body = goFloat(abs);
      else {
        const p = Math.max(1, Math.min(sp.prec, 100));
        const [m, e] = abs.toExponential(p - 1).split("e") as [string, string];
        const ex = Number(e);
        const mant = m.includes(".") ? m.replace(/\.?0+$/, "") : m;
        body = ex < -4 || ex >= p ? `${mant}e${ex < 0 ? "-" : "+"}${String(Math.abs(ex)).padStart(2, "0")}` : String(Number(abs.toPrecision(p)));
      }
      return pad(signed(n, sp.verb === "G" ? body.toUpperCase() : body, sp), sp, true);
    }
    case "v":
      return pad(signed(n, int && abs < 1e21 ? String(abs) : goFloat(abs), sp), sp, true);
  }
  return undefined;
}

function formatArg(v: Value, sp: Spec): string {
  if (sp.verb === "T") return pad(typeName(v), sp);
  if (v === null || v === undefined) return sp.verb === "v" || sp.verb === "s" ? (sp.verb === "v" ? pad("<nil>", sp) : badVerb(v, sp)) : badVerb(v, sp);
  if (typeof v === "number") return formatNumber(v, sp) ?? badVerb(v, sp);
  if (typeof v === "boolean") return sp.verb === "t" || sp.verb === "v" ? pad(String(v), sp) : badVerb(v, sp);
  if (typeof v === "string") {
    switch (sp.verb) {
      case "v":
      case "s":
        return pad(sp.prec !== undefined ? [...v].slice(0, sp.prec).join("") : v, sp);
      case "q":
        return pad(goQuote(sp.prec !== undefined ? [...v].slice(0, sp.prec).join("") : v), sp);
      case "x":
      case "X": {
        let hex = [...new TextEncoder().encode(v)].map((b) => b.toString(16).padStart(2, "0")).join("");
        if (sp.verb === "X") hex = hex.toUpperCase();
        return pad(sp.sharp && hex ? `${sp.verb === "X" ? "0X" : "0x"}${hex}` : hex, sp);
      }
    }
    return badVerb(v, sp);
  }
  const inner: Spec = { ...sp, width: undefined, minus: false };
  if (Array.isArray(v)) return pad(`[${v.map((e) => formatArg(e, inner)).join(" ")}]`, sp);
  if (isObject(v)) return pad(`map[${sortedKeys(v).map((k) => `${formatArg(k, inner)}:${formatArg(v[k], inner)}`).join(" ")}]`, sp);
  return badVerb(v, sp);
}
