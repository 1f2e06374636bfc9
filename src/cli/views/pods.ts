// What `pod ps` and `pod inspect` show of a pod, in podman's field names. Pure.
import { ParseError } from "../../errors.ts";
import { crashLoop } from "../../lifecycle/backoff.ts";
import type { LiveContainer } from "../../lifecycle/live.ts";
import type { PodRecord } from "../../pod/store.ts";
import { since } from "../format.ts";

export interface PodView {
  pod: PodRecord;
  members: LiveContainer[];
  status: string;
}

// podman's pod ps filters but `until`; ctr-* look at the pod's own containers (not its infra), ctr-number counts the infra as # OF CONTAINERS does.
const FILTER_KEYS = ["name", "id", "label", "status", "network", "ctr-names", "ctr-ids", "ctr-status", "ctr-number"] as const;
export type PodFilters = Partial<Record<(typeof FILTER_KEYS)[number], string[]>>;

const CTR_STATUSES = ["created", "running", "paused", "stopped", "exited", "restarting", "dead", "unknown"];

export function parsePodFilters(specs: string[]): PodFilters {
  const out: PodFilters = {};
  for (const spec of specs) {
    const i = spec.indexOf("=");
    if (i <= 0) throw new ParseError(`Bad format of filter (expected name=value): ${spec}`);
    const key = spec.slice(0, i).trim().toLowerCase() as (typeof FILTER_KEYS)[number];
    if (!FILTER_KEYS.includes(key)) throw new ParseError(`Invalid filter '${key}' (${FILTER_KEYS.join(", ")})`);
    const value = spec.slice(i + 1);
    if (key === "ctr-number" && !/^\d+$/.test(value)) throw new ParseError(`Invalid filter 'ctr-number=${value}': not a number`);
    if (key === "ctr-status" && !CTR_STATUSES.includes(value)) throw new ParseError(`Invalid filter 'ctr-status=${value}' (${CTR_STATUSES.join(", ")})`);
    (out[key] ??= []).push(value);
  }
  return out;
}

/** Values of one key are OR'd, keys AND'd; status compares podman's words case-insensitively. */
export function podMatches(v: PodView, f: PodFilters): boolean {
  const { pod } = v;
  if (f.name && !f.name.some((n) => matchName(n, pod.name))) return false;
  if (f.id && !f.id.some((p) => pod.id.startsWith(p))) return false;
  if (f.status && !f.status.some((s) => s.toLowerCase() === v.status.toLowerCase())) return false;
  if (f.network && !f.network.includes(pod.network)) return false;
  const ctrs = v.members.map((c) => c.record);
  if (f["ctr-names"] && !f["ctr-names"].some((n) => ctrs.some((c) => matchName(n, c.name)))) return false;
  if (f["ctr-ids"] && !f["ctr-ids"].some((p) => ctrs.some((c) => c.id.startsWith(p)))) return false;
  if (f["ctr-number"] && !f["ctr-number"].some((n) => Number(n) === v.members.length + 1)) return false;
  // podman's "stopped" is a container that ran and ended: tinydock's exited.
  if (f["ctr-status"] && !f["ctr-status"].some((s) => v.members.some((c) => c.state.Status === (s === "stopped" ? "exited" : s)))) return false;
  for (const l of f.label ?? []) {
    const i = l.indexOf("=");
    if (i < 0 ? !(l in pod.labels) : pod.labels[l.slice(0, i)] !== l.slice(i + 1)) return false;
  }
  return true;
}

function matchName(pattern: string, name: string): boolean {
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return name.includes(pattern);
  }
}

/** A member as the pod shows it: its status, or the kubelet's CrashLoopBackOff while it waits out a back-off. */
function memberView(pod: PodRecord, c: LiveContainer) {
  const waiting = crashLoop(c.record.restartPolicy, c.state, c.record.name, pod.name);
  return { status: waiting?.Reason ?? c.state.Status, waiting };
}

export function podRows(views: PodView[], o: { noTrunc: boolean; now: number }) {
  const short = (id: string) => (o.noTrunc ? id : id.slice(0, 12));
  return views.map((v) => ({
    ID: short(v.pod.id),
    Name: v.pod.name,
    Status: v.status,
    Created: since(v.pod.created, o.now),
    CreatedAt: v.pod.created,
    InfraID: short(v.pod.infraId),
    NumberOfContainers: v.members.length + 1,
    Ready: readyCount(v.members),
    Labels: Object.entries(v.pod.labels)
      .map(([k, x]) => `${k}=${x}`)
      .join(","),
    Networks: v.pod.network,
    Containers: v.members.map((c) => ({ Id: short(c.record.id), Names: c.record.name, Status: memberView(v.pod, c).status })),
  }));
}

/** kubectl's READY: "ready/all" of the pod's own containers (the infra is not counted). */
export function readyCount(members: LiveContainer[]): string {
  return `${members.filter((c) => c.ready).length}/${members.length}`;
}

/** podman's `pod inspect` shape, the fields tinydock has. */
export function inspectPod(pod: PodRecord, members: LiveContainer[], status: string, infra: LiveContainer | undefined) {
  const ports = (infra?.record.ports ?? []) as { containerPort?: number; hostPort?: number; protocol?: string; hostIp?: string }[];
  return {
    Id: pod.id,
    Name: pod.name,
    Created: pod.created,
    State: status,
    Hostname: pod.hostname,
    Labels: pod.labels,
    CreateInfra: true,
    InfraContainerId: pod.infraId,
    SharedNamespaces: pod.share,
    NumContainers: members.length + 1,
    Ready: readyCount(members),
    InfraConfig: {
      Networks: [pod.network],
      PortBindings: ports,
      IPAddress: infra?.record.network?.endpoint?.ipAddress ?? "",
      PID: infra?.state.Pid ?? 0,
    },
    Containers: [
      ...(infra ? [{ Id: infra.record.id, Name: infra.record.name, State: infra.state.Status }] : []),
      ...members.map((c) => {
        const { status, waiting } = memberView(pod, c);
        return { Id: c.record.id, Name: c.record.name, State: status, Ready: c.ready === true, RestartCount: c.state.RestartCount, ...(waiting ? { Waiting: waiting } : {}) };
      }),
    ],
    ...(pod.kubeOwner ? { KubeOwner: pod.kubeOwner } : {}),
  };
}
