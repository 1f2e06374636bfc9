// What `ps` shows, in Docker's field names (its filters: container-filters.ts). Pure given the live containers and
// the time, so the unit tests pin Docker's strings.
import type { LiveContainer } from "../../lifecycle/live.ts";
import { normalizePort } from "../../lifecycle/inspect.ts";
import type { ContainerRecord, ContainerStatus } from "../../store/containers.ts";
import { ZERO_TIME, type LiveState } from "../../lifecycle/state.ts";
import { goTime, humanDuration } from "../format.ts";

export { goTime };
import { networkNamesOf } from "../../network/inspect.ts";

export interface ContainerRow {
  Command: string;
  CreatedAt: string;
  ID: string;
  Image: string;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Names: string;
  Networks: string;
  Ports: string;
  RunningFor: string;
  Size: string;
  State: ContainerStatus;
  Status: string;
}

const since = (iso: string, now: number) => humanDuration(Math.max(0, now - Date.parse(iso)));

/** container.State.String() of Docker. */
export function statusText(s: LiveState, now: number): string {
  const finished = s.FinishedAt && s.FinishedAt !== ZERO_TIME ? ` ${since(s.FinishedAt, now)} ago` : "";
  switch (s.Status) {
    case "paused":
      return `Up ${since(s.StartedAt, now)} (Paused)`;
    case "running":
      return `Up ${since(s.StartedAt, now)}`;
    case "restarting":
      return `Restarting (${s.ExitCode})${finished}`;
    case "removing":
      return "Removal In Progress";
    case "dead":
      return "Dead";
    case "created":
      return "Created";
    case "exited":
      return `Exited (${s.ExitCode})${finished}`;
  }
}

/** Docker's Ellipsis: at most n characters, the last one "…" when cut. */
export function ellipsis(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join("")}…`;
}

/** "0.0.0.0:8080->80/tcp, 443/tcp". */
export function portsText(ports: Record<string, unknown>[] | undefined): string {
  const out: string[] = [];
  for (const p of ports ?? []) {
    const b = normalizePort(p);
    if (!b) continue;
    // A binding on all addresses is recorded with hostIp ""; Docker prints 0.0.0.0.
    out.push(b.hostPort ? `${b.hostIp || "0.0.0.0"}:${b.hostPort}->${b.containerPort}/${b.protocol}` : `${b.containerPort}/${b.protocol}`);
  }
  return out.join(", ");
}

export interface RowOptions {
  noTrunc: boolean;
  now: number;
  command: (rec: ContainerRecord) => string;
}

export function containerRow(c: LiveContainer, o: RowOptions): ContainerRow {
  const rec = c.record;
  const labels = rec.labels ?? rec.config?.Labels ?? {};
  const cmd = o.command(rec);
  return {
    Command: JSON.stringify(o.noTrunc ? cmd : ellipsis(cmd, 20)),
    CreatedAt: goTime(rec.created),
    ID: o.noTrunc ? rec.id : rec.id.slice(0, 12),
    Image: rec.image,
    Labels: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
    LocalVolumes: String((rec.mounts ?? []).filter((m) => m.Type === "volume").length),
    Mounts: (rec.mounts ?? []).map((m) => String(m.Name ?? m.Source ?? "")).join(","),
    Names: rec.name,
    Networks: networkNamesOf(rec.network).join(","),
    Ports: portsText(rec.ports),
    RunningFor: `${since(rec.created, o.now)} ago`,
    Size: "N/A",
    State: c.state.Status,
    Status: statusText(c.state, o.now),
  };
}
