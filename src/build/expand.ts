// Dockerfile words and variables as BuildKit's shell lexer reads them (frontend/dockerfile/shell):
// quotes removed, the escape character protects the next character, `$VAR`, `${VAR}`,
// `${VAR:-word}` (unset or empty → word), `${VAR-word}` (unset → word), `${VAR:+word}` (set and
// non-empty → word), `${VAR+word}` (set → word), `${VAR:?msg}`/`${VAR?msg}` (error). Pure.
import { ParseError } from "../errors.ts";

export type Lookup = (name: string) => string | undefined;

export function lookupIn(env: ReadonlyMap<string, string> | Record<string, string>): Lookup {
  return env instanceof Map ? (n) => env.get(n) : (n) => (Object.hasOwn(env, n) ? (env as Record<string, string>)[n] : undefined);
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

class Lexer {
  i = 0;
  constructor(
    readonly text: string,
    readonly lookup: Lookup,
    readonly escape: string,
  ) {}

  fail(reason: string): never {
    throw new ParseError(`Cannot expand "${this.text}": ${reason}`);
  }

  /** The words of the text; when `split` is false the whole text is one word. */
  words(split: boolean): string[] {
    const out: string[] = [];
    let word = "";
    let inWord = false;
    const t = this.text;
    while (this.i < t.length) {
      const c = t[this.i]!;
      if (split && /\s/.test(c)) {
        if (inWord) out.push(word);
        word = "";
        inWord = false;
        this.i++;
        continue;
      }
      inWord = true;
      if (c === "'") word += this.single();
      else if (c === '"') word += this.double();
      else if (c === "$") word += this.dollar();
      else if (c === this.escape) {
        this.i++;
        if (this.i < t.length) word += t[this.i++];
        else word += c;
      } else {
        word += c;
        this.i++;
      }
    }
    if (inWord || !split) out.push(word);
    return out;
  }

  single(): string {
    const t = this.text;
    const end = t.indexOf("'", this.i + 1);
    if (end < 0) this.fail("unexpected end of statement while looking for matching single-quote");
    const s = t.slice(this.i + 1, end);
    this.i = end + 1;
    return s;
  }

  double(): string {
    const t = this.text;
    let s = "";
    this.i++;
    while (this.i < t.length) {
      const c = t[this.i]!;
      if (c === '"') {
        this.i++;
        return s;
      }
      if (c === "$") s += this.dollar();
      else if (c === this.escape && this.i + 1 < t.length && ['"', "$", this.escape].includes(t[this.i + 1]!)) {
        s += t[this.i + 1];
        this.i += 2;
      } else {
        s += c;
        this.i++;
      }
    }
    this.fail("unexpected end of statement while looking for matching double-quote");
  }

  name(): string {
    const t = this.text;
    let n = "";
    while (this.i < t.length && NAME_CHAR.test(t[this.i]!)) n += t[this.i++];
    return n;
  }

  dollar(): string {
    const t = this.text;
    this.i++; // $
    const c = t[this.i];
    if (c === undefined) return "$";
    if (c === "{") {
      this.i++;
      const name = this.name();
      if (!name) this.fail("bad substitution: missing variable name");
      if (t[this.i] === "}") {
        this.i++;
        return this.lookup(name) ?? "";
      }
      let op = t[this.i] ?? "";
      this.i++;
      if (op === ":") {
        op += t[this.i] ?? "";
        this.i++;
      }
      if (![":-", "-", ":+", "+", ":?", "?"].includes(op)) this.fail(`bad substitution: unsupported modifier "${op}"`);
      const word = this.braceWord();
      const value = this.lookup(name);
      const set = value !== undefined;
      const nonEmpty = set && value !== "";
      switch (op) {
        case ":-":
          return nonEmpty ? value! : word;
        case "-":
          return set ? value! : word;
        case ":+":
          return nonEmpty ? word : "";
        case "+":
          return set ? word : "";
        case ":?":
          if (!nonEmpty) this.fail(`${name}: ${word || "is not allowed to be unset"}`);
          return value!;
        default:
          if (!set) this.fail(`${name}: ${word || "is not allowed to be unset"}`);
          return value!;
      }
    }
    if (!NAME_START.test(c)) {
      // $1, $@ and friends are left to the shell; a lone $ stays.
      return "$";
    }
    return this.lookup(this.name()) ?? "";
  }

  /** The word of ${VAR:-word} up to its closing brace, itself expanded. */
  braceWord(): string {
    const t = this.text;
    let s = "";
    while (this.i < t.length) {
      const c = t[this.i]!;
      if (c === "}") {
        this.i++;
        return s;
      }
      if (c === "$") s += this.dollar();
      else if (c === "'") s += this.single();
      else if (c === '"') s += this.double();
      else if (c === this.escape && this.i + 1 < t.length) {
        s += t[this.i + 1];
        this.i += 2;
      } else {
        s += c;
        this.i++;
      }
    }
    this.fail("missing '}'");
  }
}

/** One word, expanded and unquoted (ENV values, WORKDIR, USER, LABEL, FROM…). */
export function expandWord(text: string, lookup: Lookup, escape = "\\"): string {
  return new Lexer(text, lookup, escape).words(false)[0]!;
}

/** Whitespace-separated words, each expanded and unquoted (COPY sources, EXPOSE ports…). */
export function expandWords(text: string, lookup: Lookup, escape = "\\"): string[] {
  return new Lexer(text, lookup, escape).words(true);
}

/** Variables only, quotes and escapes left as written (BuildKit's raw mode, for here-documents). */
export function expandVars(text: string, lookup: Lookup, escape = "\\"): string {
  const lx = new Lexer(text, lookup, escape);
  let out = "";
  while (lx.i < text.length) {
    if (text[lx.i] === "$") out += lx.dollar();
    else if (text[lx.i] === escape && lx.i + 1 < text.length) {
      out += text.slice(lx.i, lx.i + 2);
      lx.i += 2;
    } else out += text[lx.i++];
  }
  return out;
}
