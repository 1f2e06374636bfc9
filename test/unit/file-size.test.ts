// One concept per file (STYLE.md): a TypeScript module of src/ stays within 400 lines and a C file
// (or header) within 700, so a file that starts doing a second job is split before it grows.
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";

const SRC = path.join(import.meta.dir, "..", "..", "src");
const LIMITS: [glob: string, lines: number][] = [
  ["**/*.ts", 400],
  ["**/*.{c,h}", 700],
];

/** Lines of a text as `wc -l` counts them (a last line without its newline counts too). */
export function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

test("lineCount counts lines as wc -l does, plus an unterminated last line", () => {
  expect([lineCount(""), lineCount("a\n"), lineCount("a\nb"), lineCount("a\nb\n\n")]).toEqual([0, 1, 2, 3]);
});

test.each(LIMITS)("no src/%s file is over %d lines", (glob, limit) => {
  const files = [...new Bun.Glob(glob).scanSync(SRC)];
  expect(files.length).toBeGreaterThan(5);
  const over = files.map((rel) => `${rel}: ${lineCount(fs.readFileSync(path.join(SRC, rel), "utf8"))}`).filter((l) => Number(l.split(": ")[1]) > limit);
  expect(over).toEqual([]);
});
