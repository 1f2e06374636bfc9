// `ps --filter` as Docker's daemon judges it (daemon/list.go): which keys exist, how each value is
// checked, and the order the checks run in (before/since walk the list newest first, then the
// running-only default, then name, id, label, exited, status, health, volume, ancestor, network,
// publish/expose). Values of one key are OR'd, keys AND'd, except label, whose values must all hold.
// Pure: ps.ts passes the containers, and the image ids an ancestor= names when one is given.
import { InvalidArgumentError, NotFoundError } from "../../errors.ts";
import type { LiveContainer as Live } from "../../lifecycle/live.ts";
import { ZERO_TIME } from "../../lifecycle/state.ts";
import { normalizePort } from "../../lifecycle/inspect.ts";
import { matchContainer, type ContainerStatus, type ListedRecord } from "../../store/containers.ts";

/** ps reads only the listed part of each record. */
type LiveContainer = Live<ListedRecord>;
import { containerPorts } from "./containers.ts";
import { boolFilter, matchAny, matchLabels, parseFilterArgs, portFilterSet, validateFilterKeys, type FilterArgs } from "../filters.ts";

export const PS_FILTER_KEYS = [
  "ancestor",
  "before",
  "exited",
  "expose",
  "health",
  "id",
  "is-task",
  "isolation",
  "label",
  "name",
  "network",
  "pod",
  "publish",
  "since",
  "status",
  "volume",
] as const;

const STATUSES: readonly ContainerStatus[] = ["created", "restarting", "running", "removing", "paused", "exited", "dead"];
const HEALTHS = ["starting", "healthy", "unhealthy", "none"];

/** The filters of one `ps`, checked and with their values read. */
export interface ContainerFilters {
  args: FilterArgs;
  exited?: number[];
  publish?: Set<string>;
  expose?: Set<string>;
  isTask?: boolean;
  /** pod=: pod ids (the CLI resolves names first: ps.ts). */
  pod?: string[];
}

/** health=starting|healthy|unhealthy|none: State.Health's status, "none" without a check. */
export function healthMatches(c: Pick<LiveContainer, "health">, values: readonly string[]): boolean {
  return values.includes(c.health ?? "none");
}

/** `--filter` specs → the checked filters, with Docker's errors for bad keys and values. */
export function parseFilters(specs: readonly string[]): ContainerFilters {
  const args = parseFilterArgs(specs);
  validateFilterKeys(args, PS_FILTER_KEYS);
  const out: ContainerFilters = { args };
  const exited = args.get("exited");
  if (exited) {
    out.exited = exited.map((v) => {
      if (!/^[-+]?\d+$/.test(v)) throw new InvalidArgumentError(`strconv.Atoi: parsing "${v}": invalid syntax`);
      return Number(v);
    });
  }
  for (const v of args.get("status") ?? []) {
    if (!STATUSES.includes(v as ContainerStatus)) throw new InvalidArgumentError(`invalid filter 'status=${v}'`);
  }
  for (const v of args.get("health") ?? []) {
    if (!HEALTHS.includes(v)) throw new InvalidArgumentError(`Unrecognised filter value for health: ${v}`);
  }
  const pod = args.get("pod");
  if (pod) out.pod = [...pod];
  const isTask = boolFilter(args, "is-task");
  if (isTask !== undefined) out.isTask = isTask;
  const publish = args.get("publish");
  if (publish) out.publish = portFilterSet("publish", publish);
  const expose = args.get("expose");
  if (expose) out.expose = portFilterSet("expose", expose);
  return out;
}

export const NO_FILTERS: ContainerFilters = { args: new Map() };

export interface PsOptions {
  all: boolean;
  /** -n: the last N created (any state); -l is 1. */
  last?: number;
  filters: ContainerFilters;
  /** ancestor=: the ids of the images named and of the images built on them. */
  ancestorImages?: ReadonlySet<string>;
  /** The ports a container exposes without publishing them (its image's EXPOSE), "80/tcp". */
  exposedPorts?: (c: LiveContainer) => readonly string[];
}

const labelsOf = (c: LiveContainer) => c.record.labels ?? c.record.config?.Labels ?? {};

/** The container an id, id prefix or name (with or without "/") names, for before=/since=. */
function pivot(all: LiveContainer[], ref: string): string {
  const hit = matchContainer(
    all.map((c) => c.record),
    ref,
  );
  if (!hit) throw new NotFoundError(`No such container: ${ref}`);
  return hit.id;
}

