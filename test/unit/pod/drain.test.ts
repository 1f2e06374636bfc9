// whileDrained: the pod is out of its Services (podEndpoint) from before its stop starts until the
// stop ends, and back in after a stop that fails; a mark whose process is gone counts for nothing.
import { afterEach, expect, test } from "bun:test";
import type { LiveContainer } from "../../../src/lifecycle/live.ts";
import { isDraining, whileDrained } from "../../../src/pod/drain.ts";
import { podEndpoint } from "../../../src/pod/services.ts";
import { findPod, savePod, type PodRecord } from "../../../src/pod/store.ts";
import { testContext, type TestEnv } from "../../helpers/ctx.ts";

let env: TestEnv | undefined;
afterEach(() => env?.cleanup());

const ID = "a".repeat(64);
const live = (id: string) =>
  ({ record: { id, pod: ID, network: { endpoint: { ipAddress: "10.0.0.2", bridge: "tinydock0" } } }, state: { Running: true, Restarting: false }, ready: true }) as unknown as LiveContainer;
const members = [live("i"), live("c")];

function setup(): { env: TestEnv; pod: PodRecord; seen: (string | undefined)[]; sync: () => Promise<void> } {
  env = testContext();
  const pod: PodRecord = { id: ID, name: "p", created: "", hostname: "p", labels: {}, share: ["net"], network: "bridge", publish: [], infraId: "i" };
  savePod(env.root, pod);
  const seen: (string | undefined)[] = [];
  // What a sync would give the Service: this pod's address, or none.
  const sync = async () => void seen.push(podEndpoint(findPod(env!.root, "p"), members)?.ip);
  return { env, pod, seen, sync };
}

test("the endpoint goes before the stop begins and the mark goes after it", async () => {
  const { env, pod, seen, sync } = setup();
  let during: (string | undefined)[] = [];
  await whileDrained(env.ctx, pod, sync, async () => {
    during = [...seen];
    expect(isDraining(findPod(env.root, "p"))).toBe(true);
  });
  expect(during).toEqual([undefined]);
  expect(findPod(env.root, "p").terminating).toBeUndefined();
  expect(seen).toEqual([undefined, "10.0.0.2"]);
});

test("a stop that fails restores the endpoint and rethrows", async () => {
  const { env, pod, seen, sync } = setup();
  await expect(whileDrained(env.ctx, pod, sync, async () => Promise.reject(new Error("stuck")))).rejects.toThrow("stuck");
  expect(seen).toEqual([undefined, "10.0.0.2"]);
  expect(findPod(env.root, "p").terminating).toBeUndefined();
});

test("a mark left by a process that is gone counts for nothing", () => {
  const { env } = setup();
  const gone = Bun.spawnSync(["true"]).pid;
  savePod(env.root, { ...findPod(env.root, "p"), terminating: { pid: gone } });
  expect(isDraining(findPod(env.root, "p"))).toBe(false);
  expect(podEndpoint(findPod(env.root, "p"), members)?.ip).toBe("10.0.0.2");
  savePod(env.root, { ...findPod(env.root, "p"), terminating: { pid: process.pid } });
  expect(podEndpoint(findPod(env.root, "p"), members)).toBeUndefined();
});

test("two stops of one pod: the pod stays out of its Services until the last of them ends", async () => {
  const { env, pod, seen, sync } = setup();
  let releaseFirst!: () => void;
  const first = whileDrained(env.ctx, pod, sync, () => new Promise<void>((r) => (releaseFirst = r)));
  await whileDrained(env.ctx, pod, sync, async () => {});
  // The second stop ended first: its sync must not give the endpoint back while the first runs.
  expect(isDraining(findPod(env.root, "p"))).toBe(true);
  expect(seen).toEqual([undefined, undefined, undefined]);
  releaseFirst();
  await first;
  expect(isDraining(findPod(env.root, "p"))).toBe(false);
  expect(findPod(env.root, "p").terminating).toBeUndefined();
  expect(seen.at(-1)).toBe("10.0.0.2");
});

test("a stop by another process that is still running outlives ours; a record with the old single mark is read", async () => {
  const { env, pod, sync } = setup();
  const other = Bun.spawn(["sleep", "30"]);
  try {
    savePod(env.root, { ...findPod(env.root, "p"), terminating: { pid: other.pid } });
    expect(isDraining(findPod(env.root, "p"))).toBe(true);
    await whileDrained(env.ctx, pod, sync, async () => {});
    expect(isDraining(findPod(env.root, "p"))).toBe(true);
    expect(findPod(env.root, "p").terminating).toEqual([{ pid: other.pid }]);
  } finally {
    other.kill(9);
    await other.exited;
  }
  expect(isDraining(findPod(env.root, "p"))).toBe(false);
});
