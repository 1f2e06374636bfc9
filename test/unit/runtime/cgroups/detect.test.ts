import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { UnavailableError } from "../../../../src/errors.ts";
import { detectCgroups } from "../../../../src/runtime/cgroups/index.ts";
import { discoverV1Hierarchies } from "../../../../src/runtime/cgroups/v1.ts";
import { fakeV1, fakeV2, removedAfterEach } from "./fake.ts";

const keep = removedAfterEach();

describe("detectCgroups", () => {
  test("v2 when the root has cgroup.controllers", () => {
    const fake = keep(fakeV2());
    expect(detectCgroups(fake.root).version).toBe(2);
  });

  test("v1 on a hybrid host; the unified mount is not a v1 hierarchy", () => {
    const fake = keep(fakeV1());
    expect(detectCgroups(fake.root).version).toBe(1);
    const hs = discoverV1Hierarchies(fake.root);
    expect(hs.map((h) => path.basename(h.dir))).toEqual(["blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd"]);
    expect(hs.every((h) => h.controllers.length === 1)).toBe(true);
  });

  test("co-mounted controllers with symlinks are one hierarchy (cpu,cpuacct)", () => {
    const fake = keep(fakeV1({ hierarchies: ["cpu,cpuacct", "memory"], unified: false }));
    fs.symlinkSync("cpu,cpuacct", path.join(fake.root, "cpu"));
    fs.symlinkSync("cpu,cpuacct", path.join(fake.root, "cpuacct"));
    fs.writeFileSync(path.join(fake.root, "not-a-hierarchy"), "");
    fs.mkdirSync(path.join(fake.root, "empty-dir"));
    expect(discoverV1Hierarchies(fake.root)).toEqual([
      { dir: path.join(fake.root, "cpu,cpuacct"), controllers: ["cpu", "cpuacct"] },
      { dir: path.join(fake.root, "memory"), controllers: ["memory"] },
    ]);
  });

  test("a root reached through a symlink: co-mounted controllers are still one hierarchy", () => {
    const fake = keep(fakeV1({ hierarchies: ["cpu,cpuacct", "memory"], unified: false }));
    fs.symlinkSync("cpu,cpuacct", path.join(fake.root, "cpu"));
    fs.symlinkSync(path.join(fake.root, "cpu,cpuacct"), path.join(fake.root, "cpuacct"));
    const via = `${fake.root}-link`;
    fs.symlinkSync(fake.root, via);
    try {
      expect(discoverV1Hierarchies(via)).toEqual([
        { dir: path.join(via, "cpu,cpuacct"), controllers: ["cpu", "cpuacct"] },
        { dir: path.join(via, "memory"), controllers: ["memory"] },
      ]);
    } finally {
      fs.unlinkSync(via);
    }
  });

  test("nothing mounted is Unavailable, naming the root", () => {
    const fake = keep(fakeV1({ hierarchies: [], unified: false }));
    expect(() => detectCgroups(fake.root)).toThrow(UnavailableError);
    expect(() => detectCgroups(fake.root)).toThrow(`Cannot use cgroups under ${fake.root}: no cgroup hierarchy is mounted there`);
    expect(() => detectCgroups(path.join(fake.root, "missing"))).toThrow(UnavailableError);
  });
});