/** The ids id= values name: a full id, or a prefix of exactly one container's id. */
function idMatches(all: LiveContainer[], values: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const v of values) {
    if (v === "") continue;
    const hits = all.filter((c) => c.record.id.startsWith(v));
    const exact = hits.find((c) => c.record.id === v);
    if (exact) out.add(exact.record.id);
    else if (hits.length === 1) out.add(hits[0]!.record.id);
  }
  return out;
}

function volumeMatches(c: LiveContainer, values: readonly string[]): boolean {
  const mounts = c.record.mounts ?? [];
  return values.some((v) => mounts.some((m) => m.Destination === v || (m.Name ? m.Name === v : m.Source === v)));
}

function networkMatches(c: LiveContainer, values: readonly string[]): boolean {
  const net = c.record.network;
  if (!net || net.mode.startsWith("container:")) return false;
  const eps = [net.endpoint, ...(net.extraEndpoints ?? [])].filter((e) => e !== undefined);
  if (eps.length === 0) return values.includes(net.mode);
  return values.some((v) => eps.some((e) => e.networkName === v || (v !== "" && e.networkId.startsWith(v))));
}

function portMatches(c: LiveContainer, f: ContainerFilters, exposed: readonly string[]): boolean {
  for (const p of containerPorts(c, exposed)) {
    const b = normalizePort(p);
    if (!b) continue;
    if (b.hostPort && f.publish?.has(`${b.hostPort}/${b.protocol}`)) return true;
    if (f.expose?.has(`${b.containerPort}/${b.protocol}`)) return true;
  }
  return false;
}

/** Docker's Running: true while paused or restarting too. */
const isRunning = (c: LiveContainer) => c.state.Status === "running" || c.state.Status === "paused" || c.state.Status === "restarting";

/** One container against every filter but before/since (which depend on its place in the list). */
export function matchesFilters(c: LiveContainer, f: ContainerFilters, o: Pick<PsOptions, "ancestorImages" | "exposedPorts"> = {}): boolean {
  const a = f.args;
  const rec = c.record;
  const names = a.get("name");
  if (names && !matchAny(names, `/${rec.name}`) && !matchAny(names, rec.name)) return false;
  if (f.isTask === true) return false; // no container here is a swarm task
  const isolation = a.get("isolation");
  if (isolation && !isolation.includes("default")) return false;
  if (!matchLabels(a.get("label") ?? [], labelsOf(c))) return false;
  if (f.exited) {
    const started = c.state.StartedAt !== "" && c.state.StartedAt !== ZERO_TIME;
    if (isRunning(c) || !started || !f.exited.includes(c.state.ExitCode)) return false;
  }
  const status = a.get("status");
  if (status && !status.includes(c.state.Status)) return false;
  if (f.pod && !f.pod.some((p) => rec.pod !== undefined && rec.pod.startsWith(p))) return false;
  const health = a.get("health");
  if (health && !healthMatches(c, health)) return false;
  const volume = a.get("volume");
  if (volume && !volumeMatches(c, volume)) return false;
  if (a.has("ancestor") && !o.ancestorImages?.has(rec.imageId)) return false;
  const network = a.get("network");
  if (network && !networkMatches(c, network)) return false;
  if ((f.publish || f.expose) && !portMatches(c, f, f.expose ? (o.exposedPorts?.(c) ?? []) : [])) return false;
  return true;
}

/** Which containers `ps` lists, newest first. */
export function selectContainers(all: LiveContainer[], o: PsOptions): LiveContainer[] {
  const f = o.filters;
  const a = f.args;
  // Each creation time parsed once, not once per comparison.
  const list = all
    .map((c) => ({ c, t: Date.parse(c.record.created) }))
    .sort((x, y) => y.t - x.t || x.c.record.id.localeCompare(y.c.record.id))
    .map((x) => x.c);
  // Docker keeps the last before= and since= given.
  const before = a.get("before")?.map((v) => pivot(all, v)).at(-1);
  const since = a.get("since")?.map((v) => pivot(all, v)).at(-1);
  const ids = a.has("id") ? idMatches(all, a.get("id")!) : undefined;
  const limit = o.last !== undefined && o.last > 0 ? o.last : 0;
  const showAll = o.all || limit > 0 || a.has("status");
  // Every ContainerFilters field comes from a key of args: none given, none to check.
  const filtered = a.size > 0;
  const out: LiveContainer[] = [];
  let seenBefore = before === undefined;
  for (const c of list) {
    if (!seenBefore) {
      if (c.record.id === before) seenBefore = true;
      continue;
    }
    if (since !== undefined && c.record.id === since) break;
    if (!showAll && !isRunning(c)) continue;
    if (ids && !ids.has(c.record.id)) continue;
    if (limit > 0 && out.length === limit) break;
    if (!filtered || matchesFilters(c, f, o)) out.push(c);
  }
  return out;
}
