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

test.each([
  ["resource-flags.ts", "RESOURCE_FLAG_KEYS"],
  ["compat-flags.ts", "COMPAT_FLAG_KEYS"],
] as const)("every argv key lifecycle/run/%s reads makes run-command load it", async (file, list) => {
  const keys = (await import("../../../src/cli/run-command.ts"))[list] as readonly string[];
  const source = fs.readFileSync(path.join(import.meta.dir, "../../../src/lifecycle/run", file), "utf8");
  const read = new Set([...source.matchAll(/argv(?:\.([a-z][\w]*)|\[("[a-z][\w-]*"|flag)\])/g)].map((m) => (m[1] ?? m[2]!).replaceAll('"', "")));
  // What the module reads again for checks across flags (given or not, they load nothing), and the
  // names it reads through a table (WINDOWS_ONLY, DEVICE_FLAGS) or --disable-content-trust's false.
  for (const k of ["memory", "cpus", "flag", "uts", "disable-content-trust"]) read.delete(k);
  expect(read.size).toBeGreaterThan(5);
  expect([...read].filter((k) => !keys.includes(k))).toEqual([]);
  if (file === "resource-flags.ts") for (const k of ["cpu-count", "io-maxiops", "blkio-weight-device", "device-write-iops"]) expect(keys).toContain(k);
});
