// The lexer of Go's text/template (src/text/template/parse/lex.go): text, actions between {{ }},
// trim markers "{{- " and " -}}" (a space is required beside the dash), comments {{/* */}}.
// Pure: it returns the whole token list or throws TemplateSyntaxError with Go's message.

export type TokKind =
  | "text"
  | "{{"
  | "}}"
  | "space"
  | "field"
  | "var"
  | "ident"
  | "kw"
  | "dot"
  | "str"
  | "raw"
  | "char"
  | "num"
  | "bool"
  | "nil"
  | "|"
  | "("
  | ")"
  | ":="
  | "="
  | "punct"
  | "eof";

export interface Tok {
  kind: TokKind;
  pos: number;
  val: string;
}

/** A template that does not parse: Go's message and the line it names. */
export class TemplateSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(reason);
  }
}

export const KEYWORDS = new Set(["block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"]);

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isAlnum = (c: string | undefined) => c !== undefined && (c === "_" || /[\p{L}\p{Nd}]/u.test(c));
const lineAt = (s: string, pos: number) => {
  let n = 1;
  for (let i = s.indexOf("\n"); i >= 0 && i < pos; i = s.indexOf("\n", i + 1)) n++;
  return n;
};

/** Go's %#U: U+002D '-'. */
export function runeName(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  return /[\p{L}\p{N}\p{P}\p{S}\p{Zs}]/u.test(c) ? `${hex} '${c}'` : hex;
}

