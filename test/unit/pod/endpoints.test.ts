// podEndpoint: the one place a pod is judged to take traffic, as Kubernetes' Ready condition.
import { expect, test } from "bun:test";
import type { LiveContainer } from "../../../src/lifecycle/live.ts";
import { podEndpoint } from "../../../src/pod/services.ts";
import type { PodRecord } from "../../../src/pod/store.ts";

const pod = { id: "p", infraId: "i" } as PodRecord;
function live(id: string, s: { running?: boolean; restarting?: boolean; ready?: boolean }): LiveContainer {
  return {
    record: { id, pod: "p", network: { endpoint: { ipAddress: "10.0.0.2", bridge: "tinydock0" } } },
    state: { Running: s.running ?? true, Restarting: s.restarting ?? false },
    ready: s.ready ?? s.running ?? true,
  } as unknown as LiveContainer;
}

test("infra running and every container running and ready: an endpoint, with its bridge", () => {
  expect(podEndpoint(pod, [live("i", {}), live("a", {}), live("b", {})])).toEqual({ ip: "10.0.0.2", bridge: "tinydock0" });
  expect(podEndpoint(pod, [live("i", {})])).toEqual({ ip: "10.0.0.2", bridge: "tinydock0" });
});

test("a container not ready, stopped, or waiting out a restart's back-off takes the pod out; so does the infra stopped", () => {
  expect(podEndpoint(pod, [live("i", {}), live("a", {}), live("b", { ready: false })])).toBeUndefined();
  expect(podEndpoint(pod, [live("i", {}), live("a", { running: false })])).toBeUndefined();
  expect(podEndpoint(pod, [live("i", {}), live("a", { restarting: true, ready: true })])).toBeUndefined();
  expect(podEndpoint(pod, [live("i", { running: false }), live("a", {})])).toBeUndefined();
});
