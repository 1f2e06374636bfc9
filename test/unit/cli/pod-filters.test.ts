// pod ps --filter: podman's keys (but until), values of one key OR'd, keys AND'd.
import { expect, test } from "bun:test";
import type { LiveContainer } from "../../../src/lifecycle/live.ts";
import type { PodRecord } from "../../../src/pod/store.ts";
import { parsePodFilters, podMatches, type PodView } from "../../../src/cli/views/pods.ts";

const member = (id: string, name: string, Status: string) => ({ record: { id, name }, state: { Status } }) as unknown as LiveContainer;
const view = (name: string, network: string, members: LiveContainer[]): PodView => ({
  pod: { id: `${name[0]}`.repeat(64), name, network, labels: { app: name } } as unknown as PodRecord,
  members,
  status: "Running",
});
const pods = [
  view("web", "bridge", [member("a1".repeat(32), "web-httpd", "running"), member("b2".repeat(32), "web-sidecar", "exited")]),
  view("db", "backend", [member("c3".repeat(32), "db-postgres", "running")]),
  view("empty", "bridge", []),
];
const names = (...specs: string[]) => pods.filter((v) => podMatches(v, parsePodFilters(specs))).map((v) => v.pod.name);

test.each([
  [["network=bridge"], ["web", "empty"]],
  [["network=backend", "network=bridge"], ["web", "db", "empty"]],
  [["ctr-names=sidecar"], ["web"]],
  [["ctr-names=^db-"], ["db"]],
  [["ctr-ids=c3c3"], ["db"]],
  [["ctr-number=1"], ["empty"]],
  [["ctr-number=3"], ["web"]],
  [["ctr-status=exited"], ["web"]],
  [["ctr-status=stopped"], ["web"]],
  [["ctr-status=running", "network=backend"], ["db"]],
  [["label=app=web"], ["web"]],
])("%p → %p", (specs, want) => expect(names(...specs)).toEqual(want));

test.each([["ctr-number=x"], ["ctr-status=sleeping"], ["until=1h"], ["nokey"]])("%p is refused", (spec) => expect(() => parsePodFilters([spec])).toThrow());
