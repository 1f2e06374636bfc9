// What `ps` shows, in Docker's field names (its filters: container-filters.ts). Pure given the live containers and
// the time, so the unit tests pin Docker's strings.
import type { LiveContainer as Live } from "../../lifecycle/live.ts";
import { normalizePort } from "../../lifecycle/inspect.ts";
import type { ContainerStatus, ListedRecord } from "../../store/containers.ts";
import { ZERO_TIME, type LiveState } from "../../lifecycle/state.ts";
import { goTime, humanDuration } from "../format.ts";

export { goTime };

/** ps reads only the listed part of each record. */
type LiveContainer = Live<ListedRecord>;
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

/** container.State.String() of Docker, with the health of a running container: "Up 1 minute (healthy)". */
export function statusText(s: LiveState, now: number, health: string = "none"): string {
  const text = stateText(s, now);
  if (s.Status !== "running" || health === "none") return text;
  return `${text} (${health === "starting" ? "health: starting" : health})`;
}

function stateText(s: LiveState, now: number): string {
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
  if (s.length <= n) return s; // no more code points than UTF-16 units
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join("")}…`;
}

/**
 * Docker's PORTS text (cli formatter DisplayablePorts): sorted by container port, address, host
 * port, protocol; unpublished ports (and those published on the same port) grouped into ranges
 * by protocol and address ("8000-8001/tcp"), first; then each other mapping ("0.0.0.0:8080->80/tcp").
 */
export function portsText(ports: Record<string, unknown>[] | undefined): string {
  if (!ports?.length) return "";
  const list = (ports ?? [])
    .map(normalizePort)
    .filter((b) => b !== undefined)
    // A binding on all addresses is recorded with hostIp ""; Docker prints 0.0.0.0.
    .map((b) => ({ ip: b.hostPort ? b.hostIp || "0.0.0.0" : "", pub: b.hostPort, priv: b.containerPort, type: b.protocol }))
    .sort((a, b) => a.priv - b.priv || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0) || a.pub - b.pub || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  const host = (ip: string) => (ip.includes(":") ? `[${ip}]` : ip);
  const groups = new Map<string, { ip: string; type: string; first: number; last: number }>();
  const result: string[] = [];
  const mappings: string[] = [];
  const form = (g: { ip: string; type: string; first: number; last: number }) => {
    const range = g.first === g.last ? `${g.first}` : `${g.first}-${g.last}`;
    return `${g.ip ? `${host(g.ip)}:${range}->` : ""}${range}/${g.type}`;
  };
  for (const p of list) {
    if (p.ip !== "" && p.pub !== p.priv) {
      mappings.push(`${host(p.ip)}:${p.pub}->${p.priv}/${p.type}`);
      continue;
    }
    const key = p.ip ? `${p.ip}/${p.type}` : p.type;
    const g = groups.get(key);
    if (!g) groups.set(key, { ip: p.ip, type: p.type, first: p.priv, last: p.priv });
    else if (p.priv === g.last + 1) g.last = p.priv;
    else {
      result.push(form(g));
      groups.set(key, { ip: p.ip, type: p.type, first: p.priv, last: p.priv });
    }
  }
  for (const g of groups.values()) result.push(form(g));
  return [...result, ...mappings].join(", ");
}

export interface RowOptions {
  noTrunc: boolean;
  now: number;
  command: (rec: ListedRecord) => string;
  /** The image's EXPOSE ports ("80/tcp"): a running container lists those not published too. */
  exposedPorts?: (rec: ListedRecord) => readonly string[];
  /** Whether the container's image was deleted since (`rmi -f`): IMAGE is then its id, as Docker's. */
  imageGone?: (rec: ListedRecord) => boolean;
}

/**
 * Docker's Ports of a container (NetworkSettings.Ports): while it runs on a bridge or user network,
 * its bindings, then the image's exposed ports that have none; nothing once stopped, nor on the
 * host's network or none.
 */
export function containerPorts(c: LiveContainer, exposed: readonly string[]): Record<string, unknown>[] {
  if (!c.state.Running || !c.record.network?.endpoint) return [];
  const ports: Record<string, unknown>[] = [...(c.record.ports ?? [])];
  const bound = new Set(ports.map((p) => normalizePort(p)).map((b) => b && `${b.containerPort}/${b.protocol}`));
  for (const e of exposed) {
    const m = /^(\d+)(?:\/(\w+))?$/.exec(e);
    if (!m) continue;
    const key = `${m[1]}/${m[2] ?? "tcp"}`;
    if (!bound.has(key)) ports.push({ containerPort: Number(m[1]), protocol: m[2] ?? "tcp" });
    bound.add(key);
  }
  return ports;
}

/** ps's default table, one line's cells: CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES, as containerRow's. */
export function tableCells(c: LiveContainer, o: RowOptions): string[] {
  const rec = c.record;
  return [idCell(rec, o), imageCell(rec, o), commandCell(rec, o), createdCell(rec, o), statusText(c.state, o.now, c.health), portsCell(c, o), rec.name];
}

const idCell = (rec: ListedRecord, o: RowOptions) => (o.noTrunc ? rec.id : rec.id.slice(0, 12));
const imageCell = (rec: ListedRecord, o: RowOptions) => (!o.imageGone?.(rec) ? rec.image : o.noTrunc ? rec.imageId : rec.imageId.slice(7, 19));
const createdCell = (rec: ListedRecord, o: RowOptions) => `${since(rec.created, o.now)} ago`;

function commandCell(rec: ListedRecord, o: RowOptions): string {
  const cmd = o.command(rec);
  return JSON.stringify(o.noTrunc ? cmd : ellipsis(cmd, 20));
}

/** Only a container that can show ports (containerPorts) has its image's exposed ports looked up. */
function portsCell(c: LiveContainer, o: RowOptions): string {
  if (!c.state.Running || !c.record.network?.endpoint) return "";
  return portsText(containerPorts(c, o.exposedPorts?.(c.record) ?? []));
}

export function containerRow(c: LiveContainer, o: RowOptions): ContainerRow {
  const rec = c.record;
  const labels = rec.labels ?? rec.config?.Labels ?? {};
  // The fields `ps`'s default table leaves out are getters: enumerable, so JSON, templates and
  // spreads see them as before, but a plain listing of many containers never computes them.
  return {
    Command: commandCell(rec, o),
    get CreatedAt() {
      return goTime(rec.created);
    },
    ID: idCell(rec, o),
    Image: imageCell(rec, o),
    get Labels() {
      return Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    },
    get LocalVolumes() {
      return String((rec.mounts ?? []).filter((m) => m.Type === "volume").length);
    },
    get Mounts() {
      return (rec.mounts ?? []).map((m) => String(m.Name ?? m.Source ?? "")).join(",");
    },
    Names: rec.name,
    get Networks() {
      return networkNamesOf(rec.network).join(",");
    },
    Ports: portsCell(c, o),
    RunningFor: createdCell(rec, o),
    Size: "N/A",
    State: c.state.Status,
    Status: statusText(c.state, o.now, c.health),
  };
}
