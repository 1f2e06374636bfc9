// BuildKit's shell lexer rules (frontend/dockerfile/shell/lex_test.go's cases, the ones tinydock takes).
import { describe, expect, test } from "bun:test";
import { expandWord, expandWords, lookupIn } from "../../../src/build/expand.ts";

const env = lookupIn(new Map([["A", "a"], ["EMPTY", ""], ["SP", "x y"]]));

describe("expandWord", () => {
  const cases: [string, string][] = [
    ["$A", "a"],
    ["${A}", "a"],
    ["pre${A}post", "preapost"],
    ["$UNSET", ""],
    ["${UNSET:-dflt}", "dflt"],
    ["${EMPTY:-dflt}", "dflt"],
    ["${EMPTY-dflt}", ""],
    ["${UNSET-dflt}", "dflt"],
    ["${A:-dflt}", "a"],
    ["${A:+alt}", "alt"],
    ["${EMPTY:+alt}", ""],
    ["${EMPTY+alt}", "alt"],
    ["${UNSET+alt}", ""],
    ["${UNSET:-$A}", "a"],
    ["${UNSET:-${A}b}", "ab"],
    ["'$A'", "$A"],
    ['"$A"', "a"],
    ['"\\$A"', "$A"],
    ["\\$A", "$A"],
    ['"a b"', "a b"],
    ["a\\ b", "a b"],
    ["$", "$"],
    ["$1", "$1"],
    ["${SP}", "x y"],
  ];
  for (const [input, want] of cases) test(`${input} → ${JSON.stringify(want)}`, () => expect(expandWord(input, env)).toBe(want));

  test("the backtick escape", () => expect(expandWord("`$A", env, "`")).toBe("$A"));
  test("${VAR:?msg} fails on unset with the message", () => expect(() => expandWord("${UNSET:?need it}", env)).toThrow("UNSET: need it"));
  test("unterminated quotes and braces are errors", () => {
    expect(() => expandWord("'abc", env)).toThrow("single-quote");
    expect(() => expandWord('"abc', env)).toThrow("double-quote");
    expect(() => expandWord("${A", env)).toThrow();
    expect(() => expandWord("${A%x}", env)).toThrow("unsupported modifier");
  });
});

describe("expandWords", () => {
  test("splits on unquoted blanks, after expansion of each word", () => {
    expect(expandWords('a "b c" $A ${SP} \'d e\'', env)).toEqual(["a", "b c", "a", "x y", "d e"]);
  });
  test("empty text has no words", () => expect(expandWords("   ", env)).toEqual([]));
});
