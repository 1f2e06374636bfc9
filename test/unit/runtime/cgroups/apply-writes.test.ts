// applyWrites: a plan's writes in order, each control file opened once (a kernfs file takes each
// write(2) as one value: the ~12 rules of devices.allow need one open, not twelve).
import { afterEach, expect, spyOn, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyWrites } from "../../../../src/runtime/cgroups/cgroupfs.ts";

let dir = "";
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test("each file opened once, the values written in the plan's order, every fd closed; a missing one warned once", () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-apply-"));
  const allow = path.join(dir, "devices.allow");
  const deny = path.join(dir, "devices.deny");
  for (const f of [allow, deny]) fs.writeFileSync(f, "");
  const opened: string[] = [];
  const written: [number, string][] = [];
  const closed: number[] = [];
  const realOpen = fs.openSync;
  const realWrite = fs.writeSync;
  const realClose = fs.closeSync;
  const spies = [
    spyOn(fs, "openSync").mockImplementation(((p: fs.PathLike, ...rest: [never]) => {
      opened.push(String(p));
      return realOpen(p, ...rest);
    }) as typeof fs.openSync),
    spyOn(fs, "writeSync").mockImplementation(((fd: number, v: string, ...rest: [never]) => {
      written.push([fd, v]);
      return realWrite(fd, v, ...rest);
    }) as typeof fs.writeSync),
    spyOn(fs, "closeSync").mockImplementation(((fd: number) => {
      closed.push(fd);
      realClose(fd);
    }) as typeof fs.closeSync),
  ];
  let warnings: string[];
  try {
    warnings = applyWrites([
      { file: deny, value: "a" },
      { file: allow, value: "c 1:5 rwm" },
      { file: allow, value: "c 1:3 rwm" },
      { file: deny, value: "c 10:229 rwm" },
      { file: allow, value: "c *:* m" },
      { file: path.join(dir, "memory.memsw.limit_in_bytes"), value: "1", ifMissing: "no swap" },
      { file: path.join(dir, "memory.memsw.limit_in_bytes"), value: "2", ifMissing: "no swap" },
    ]);
  } finally {
    for (const s of spies) s.mockRestore();
  }
  expect(warnings).toEqual(["no swap"]);
  expect(opened).toEqual([deny, allow]);
  expect(written.map(([, v]) => v)).toEqual(["a", "c 1:5 rwm", "c 1:3 rwm", "c 10:229 rwm", "c *:* m"]);
  const fdOf = new Map(written.map(([fd, v]) => [v, fd]));
  expect(fdOf.get("c 1:5 rwm")).toBe(fdOf.get("c *:* m")!);
  expect(fdOf.get("a")).toBe(fdOf.get("c 10:229 rwm")!);
  expect(closed.sort()).toEqual([...new Set(written.map(([fd]) => fd))].sort());
});

test("an open that fails names the file and value; the files opened before are closed", () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-apply-"));
  const allow = path.join(dir, "devices.allow");
  fs.writeFileSync(allow, "");
  const before = fs.readdirSync("/proc/self/fd").length;
  expect(() => applyWrites([{ file: allow, value: "a" }, { file: path.join(dir, "gone", "pids.max"), value: "5" }])).toThrow(
    `open ${path.join(dir, "gone", "pids.max")} to write "5"`,
  );
  expect(fs.readdirSync("/proc/self/fd").length).toBe(before);
});
