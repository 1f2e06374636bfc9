import { afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { scratchDir, scratchPrefix, staleScratch } from "../../../src/store/scratch.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

test("scratch entries carry this process's pid; only entries of dead pids are stale, unnamed ones are left alone", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "td-scratch-"));
  dirs.push(tmp);
  const mine = scratchDir(tmp, "export");
  expect(path.basename(mine)).toStartWith(`export-${process.pid}-`);
  expect(fs.statSync(mine).mode & 0o777).toBe(0o700);
  fs.writeFileSync(path.join(tmp, `${scratchPrefix("layer")}abc.tar.gz`), "");
  fs.mkdirSync(path.join(tmp, "load-4000000-x"));
  fs.writeFileSync(path.join(tmp, "layer-4000001-y.tar.gz"), "");
  fs.mkdirSync(path.join(tmp, "export-Ab12cd")); // an older version's name: no pid
  fs.writeFileSync(path.join(tmp, "notes"), "");
  expect(staleScratch(tmp).map((p) => path.basename(p))).toEqual(["layer-4000001-y.tar.gz", "load-4000000-x"]);
  expect(staleScratch(tmp, () => false).map((p) => path.basename(p))).toContain(path.basename(mine));
  expect(staleScratch(path.join(tmp, "missing"))).toEqual([]);
});
