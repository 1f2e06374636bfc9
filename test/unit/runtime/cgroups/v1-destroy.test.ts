// cgroup v1 destroy()'s short way: cgroups with nothing inside go with one rmdir each, tinydock/
// after them; anything else (a fake cgroup with files, a busy one) takes the long way tested in
// v1.test.ts. And no priming write ever lands outside a real cgroupfs.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { detectCgroups } from "../../../../src/runtime/cgroups/index.ts";
import { discoverV1Hierarchies, ownProcsFile } from "../../../../src/runtime/cgroups/v1.ts";
import { fakeV1, removedAfterEach } from "./fake.ts";

const ID = "0123456789ab";
const keep = removedAfterEach();

describe("cgroup v1: destroy, the short way", () => {
  test("empty cgroups and then tinydock/ are removed", () => {
    // No cpuset or devices hierarchy and no limits: create() writes nothing, so the fake cgroups
    // stay empty directories, as a real cgroup looks to rmdir once its last task is gone.
    const fake = keep(fakeV1({ hierarchies: ["memory", "pids", "freezer"], unified: false }));
    const manager = detectCgroups(fake.root, { settleMs: 100 });
    const cg = manager.create(ID, {});
    expect(manager.list()).toEqual([ID]);
    cg.destroy();
    for (const h of ["memory", "pids", "freezer"]) expect(fs.existsSync(path.join(fake.root, h, "tinydock"))).toBe(false);
    cg.destroy(); // idempotent
  });

  test("tinydock/ stays while another container's cgroup is in it", () => {
    const fake = keep(fakeV1({ hierarchies: ["memory", "pids"], unified: false }));
    const manager = detectCgroups(fake.root, { settleMs: 100 });
    const cg = manager.create(ID, {});
    manager.create("other", {});
    cg.destroy();
    expect(manager.list()).toEqual(["other"]);
    manager.open("other").destroy();
    expect(manager.list()).toEqual([]);
  });

  test("no own cgroup.procs outside a real cgroupfs: nothing to prime", () => {
    const fake = keep(fakeV1());
    expect(ownProcsFile(discoverV1Hierarchies(fake.root))).toBeNull();
  });
});
