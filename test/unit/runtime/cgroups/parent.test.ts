// --cgroup-parent: the cgroup is <parent>/tinydock-<id> (its name still says whose it is), every
// level of a fresh parent gets a cpuset (v1) or the controllers it passes down (v2), and destroy
// leaves the parent as Docker does.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cgroupLeaf, checkCgroupParent } from "../../../../src/runtime/cgroups/cgroup.ts";
import { detectCgroups } from "../../../../src/runtime/cgroups/index.ts";
import { planV2 } from "../../../../src/runtime/cgroups/v2.ts";
import { parseResources } from "../../../../src/runtime/resources.ts";
import { fakeV1, read, removedAfterEach } from "./fake.ts";

const ID = "0123456789ab";
const keep = removedAfterEach();

describe("cgroupLeaf and checkCgroupParent", () => {
  test.each([
    [undefined, "tinydock/0123456789ab"],
    ["/mine", "mine/tinydock-0123456789ab"],
    ["a/b/", "a/b/tinydock-0123456789ab"],
    ["//system.slice//x", "system.slice/x/tinydock-0123456789ab"],
  ])("%p", (parent, rel) => expect(cgroupLeaf(ID, parent)).toBe(rel));
  test.each([
    ["/", "it names no cgroup"],
    ["/a/../b", '".." is not a plain cgroup name'],
    ["./a", '"." is not a plain cgroup name'],
    ["a b", '"a b" is not a plain cgroup name'],
    ["a\nb", "is not a plain cgroup name"],
    ["/tinydock/x", "tinydock/ holds the engine's own cgroups"],
  ])("%p refused", (parent, msg) => expect(() => checkCgroupParent(parent)).toThrow(msg));
});

describe("v1", () => {
  test("made under the parent in every hierarchy, cpusets filled level by level; destroy leaves the parent", () => {
    const fake = keep(fakeV1({ hierarchies: ["cpuset", "memory", "pids"], unified: false }));
    // What mkdir would make appear: the levels' cpuset files empty, the cgroup's files.
    for (const h of ["cpuset", "memory", "pids"]) {
      let dir = path.join(fake.root, h);
      for (const part of ["a", "b", `tinydock-${ID}`]) {
        dir = path.join(dir, part);
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, "cgroup.procs"), "");
        if (h === "cpuset") for (const f of ["cpuset.cpus", "cpuset.mems"]) fs.writeFileSync(path.join(dir, f), "\n");
        if (h === "pids") fs.writeFileSync(path.join(dir, "pids.max"), "max\n");
      }
    }
    const manager = detectCgroups(fake.root, { settleMs: 100 });
    const cg = manager.create(ID, parseResources({ pidsLimit: "10" }, 2), { allDevices: true, parent: "/a/b" });
    expect(cg.procsFiles).toEqual(["cpuset", "memory", "pids"].map((h) => path.join(fake.root, h, "a", "b", `tinydock-${ID}`, "cgroup.procs")));
    expect(read(path.join(fake.root, "pids", "a", "b", `tinydock-${ID}`, "pids.max"))).toBe("10");
    for (const level of ["a", "a/b", `a/b/tinydock-${ID}`]) expect(read(path.join(fake.root, "cpuset", level, "cpuset.cpus"))).toBe("0-1");
    // The default tinydock/ is not made, and list() (tinydock/'s children) does not see it.
    expect(fs.existsSync(path.join(fake.root, "cpuset", "tinydock"))).toBe(false);
    expect(manager.open(ID, "/a/b").procsFiles).toEqual(cg.procsFiles);
    for (const f of cg.procsFiles) fs.rmSync(path.dirname(f), { recursive: true }); // the fake's files keep rmdir from working
    cg.destroy();
    expect(fs.existsSync(path.join(fake.root, "cpuset", "a", "b"))).toBe(true);
  });
});

describe("v2", () => {
  test("each level between the root and the parent passes the controllers down", () => {
    const plan = planV2({
      root: "/sys/fs/cgroup",
      id: ID,
      rel: `a/b/tinydock-${ID}`,
      resources: parseResources({ memory: "1g" }, 2),
      available: ["cpu", "memory", "pids"],
      rootEnabled: ["cpu", "memory", "pids"],
      between: [{ dir: "/sys/fs/cgroup/a", enabled: [] }],
      parentEnabled: ["memory"],
    });
    expect(plan.writes.slice(0, 3)).toEqual([
      { file: "/sys/fs/cgroup/a/cgroup.subtree_control", value: "+memory +pids" },
      { file: "/sys/fs/cgroup/a/b/cgroup.subtree_control", value: "+pids" },
      { file: `/sys/fs/cgroup/a/b/tinydock-${ID}/memory.max`, value: "1073741824" },
    ]);
  });
});
