// The downward API's fields that only the running pod knows: its address once the infra's network
// is attached, the node's address and name, the pod's uid. translate.ts is pure and runs before any
// pod exists, so such a field reads as a marker there (carried through $(VAR) references like any
// value) and play kube puts the pod's values in place of the markers before the containers are made.
import fs from "node:fs";
import os from "node:os";
import type { KubeContainer } from "./translate.ts";

export const RUNTIME_FIELDS = ["status.podIP", "status.podIPs", "status.hostIP", "status.hostIPs", "spec.nodeName", "metadata.uid"] as const;
export type RuntimeField = (typeof RUNTIME_FIELDS)[number];

/** NUL cannot be in an environment string, so no value of the file can look like a marker. */
export const fieldMarker = (field: RuntimeField): string => `\u0000${field}\u0000`;

export interface PodStatusFields {
  podIP: string;
  hostIP: string;
  nodeName: string;
  uid: string;
}

/** The pod's id as the UUID Kubernetes gives a pod's metadata.uid. */
export function podUid(id: string): string {
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
}

/** The markers in `s` replaced by the pod's values (pure). */
export function fillFields(s: string, st: PodStatusFields): string {
  if (!s.includes("\u0000")) return s;
  const value: Record<RuntimeField, string> = {
    "status.podIP": st.podIP,
    "status.podIPs": st.podIP,
    "status.hostIP": st.hostIP,
    "status.hostIPs": st.hostIP,
    "spec.nodeName": st.nodeName,
    "metadata.uid": st.uid,
  };
  return s.replace(/\u0000([a-zA-Z.]+)\u0000/g, (m, f: string) => (f in value ? value[f as RuntimeField] : m));
}

/** Whether the container reads a field only the running pod knows. */
export function readsPodFields(c: KubeContainer): boolean {
  return [...c.env, ...c.args, c.entrypoint ?? ""].some((s) => s.includes("\u0000"));
}

/**
 * The env variables whose whole value is one field only the running pod knows (name → fieldPath),
 * or undefined: generate kube writes them back as fieldRefs, not as this pod's address (pure).
 */
export function podFieldRefs(c: KubeContainer): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const e of c.env) {
    const m = /^([^=]*)=\u0000([a-zA-Z.]+)\u0000$/.exec(e);
    if (m && (RUNTIME_FIELDS as readonly string[]).includes(m[2]!)) out[m[1]!] = m[2]!;
  }
  return Object.keys(out).length ? out : undefined;
}

/** The container with its command, args and env filled in (pure). */
export function withPodFields(c: KubeContainer, st: PodStatusFields): KubeContainer {
  const fill = (s: string) => fillFields(s, st);
  return { ...c, env: c.env.map(fill), args: c.args.map(fill), ...(c.entrypoint !== undefined ? { entrypoint: fill(c.entrypoint) } : {}) };
}

/**
 * The node's address, as the kubelet reports status.hostIP: the IPv4 address of the interface the
 * default route leaves by, else the first non-loopback IPv4 address, else "".
 */
export function hostAddress(): string {
  const ifaces = os.networkInterfaces();
  const v4 = (name: string) => ifaces[name]?.find((a) => a.family === "IPv4" && !a.internal)?.address;
  try {
    for (const line of fs.readFileSync("/proc/net/route", "utf8").split("\n").slice(1)) {
      const [iface, dest, , , , , , mask] = line.trim().split(/\s+/);
      if (iface && dest === "00000000" && mask === "00000000") {
        const a = v4(iface);
        if (a) return a;
      }
    }
  } catch {}
  for (const name of Object.keys(ifaces)) {
    const a = v4(name);
    if (a) return a;
  }
  return "";
}
