// moby/patternmatcher's semantics: last match wins, parents match children, `**`, `!` exceptions.
import { describe, expect, test } from "bun:test";
import { isIgnored, matchGlob, parseDockerignore, reincludesBelow } from "../../../src/build/dockerignore.ts";

describe("isIgnored", () => {
  const cases: [string, string, boolean][] = [
    ["*.md", "README.md", true],
    ["*.md", "docs/README.md", false],
    ["**/*.md", "docs/a/README.md", true],
    ["**/*.md", "README.md", true],
    ["docs", "docs/a/b.txt", true],
    ["docs/", "docs/a/b.txt", true],
    ["/docs", "docs/x", true],
    ["docs/**", "docs/x/y", true],
    ["d?cs", "docs", true],
    ["d?cs", "d/cs", false],
    ["[a-c].txt", "b.txt", true],
    ["[a-c].txt", "d.txt", false],
    ["a/**/b", "a/b", true],
    ["a/**/b", "a/x/y/b", true],
    ["*", "anything/below", true],
    ["file.txt", "file_txt", false],
    ["\\*.txt", "*.txt", true],
    ["\\*.txt", "a.txt", false],
    ["node_modules\n!node_modules/keep", "node_modules/keep", false],
    ["node_modules\n!node_modules/keep", "node_modules/other", true],
    ["*.log\n!important.log\nimportant.log", "important.log", true],
    ["# comment\n\n  x  ", "x", true],
    ["# comment", "# comment", false],
    ["a/../b", "b", true],
  ];
  for (const [patterns, file, want] of cases) {
    test(`${JSON.stringify(patterns)} ${want ? "excludes" : "keeps"} ${file}`, () => expect(isIgnored(parseDockerignore(patterns), file)).toBe(want));
  }
  test("a bare ! is an error", () => expect(() => parseDockerignore("!")).toThrow('illegal exclusion pattern: "!"'));
});

test("COPY globs: * stays within one name", () => {
  expect(matchGlob("*.txt", "a.txt")).toBe(true);
  expect(matchGlob("*.txt", "d/a.txt")).toBe(false);
  expect(matchGlob("d/*.txt", "d/a.txt")).toBe(true);
  expect(matchGlob("f?le", "file")).toBe(true);
});

test("reincludesBelow: an exception under an excluded directory (or starting with **) makes a walk look inside", () => {
  const p = parseDockerignore("logs\ncache\n!logs/keep.txt\n!**/important");
  expect(reincludesBelow(p, "logs")).toBe(true);
  expect(reincludesBelow(p, "cache")).toBe(true);
  expect(reincludesBelow(parseDockerignore("logs\ncache\n!logs/keep.txt"), "cache")).toBe(false);
  expect(reincludesBelow(parseDockerignore("logs\n!logsx/keep.txt"), "logs")).toBe(false);
});
