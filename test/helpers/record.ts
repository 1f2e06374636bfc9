// A container record for tests that save one by hand (no image pulled): what create leaves, a
// busybox container in the state `created`; the caller names it and whatever else it needs.
import type { ContainerRecord } from "../../src/store/containers.ts";

export function testRecord(over: Partial<ContainerRecord> & Pick<ContainerRecord, "id" | "name" | "args">): ContainerRecord {
  return {
    image: "busybox",
    imageId: "sha256:none",
    created: new Date().toISOString(),
    hostname: over.id.slice(0, 12),
    state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
    ...over,
  };
}
