// Kubernetes probes at run time: the monitor runs them (src/sys/monitor/probe.c) from DIR/probes.bin,
// made here from the record's probes; what it records of them, probe-status.ts reads.
import { encodePlan } from "../runtime/encode.ts";
import type { RunPlan } from "../runtime/plan.ts";
import type { ProbeAction, ProbeRecord } from "../store/probe-record.ts";
import { encodeProbes, ProbeActionCode, ProbeKindCode, type MonitorProbe } from "../sys/protocol.ts";
import { checkPlan } from "./health.ts";

/** The kubelet's User-Agent (kube-probe/<major>.<minor>), of the API version play kube follows. */
const USER_AGENT = "kube-probe/1.31";

const KIND: Record<ProbeRecord["kind"], ProbeKindCode> = { liveness: ProbeKindCode.Liveness, readiness: ProbeKindCode.Readiness, startup: ProbeKindCode.Startup };

/**
 * An httpGet probe's request, as the kubelet's Go client sends it, less the Host header (the monitor
 * adds "Host: ip:port" unless a Host header is given): User-Agent and Accept unless given.
 */
export function probeRequest(a: Extract<ProbeAction, { type: "httpGet" }>): { text: string; addHost: boolean } {
  const given = new Set(a.headers.map((h) => h.name.toLowerCase()));
  const lines = [`GET ${a.path} HTTP/1.1`];
  const host = a.headers.find((h) => h.name.toLowerCase() === "host");
  if (host) lines.push(`Host: ${host.value}`);
  if (!given.has("user-agent")) lines.push(`User-Agent: ${USER_AGENT}`);
  if (!given.has("accept")) lines.push("Accept: */*");
  for (const h of a.headers) if (h.name.toLowerCase() !== "host") lines.push(`${h.name}: ${h.value}`);
  lines.push("Connection: close");
  return { text: `${lines.join("\r\n")}\r\n\r\n`, addHost: !host };
}

/** The records as the monitor takes them; exec probes run with the container's plan, their command replaced. */
export function monitorProbes(probes: ProbeRecord[], plan: RunPlan): MonitorProbe[] {
  return probes.map((p) => {
    const a = p.action;
    const base = {
      kind: KIND[p.kind],
      delayMs: p.initialDelaySeconds * 1000,
      periodMs: p.periodSeconds * 1000,
      timeoutMs: p.timeoutSeconds * 1000,
      successThreshold: p.successThreshold,
      failureThreshold: p.failureThreshold,
    };
    if (a.type === "exec") return { ...base, action: ProbeActionCode.Exec, port: 0, ip: null, addHost: false, payload: encodePlan(checkPlan(plan, a.command)) };
    const ip = a.host ? a.host.split(".").map(Number) : null;
    if (a.type === "tcpSocket") return { ...base, action: ProbeActionCode.Tcp, port: a.port, ip, addHost: false, payload: new Uint8Array(0) };
    const req = probeRequest(a);
    return { ...base, action: ProbeActionCode.Http, port: a.port, ip, addHost: req.addHost, payload: new TextEncoder().encode(req.text) };
  });
}

/** DIR/probes.bin's bytes for the monitor. */
export function encodeMonitorProbes(probes: ProbeRecord[], plan: RunPlan): Uint8Array {
  return encodeProbes(monitorProbes(probes, plan));
}
