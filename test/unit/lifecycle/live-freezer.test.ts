// readLive asks the cgroup locator for a running container's freezer (paused or not), except for a
// pod's infra, which has no cgroup of its own: asking meant probing every cgroup v1 hierarchy at
// each `run --pod` and each listing.
import { afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import { readLive } from "../../../src/lifecycle/live.ts";
import { processStartTime } from "../../../src/lifecycle/liveness.ts";
import { startedRunState, writeRunState } from "../../../src/lifecycle/monitor.ts";
import type { CgroupLocator } from "../../../src/lifecycle/cgroupdirs.ts";
import { containerPaths, INFRA_LABEL, saveContainer, type ContainerRecord } from "../../../src/store/containers.ts";
import { testContext, type TestEnv } from "../../helpers/ctx.ts";
import { testRecord } from "../../helpers/record.ts";

let env: TestEnv | undefined;
afterEach(() => env?.cleanup());

/** A record saved as running, supervised by this test process (alive). */
function running(e: TestEnv, rec: ContainerRecord): ContainerRecord {
  const dir = containerPaths(e.root, rec.id).dir;
  fs.mkdirSync(dir, { recursive: true });
  saveContainer(e.root, rec);
  const start = processStartTime(process.pid) ?? 0;
  writeRunState(dir, startedRunState(process.pid, start, process.pid, start, new Date().toISOString()));
  return rec;
}

function countingLocator(): { locator: CgroupLocator; asked: string[] } {
  const asked: string[] = [];
  const locator: CgroupLocator = {
    version: 1,
    dirs: () => [],
    allDirs: () => [],
    freezer: (id) => {
      asked.push(id);
      return undefined;
    },
  };
  return { locator, asked };
}

test("a pod's infra (no cgroup recorded) is running without its freezer asked; a container's is asked", () => {
  env = testContext();
  const infra = running(env, testRecord({ id: "a".repeat(64), name: "p-infra", args: [], image: "", pod: "p".repeat(64), labels: { [INFRA_LABEL]: "true" }, cgroupPath: [] }));
  const member = running(env, testRecord({ id: "b".repeat(64), name: "web", args: ["sh"], pod: "p".repeat(64), cgroupPath: ["/sys/fs/cgroup/freezer/tinydock/" + "b".repeat(64)] }));
  const { locator, asked } = countingLocator();
  expect(readLive(env.ctx, infra, locator).state.Running).toBe(true);
  expect(asked).toEqual([]);
  expect(readLive(env.ctx, member, locator).state.Running).toBe(true);
  expect(asked).toEqual([member.id]);
});

test("a container labelled as an infra but with a cgroup of its own still has its freezer asked", () => {
  env = testContext();
  const odd = running(env, testRecord({ id: "c".repeat(64), name: "odd", args: ["sh"], pod: "p".repeat(64), labels: { [INFRA_LABEL]: "true" }, cgroupPath: ["/sys/fs/cgroup/freezer/tinydock/" + "c".repeat(64)] }));
  const { locator, asked } = countingLocator();
  readLive(env.ctx, odd, locator);
  expect(asked).toEqual([odd.id]);
});
