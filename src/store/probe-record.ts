// A container's Kubernetes probes (play kube's livenessProbe, readinessProbe, startupProbe) as its
// state.json keeps them, in the API's own terms: `start` hands them to the monitor again and
// `generate kube` writes them back. Defined here, where they are stored.
export type ProbeKind = "liveness" | "readiness" | "startup";

export type ProbeAction =
  | { type: "exec"; command: string[] }
  /** host: an IPv4 address, or absent for the pod's; headers in the order given. */
  | { type: "httpGet"; port: number; path: string; host?: string; headers: { name: string; value: string }[] }
  | { type: "tcpSocket"; port: number; host?: string };

export interface ProbeRecord {
  kind: ProbeKind;
  action: ProbeAction;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}
