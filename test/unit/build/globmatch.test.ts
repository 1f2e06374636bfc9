import { expect, test } from "bun:test";
import { compileGlob, globRegExp } from "../../../src/build/globmatch.ts";
import { isIgnored, matchGlob, parseDockerignore } from "../../../src/build/dockerignore.ts";

test("the one-pass matcher agrees with the regular expression on random patterns and paths", () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = (parts: string[], len: number) => Array.from({ length: len }, () => parts[rnd(parts.length)]).join("");
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    const p = pick(["a", "b", "/", "*", "**", "**/", "?", "[ab]", "[!a]", "\\*", "."], 1 + rnd(7));
    const re = globRegExp(p);
    const auto = compileGlob(p, true);
    for (let j = 0; j < 20; j++) {
      const s = pick(["a", "b", "/", "*", "."], rnd(9));
      expect(`${p} ${s} ${auto(s)}`).toBe(`${p} ${s} ${re.test(s)}`);
      checked++;
    }
  }
  expect(checked).toBe(60000);
});

test("patterns that make a backtracking matcher run for ever are matched in one pass", () => {
  const deep = `${Array.from({ length: 60 }, () => "a").join("/")}/c`;
  const many = "a".repeat(250);
  const t0 = performance.now();
  expect(isIgnored(parseDockerignore(`${"**/".repeat(20)}b\n`), deep)).toBe(false);
  expect(isIgnored(parseDockerignore(`${"*a".repeat(20)}*b\n`), many)).toBe(false);
  expect(matchGlob(`${"*a".repeat(20)}*b`, many)).toBe(false);
  expect(isIgnored(parseDockerignore(`${"**/a/".repeat(10)}b\n`), deep)).toBe(false);
  expect(performance.now() - t0).toBeLessThan(2000);
});
