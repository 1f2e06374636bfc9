// `start`: the namespaces of --ipc/--pid/--uts container:X joined anew, X looked up at every start.
import { expect, test } from "bun:test";
import { NotFoundError } from "../../../src/errors.ts";
import { rejoinDonors } from "../../../src/lifecycle/run/namespaces.ts";
import type { RunPlan } from "../../../src/runtime/plan.ts";

const plan = (): RunPlan =>
  ({ joinNamespaces: [{ ns: "ipc", path: "/proc/10/ns/ipc@5" }, { ns: "pid", path: "/proc/10/ns/pid@5" }, { ns: "net", path: "/run/netns/x" }] }) as unknown as RunPlan;

test("each container: mode's join moves to the donor's PID 1 of now, with its start time; the others stay", () => {
  const p = plan();
  expect(rejoinDonors(p, { IpcMode: "container:d", PidMode: "container:d", UTSMode: "" }, () => ({ pid: 42, startTime: 7 }))).toBe(true);
  expect(p.joinNamespaces).toEqual([
    { ns: "ipc", path: "/proc/42/ns/ipc@7" },
    { ns: "pid", path: "/proc/42/ns/pid@7" },
    { ns: "net", path: "/run/netns/x" },
  ]);
});

test("a donor not running: Docker's words; no container: mode: nothing looked up, nothing changed", () => {
  expect(() => rejoinDonors(plan(), { IpcMode: "shareable", PidMode: "container:d" }, () => undefined)).toThrow("failed to join PID namespace: container d is not running");
  const gone = () => {
    throw new NotFoundError("No such container: d");
  };
  expect(() => rejoinDonors(plan(), { UTSMode: "container:d" }, gone)).toThrow("failed to join UTS namespace: No such container: d");
  const p = plan();
  expect(rejoinDonors(p, { IpcMode: "private" }, () => { throw new Error("looked up"); })).toBe(false);
  expect(p).toEqual(plan());
});
