// The shared e2e teardown (E2e.stop) leaves nothing of a test that stopped midway: its pods (whose
// infra `rm -f` refuses), its containers, and any process that still holds the test's directory.
import { expect, test } from "bun:test";
import fs from "node:fs";
import { startE2e } from "../helpers/e2e.ts";
import { findLeaks, processesHolding } from "../helpers/leakcheck.ts";

const pauseOf = (dir: string) =>
  processesHolding(dir).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p.pid}/comm`, "utf8").trim() === "tinydock-pause";
    } catch {
      return false;
    }
  });

/** Not ended (a zombie has ended). */
const running = (pid: number) => {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
};

test("stop() after a test that left a pod, a container in it and a running container: no process, mount or cgroup left", async () => {
  const e = await startE2e({ prefix: "td-teardown-e2e-" });
  let stopped = false;
  try {
    expect(e.T(["pod", "create", "--name", "left"]).code).toBe(0);
    const inPod = e.runDetached(["--pod", "left", "busybox", "sleep", "1000"]);
    const alone = e.runDetached(["busybox", "sleep", "1000"]);
    const pauses = pauseOf(e.dir);
    expect(pauses.length).toBe(1);
    const held = processesHolding(e.dir, [inPod, alone]).map((p) => p.pid);
    expect(held.length).toBeGreaterThan(3); // the pause, two monitors, two sleeps
    await e.stop();
    stopped = true;
    expect(held.filter(running)).toEqual([]);
    expect(findLeaks(e.dir)).toEqual([]);
    for (const id of [inPod, alone]) expect(findLeaks(id.slice(0, 12))).toEqual([]);
  } finally {
    if (!stopped) await e.stop();
  }
});