export function lex(input: string): Tok[] {
  const toks: Tok[] = [];
  const fail = (msg: string, at: number): never => {
    throw new TemplateSyntaxError(msg, lineAt(input, at));
  };
  // " -}}" (trim) or "}}" at p.
  const rightDelim = (p: number): [boolean, boolean] => {
    if (isSpace(input[p]) && input[p + 1] === "-" && input.startsWith("}}", p + 2)) return [true, true];
    return [input.startsWith("}}", p), false];
  };
  const skipSpace = (p: number) => {
    while (isSpace(input[p])) p++;
    return p;
  };
  const atTerminator = (p: number) => {
    const c = input[p];
    return c === undefined || isSpace(c) || ".,|:)(}".includes(c);
  };
  let pos = 0;
  for (;;) {
    const x = input.indexOf("{{", pos);
    if (x < 0) {
      if (pos < input.length) toks.push({ kind: "text", pos, val: input.slice(pos) });
      toks.push({ kind: "eof", pos: input.length, val: "" });
      return toks;
    }
    const trimLeft = input[x + 2] === "-" && isSpace(input[x + 3]);
    let end = x;
    if (trimLeft) while (end > pos && isSpace(input[end - 1])) end--;
    if (end > pos) toks.push({ kind: "text", pos, val: input.slice(pos, end) });
    pos = x + 2 + (trimLeft ? 2 : 0);
    if (input.startsWith("/*", pos)) {
      const close = input.indexOf("*/", pos + 2);
      if (close < 0) fail("unclosed comment", x);
      const [delim, trim] = rightDelim(close + 2);
      if (!delim) fail("comment ends before closing delimiter", x);
      pos = close + 2 + (trim ? 4 : 2);
      if (trim) pos = skipSpace(pos);
      continue;
    }
    toks.push({ kind: "{{", pos: x, val: "{{" });
    pos = lexAction(pos);
  }

  // Returns the position after the closing delimiter (and the space a " -}}" trims).
  function lexAction(p: number): number {
    let depth = 0;
    const emit = (kind: TokKind, start: number, end: number) => {
      toks.push({ kind, pos: start, val: input.slice(start, end) });
      return end;
    };
    for (;;) {
      const [delim, trim] = rightDelim(p);
      if (delim) {
        if (depth > 0) fail("unclosed left paren", p);
        if (trim) p += 2;
        toks.push({ kind: "}}", pos: p, val: "}}" });
        p += 2;
        return trim ? skipSpace(p) : p;
      }
      const c = input[p];
      if (c === undefined) fail("unclosed action", p);
      else if (isSpace(c)) {
        let e = p;
        while (isSpace(input[e])) e++;
        // " -}}": the last space belongs to the trim marker.
        if (input[e] === "-" && input.startsWith("}}", e + 1)) {
          if (e - 1 > p) emit("space", p, e - 1);
          p = e - 1;
        } else p = emit("space", p, e);
      } else if (c === "=") p = emit("=", p, p + 1);
      else if (c === ":") {
        if (input[p + 1] !== "=") fail("expected :=", p);
        p = emit(":=", p, p + 2);
      } else if (c === "|") p = emit("|", p, p + 1);
      else if (c === '"' || c === "'") {
        let e = p + 1;
        for (;;) {
          const d = input[e];
          if (d === "\\") {
            const n = input[e + 1];
            if (n === undefined || n === "\n") fail(c === '"' ? "unterminated quoted string" : "unterminated character constant", p);
            e += 2;
          } else if (d === undefined || d === "\n") {
            fail(c === '"' ? "unterminated quoted string" : "unterminated character constant", p);
          } else {
            e++;
            if (d === c) break;
          }
        }
        p = emit(c === '"' ? "str" : "char", p, e);
      } else if (c === "`") {
        const e = input.indexOf("`", p + 1);
        if (e < 0) fail("unterminated raw quoted string", p);
        p = emit("raw", p, e + 1);
      } else if (c === "$" || (c === "." && !/[0-9]/.test(input[p + 1] ?? ""))) {
        let e = p + 1;
        if (atTerminator(e)) {
          p = emit(c === "$" ? "var" : "dot", p, e);
          continue;
        }
        while (isAlnum(input[e])) e++;
        if (!atTerminator(e)) fail(`bad character ${runeName(String.fromCodePoint(input.codePointAt(e)!))}`, e);
        p = emit(c === "$" ? "var" : "field", p, e);
      } else if (c === "." || c === "+" || c === "-" || (c >= "0" && c <= "9")) {
        p = lexNumber(p);
      } else if (isAlnum(c)) {
        let e = p;
        while (isAlnum(input[e])) e++;
        if (!atTerminator(e)) fail(`bad character ${runeName(String.fromCodePoint(input.codePointAt(e)!))}`, e);
        const word = input.slice(p, e);
        p = emit(KEYWORDS.has(word) ? "kw" : word === "true" || word === "false" ? "bool" : word === "nil" ? "nil" : "ident", p, e);
      } else if (c === "(") {
        depth++;
        p = emit("(", p, p + 1);
      } else if (c === ")") {
        if (--depth < 0) fail("unexpected right paren", p);
        p = emit(")", p, p + 1);
      } else if (c.charCodeAt(0) < 0x7f && c.charCodeAt(0) >= 0x20) p = emit("punct", p, p + 1);
      else fail(`unrecognized character in action: ${runeName(String.fromCodePoint(input.codePointAt(p)!))}`, p);
    }
  }

  // Go's scanNumber: sign, 0x/0o/0b, digits with _, fraction, exponent, an imaginary "i".
  function lexNumber(p: number): number {
    let e = p;
    if (input[e] === "+" || input[e] === "-") e++;
    let digits = "0123456789_";
    let exp = "eE";
    if (input[e] === "0" && /[xXoObB]/.test(input[e + 1] ?? "")) {
      const b = input[e + 1]!.toLowerCase();
      digits = b === "x" ? "0123456789abcdefABCDEF_" : b === "o" ? "01234567_" : "01_";
      if (b === "x") exp = "pP";
      e += 2;
    }
    const run = () => {
      while (input[e] !== undefined && digits.includes(input[e]!)) e++;
    };
    run();
    if (input[e] === ".") {
      e++;
      run();
    }
    if (input[e] !== undefined && exp.includes(input[e]!)) {
      e++;
      if (input[e] === "+" || input[e] === "-") e++;
      while (/[0-9_]/.test(input[e] ?? "")) e++;
    }
    if (input[e] === "i") e++;
    if (isAlnum(input[e])) {
      e++;
      fail(`bad number syntax: ${JSON.stringify(input.slice(p, e))}`, p);
    }
    if ((input[e] === "+" || input[e] === "-") && /[0-9.]/.test(input[e + 1] ?? "")) fail(`bad number syntax: ${JSON.stringify(input.slice(p, e + 1))}`, p);
    toks.push({ kind: "num", pos: p, val: input.slice(p, e) });
    return e;
  }
}
