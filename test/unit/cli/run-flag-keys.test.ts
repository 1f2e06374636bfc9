// run-command.ts loads lifecycle/run/flags.ts only when one of RUN_FLAG_KEYS is given: every flag
// that module reads must be in that list, or the flag would be silently ignored.
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { RUN_FLAG_KEYS } from "../../../src/cli/run-command.ts";

test("every argv key lifecycle/run/flags.ts reads makes run-command load it", () => {
  const source = fs.readFileSync(path.join(import.meta.dir, "../../../src/lifecycle/run/flags.ts"), "utf8");
  const read = new Set([...source.matchAll(/argv(?:\.([a-z][\w]*)|\["([a-z][\w-]*)"\])/g)].map((m) => m[1] ?? m[2]!));
  // --log-opt matters to flags.ts only beside --log-driver (which is in the list).
  read.delete("log-opt");
  expect(read.size).toBeGreaterThan(10);
  expect([...read].filter((k) => !(RUN_FLAG_KEYS as readonly string[]).includes(k))).toEqual([]);
  // What run-command itself hands to flags.ts' helpers.
  for (const k of ["label-file", "mac-address"]) expect(RUN_FLAG_KEYS as readonly string[]).toContain(k);
});
