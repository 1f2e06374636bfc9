// cgroup v1's create() primes the kernel for the container's join (primeJoin in cgroupfs.ts, with
// ownProcsFile): by moving this process into the cgroup it is already in. Against the real kernel (root, v1 host):
// that cgroup is found, and the move changes nothing. (How much faster the join then is depends on
// the grace period: TINYDOCK_DEBUG_TIMING shows it, a test would only be flaky.)
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { createContext } from "../../../src/context.ts";
import { detectCgroups } from "../../../src/runtime/cgroups/index.ts";
import { discoverV1Hierarchies, ownProcsFile } from "../../../src/runtime/cgroups/v1.ts";

const ROOT = createContext({ env: { TINYDOCK_CONFIG: "/nonexistent/config.json" } }).cgroupRoot;
const isRoot = process.getuid?.() === 0;
const v1 = (() => {
  try {
    return detectCgroups(ROOT).version === 1;
  } catch {
    return false;
  }
})();
const ID = `test-join-${Math.random().toString(36).slice(2, 10)}`;

afterEach(() => {
  if (v1) detectCgroups(ROOT).open(ID).destroy();
});

describe.skipIf(!isRoot || !v1)("cgroup v1: priming the join (only on a cgroup v1 host)", () => {
  test("this process's own cgroup.procs lists it", () => {
    const file = ownProcsFile(discoverV1Hierarchies(ROOT));
    expect(file).not.toBeNull();
    const pids = fs.readFileSync(file!, "utf8").split("\n").map(Number);
    expect(pids).toContain(process.pid);
  });

  test("create() leaves this process where it was", async () => {
    const before = fs.readFileSync("/proc/self/cgroup", "utf8");
    const cg = detectCgroups(ROOT).create(ID, {});
    await Bun.sleep(50); // the no-op move runs on the thread pool
    expect(fs.readFileSync("/proc/self/cgroup", "utf8")).toBe(before);
    // A child joins as the container init does, and the cgroup goes with it inside.
    const child = Bun.spawn(["sleep", "5"]);
    try {
      for (const f of cg.procsFiles) fs.writeFileSync(f, String(child.pid));
      expect(cg.pids()).toEqual([child.pid]);
    } finally {
      cg.destroy();
      child.kill("SIGKILL");
    }
  });
});
