// What the monitor records of a container's Kubernetes probes (src/sys/monitor/probe.c): Started,
// Ready and each probe's last result in DIR/probes.json, which inspect, `pod ps` and a Service's
// endpoints read.
import path from "node:path";
import { readJson } from "../atomic.ts";
import type { ProbeRecord } from "../store/probe-record.ts";

/** In the order of probe.c's PROBE_RESULTS; test/unit/sys/protocol.test.ts checks it. */
export const PROBE_RESULTS = ["failure", "success", "unknown"] as const;

/** DIR/probes.json as the monitor writes it. */
export interface ProbeStatus {
  Started: boolean;
  Ready: boolean;
  Probes: {
    Probe: ProbeRecord["kind"];
    Result: (typeof PROBE_RESULTS)[number];
    ConsecutiveSuccesses: number;
    ConsecutiveFailures: number;
    Last?: { Start: string; End: string; ExitCode: number; Output: string };
  }[];
}

export function readProbeStatus(dir: string): ProbeStatus | undefined {
  return readJson<ProbeStatus>(path.join(dir, "probes.json"));
}

/**
 * Kubernetes' containerStatuses[].ready: running, and with probes as the monitor last recorded them
 * (a startup probe passed, the readiness probe's result a success). A Service's endpoints leave a
 * container out unless it is ready.
 */
export function containerReady(rec: { probes?: ProbeRecord[] }, dir: string, running: boolean): boolean {
  if (!running) return false;
  if (!rec.probes?.length) return true;
  return readProbeStatus(dir)?.Ready ?? false;
}
