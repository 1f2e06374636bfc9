// Glob patterns (.dockerignore lines, COPY sources) as matchers over slash-separated relative paths:
// `*` and `?` stop at `/`, `**` spans directories, `[...]` classes, `\` escapes. A pattern with one
// wildcard at most becomes an anchored regular expression (its backtracking is linear); one with
// more is run as an automaton over the path, one pass, so `**/**/**/…a` or `*a*a*a…b` against a
// long path cannot backtrack for ever. Pure.
import { ParseError } from "../errors.ts";

type Tok = { k: "lit"; c: string } | { k: "one" } | { k: "class"; re: RegExp } | { k: "star" } | { k: "dirs" } | { k: "all" };

function tokens(p: string): Tok[] {
  const out: Tok[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*") {
      if (p[i + 1] === "*") {
        i++;
        if (p[i + 1] === "/") i++;
        out.push({ k: i + 1 >= p.length ? "all" : "dirs" });
      } else out.push({ k: "star" });
    } else if (c === "?") out.push({ k: "one" });
    else if (c === "\\") {
      i++;
      if (i < p.length) out.push({ k: "lit", c: p[i]! });
    } else if (c === "[") {
      const end = p.indexOf("]", i + 2);
      if (end < 0) out.push({ k: "lit", c: "[" });
      else {
        let cls = p.slice(i + 1, end);
        if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        let re: RegExp;
        try {
          re = new RegExp(`^[${cls.replace(/\\/g, "\\\\")}]$`, "s");
        } catch {
          throw new ParseError(`Cannot parse pattern "${p}": syntax error in pattern`);
        }
        out.push({ k: "class", re });
        i = end;
      }
    } else out.push({ k: "lit", c });
  }
  return out;
}

const REGEX_PART: Record<Tok["k"], (t: Tok) => string> = {
  lit: (t) => (t as { c: string }).c.replace(/[^A-Za-z0-9_]/g, (c) => (c === "/" || c === "-" || c === " " ? c : `\\${c}`)),
  one: () => "[^/]",
  class: (t) => (t as { re: RegExp }).re.source.slice(1, -1),
  star: () => "[^/]*",
  dirs: () => "(.*/)?",
  all: () => ".*",
};

/** Steps the automaton of `toks` over `s`: state k is "before token k", m + 1 + k inside a `**\/`. */
function runAutomaton(toks: readonly Tok[], s: string): boolean {
  const m = toks.length;
  let cur = new Uint8Array(2 * m + 1);
  let next = new Uint8Array(2 * m + 1);
  let curList: number[] = [];
  let nextList: number[] = [];
  const add = (set: Uint8Array, list: number[], k: number) => {
    // The state, and those reached through wildcards that may match nothing.
    for (;;) {
      if (set[k]) return;
      set[k] = 1;
      list.push(k);
      if (k >= m) return;
      const t = toks[k]!.k;
      if (t !== "star" && t !== "dirs" && t !== "all") return;
      k++;
    }
  };
  add(cur, curList, 0);
  for (let i = 0; i < s.length && curList.length; i++) {
    const c = s[i]!;
    for (const k of curList) {
      if (k > m) {
        add(next, nextList, k);
        if (c === "/") add(next, nextList, k - m);
        continue;
      }
      if (k === m) continue;
      const t = toks[k]!;
      if (t.k === "lit" ? t.c === c : t.k === "one" ? c !== "/" : t.k === "class" ? t.re.test(c) : false) add(next, nextList, k + 1);
      else if ((t.k === "star" && c !== "/") || t.k === "all") add(next, nextList, k);
      else if (t.k === "dirs") {
        add(next, nextList, m + 1 + k);
        if (c === "/") add(next, nextList, k + 1);
      }
    }
    for (const k of curList) cur[k] = 0;
    [cur, next, curList, nextList] = [next, cur, nextList, []];
  }
  return cur[m] === 1;
}

function regExpOf(toks: readonly Tok[]): RegExp {
  return new RegExp(`^${toks.map((t) => REGEX_PART[t.k](t)).join("")}$`, "s");
}

/** The pattern as an anchored regular expression, whatever its wildcards (the matcher's oracle in tests). */
export function globRegExp(p: string): RegExp {
  return regExpOf(tokens(p));
}

/** The pattern as a matcher of whole relative paths; `automaton` forces the one-pass matcher. */
export function compileGlob(p: string, automaton = false): (s: string) => boolean {
  const toks = tokens(p);
  if (!automaton && toks.filter((t) => t.k === "star" || t.k === "dirs" || t.k === "all").length <= 1) {
    const re = regExpOf(toks);
    return (s) => re.test(s);
  }
  return (s) => runAutomaton(toks, s);
}
