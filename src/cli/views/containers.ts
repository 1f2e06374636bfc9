// What `ps` shows, in Docker's field names, and its filters. Pure given the live containers and
// the time, so the unit tests pin Docker's strings.
import { ParseError } from "../../errors.ts";
import type { LiveContainer } from "../../lifecycle/live.ts";
import { normalizePort } from "../../lifecycle/inspect.ts";
import type { ContainerRecord, ContainerStatus } from "../../store/containers.ts";
import { ZERO_TIME, type LiveState } from "../../lifecycle/state.ts";
import { humanDuration } from "../format.ts";
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

/** "2026-11-23 22:00:00 +0000 UTC", Go's time.String() as `ps --format json` shows CreatedAt. */
export function goTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
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

const FILTER_KEYS = ["status", "name", "label", "id", "exited", "ancestor", "pod"] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
export type ContainerFilters = Partial<Record<FilterKey, string[]>>;

const STATUSES: ContainerStatus[] = ["created", "restarting", "running", "removing", "paused", "exited", "dead"];

/** ["status=exited", "label=a=b"] → {status: ["exited"], label: ["a=b"]}; Docker's errors. */
export function parseFilters(specs: string[]): ContainerFilters {
  const out: ContainerFilters = {};
  for (const spec of specs) {
    const i = spec.indexOf("=");
    if (i <= 0) throw new ParseError(`Bad format of filter (expected name=value): ${spec}`);
    const key = spec.slice(0, i).trim().toLowerCase();
    const value = spec.slice(i + 1);
    if (!(FILTER_KEYS as readonly string[]).includes(key)) throw new ParseError(`Invalid filter '${key}'`);
    if (key === "status" && !STATUSES.includes(value as ContainerStatus)) throw new ParseError(`Invalid filter 'status=${value}'`);
    if (key === "exited" && !/^-?\d+$/.test(value)) throw new ParseError(`Invalid filter 'exited=${value}'`);
    (out[key as FilterKey] ??= []).push(value);
  }
  return out;
}

function nameMatches(pattern: string, name: string): boolean {
  try {
    return new RegExp(pattern).test(`/${name}`);
  } catch {
    return `/${name}`.includes(pattern);
  }
}

/** ancestor=busybox, busybox:latest, or an image id (prefix, with or without "sha256:"). */
function ancestorMatches(a: string, rec: ContainerRecord): boolean {
  const image = rec.image.includes(":") || rec.image.includes("@") ? rec.image : `${rec.image}:latest`;
  const want = a.includes(":") || a.includes("@") ? a : `${a}:latest`;
  if (image === want) return true;
  const hex = rec.imageId.replace(/^sha256:/, "");
  const q = a.replace(/^sha256:/, "");
  return /^[a-f0-9]{4,64}$/.test(q) && hex.startsWith(q);
}

/** Values of one key are OR'd, keys are AND'd, as Docker does. */
export function matchesFilters(c: LiveContainer, f: ContainerFilters): boolean {
  const rec = c.record;
  const labels = rec.labels ?? rec.config?.Labels ?? {};
  if (f.status && !f.status.includes(c.state.Status)) return false;
  if (f.name && !f.name.some((p) => nameMatches(p, rec.name))) return false;
  if (f.id && !f.id.some((p) => rec.id.startsWith(p))) return false;
  if (f.ancestor && !f.ancestor.some((a) => ancestorMatches(a, rec))) return false;
  // pod= holds pod ids: the CLI resolved names first (ps.ts).
  if (f.pod && !f.pod.some((p) => rec.pod !== undefined && rec.pod.startsWith(p))) return false;
  if (f.exited && !(c.state.Status === "exited" && f.exited.some((v) => Number(v) === c.state.ExitCode))) return false;
  if (f.label) {
    for (const l of f.label) {
      const i = l.indexOf("=");
      const ok = i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1);
      if (!ok) return false;
    }
  }
  return true;
}

export interface PsOptions {
  all: boolean;
  /** -n: the last N created (any state); -l is 1. */
  last?: number;
  filters: ContainerFilters;
}

/** Which containers `ps` lists, newest first. */
export function selectContainers(all: LiveContainer[], o: PsOptions): LiveContainer[] {
  let list = [...all].sort((a, b) => Date.parse(b.record.created) - Date.parse(a.record.created) || a.record.id.localeCompare(b.record.id));
  const showAll = o.all || (o.last !== undefined && o.last > 0) || o.filters.status !== undefined || o.filters.exited !== undefined;
  if (!showAll) list = list.filter((c) => c.state.Status === "running" || c.state.Status === "paused" || c.state.Status === "restarting");
  list = list.filter((c) => matchesFilters(c, o.filters));
  return o.last !== undefined && o.last > 0 ? list.slice(0, o.last) : list;
}
