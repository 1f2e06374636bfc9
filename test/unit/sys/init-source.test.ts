// The init is compiled two ways from the same parts: the monitor build follows init.c's #includes,
// TinyCC the concatenation of src/sys/init-source.ts. Both lists must be the same files in the same order.
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { INIT_PARTS, initSource } from "../../../src/sys/init-source.ts";

const SYS = path.resolve(import.meta.dir, "../../../src/sys");

test("init-source.ts concatenates init.c's #includes, in order, each as it is on disk", () => {
  const includes = [...fs.readFileSync(path.join(SYS, "init.c"), "utf8").matchAll(/^#include "([^"]+)"/gm)].map((m) => m[1]!);
  expect(INIT_PARTS.map(([file]) => file)).toEqual(includes);
  for (const [file, text] of INIT_PARTS) expect(text).toBe(fs.readFileSync(path.join(SYS, file), "utf8"));
  // Every part is there, and nothing #includes a file TinyCC could not find.
  expect(fs.readdirSync(path.join(SYS, "init")).filter((f) => f.endsWith(".c")).sort()).toEqual(includes.map((f) => path.basename(f!)).sort());
  expect(initSource()).not.toMatch(/^#include/m);
});

test("no C file of the init or the monitor is over 700 lines", () => {
  const files = ["init.c", "monitor.c", ...["init", "monitor"].flatMap((d) => fs.readdirSync(path.join(SYS, d)).filter((f) => f.endsWith(".c")).map((f) => `${d}/${f}`))];
  const long = files.map((f) => [f, fs.readFileSync(path.join(SYS, f), "utf8").split("\n").length] as const).filter(([, n]) => n > 700);
  expect(long).toEqual([]);
});
