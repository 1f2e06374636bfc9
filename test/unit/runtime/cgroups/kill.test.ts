// killCgroup on fake cgroupfs roots (plain directories the test updates as the kernel would): the
// order of its steps (freeze, read the pids, bind pidfds, read again, signal, thaw), v2's
// cgroup.kill used alone when present, a freeze that never settles waited out once and no more,
// and a pid that leaves the cgroup between the read and the signal left alone.
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { pidsBelow } from "../../../../src/runtime/cgroups/cgroupfs.ts";
import { FREEZE_WAIT_MS, killCgroup, type Freezer } from "../../../../src/runtime/cgroups/kill.ts";
import { fakeV1, fakeV1Cgroup, fakeV2, fakeV2Cgroup, loggedPidfds, read, removedAfterEach } from "./fake.ts";

const ID = "0123456789ab";
const keep = removedAfterEach();
const spawned: Bun.Subprocess[] = [];
afterEach(() => {
  for (const p of spawned.splice(0)) p.kill("SIGKILL");
});

function sleeper(): Bun.Subprocess {
  const p = Bun.spawn(["sleep", "30"], { stdout: "ignore", stderr: "ignore" });
  spawned.push(p);
  return p;
}

/** Drops a pid from a fake cgroup.procs, as the kernel does when the task exits or moves. */
function drop(procs: string, pid: number): void {
  fs.writeFileSync(procs, read(procs).split("\n").filter((l) => l !== "" && l !== String(pid)).map((l) => `${l}\n`).join(""));
}

describe("killCgroup", () => {
  test("v1: freeze, read, pidfd, read again, signal, all while frozen; thawed at the end", async () => {
    const fake = keep(fakeV1({ hierarchies: ["freezer", "pids"], unified: false }));
    fakeV1Cgroup(fake.root, ID);
    const dir = path.join(fake.root, "freezer", "tinydock", ID);
    const procs = path.join(dir, "cgroup.procs");
    const freezer: Freezer = { version: 1, file: path.join(dir, "freezer.state"), dir };
    const state = () => read(freezer.file).trim();
    const { sys, log } = loggedPidfds(state, (pid) => drop(procs, pid));
    const a = sleeper();
    const b = sleeper();
    fs.writeFileSync(procs, `${a.pid}\n${b.pid}\n`);
    const left = killCgroup({ pids: () => (log.push(`read ${state()}`), pidsBelow(dir)), freezer }, sys, 2_000);
    expect(left).toEqual([]);
    expect(log).toEqual([
      "read THAWED", // is anything inside?
      "read FROZEN",
      `open ${a.pid} FROZEN`,
      `open ${b.pid} FROZEN`,
      "read FROZEN",
      `signal ${a.pid} 9 FROZEN`,
      `signal ${b.pid} 9 FROZEN`,
      "read THAWED",
    ]);
    expect(state()).toBe("THAWED");
    await Promise.all([a.exited, b.exited]);
    expect([a.signalCode, b.signalCode]).toEqual(["SIGKILL", "SIGKILL"]);
  });

  test("v2 with cgroup.kill: one write, no freeze, no pidfd", () => {
    const fake = keep(fakeV2());
    fakeV2Cgroup(fake.root, ID, { kill: true });
    const dir = path.join(fake.root, "tinydock", ID);
    const a = sleeper();
    fs.writeFileSync(path.join(dir, "cgroup.procs"), `${a.pid}\n`);
    const { sys, log } = loggedPidfds();
    const freezer: Freezer = { version: 2, file: path.join(dir, "cgroup.freeze"), dir };
    // The fake kernel answers the write at once: the cgroup is empty.
    let reads = 0;
    const pids = () => (++reads > 1 ? [] : pidsBelow(dir));
    expect(killCgroup({ pids, freezer, killFiles: [path.join(dir, "cgroup.kill")] }, sys, 1_000)).toEqual([]);
    expect(read(path.join(dir, "cgroup.kill"))).toBe("1");
    expect(read(freezer.file)).toBe("0\n");
    expect(log).toEqual([]);
  });

  test("v2 without cgroup.kill, a freeze that never settles: waited out once, then pidfds; thawed", async () => {
    const fake = keep(fakeV2());
    fakeV2Cgroup(fake.root, ID);
    const dir = path.join(fake.root, "tinydock", ID);
    const procs = path.join(dir, "cgroup.procs");
    expect(fs.existsSync(path.join(dir, "cgroup.kill"))).toBe(false);
    const freezer: Freezer = { version: 2, file: path.join(dir, "cgroup.freeze"), dir };
    // cgroup.events stays "frozen 0": a task in D state holds the freeze up.
    const a = sleeper();
    fs.writeFileSync(procs, `${a.pid}\n`);
    const { sys, log } = loggedPidfds(() => read(freezer.file).trim(), (pid) => drop(procs, pid));
    const t0 = performance.now();
    expect(killCgroup({ pids: () => pidsBelow(dir), freezer, killFiles: [path.join(dir, "cgroup.kill")] }, sys, 5_000)).toEqual([]);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(FREEZE_WAIT_MS - 50);
    expect(ms).toBeLessThan(FREEZE_WAIT_MS + 1_500);
    expect(log).toEqual([`open ${a.pid} 1`, `signal ${a.pid} 9 1`]);
    expect(read(freezer.file)).toBe("0");
    await a.exited;
    expect(a.signalCode).toBe("SIGKILL");
  });

  test("pidfds in batches of 256: a cgroup of thousands never holds more fds open than that", async () => {
    const fake = keep(fakeV1({ hierarchies: ["freezer"], unified: false }));
    fakeV1Cgroup(fake.root, ID);
    const dir = path.join(fake.root, "freezer", "tinydock", ID);
    const procs = path.join(dir, "cgroup.procs");
    const a = sleeper();
    // One process listed 600 times stands in for 600 (each listing gets a pidfd of its own).
    fs.writeFileSync(procs, `${a.pid}\n`.repeat(600));
    const { sys, log } = loggedPidfds(() => "", (pid) => drop(procs, pid));
    const freezer: Freezer = { version: 1, file: path.join(dir, "freezer.state"), dir };
    killCgroup({ pids: () => (log.push("read"), pidsBelow(dir)), freezer }, sys, 2_000);
    const runs = log.join(",").split(",read,").slice(1).map((chunk) => chunk.split(",").filter((x) => x.startsWith("open")).length);
    expect(runs.slice(0, 3)).toEqual([256, 256, 88]);
    await a.exited;
  });
});
