// Container directories under the root: containers/<id>/ holds the state file, the generated
// /etc files, and the overlay's upper and work dirs. Every name carries the id.
import fs from "node:fs";
import path from "node:path";
import { NotFoundError, AlreadyExistsError, FailedPreconditionError, errnoCode } from "../errors.ts";
import { dirNames, writeFileAtomic } from "../atomic.ts";
import type { NetworkOptions, NetworkSettingsRecord } from "./network-record.ts";
import type { ProbeRecord } from "./probe-record.ts";
import { randomHex, randomIndex } from "../random.ts";
import type { Ctx } from "../context.ts";
import { acquireLock, withLock, type Lock } from "./lock.ts";

export type ContainerStatus = "created" | "running" | "paused" | "restarting" | "exited" | "dead" | "removing";

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
  error?: string;
}

export interface ContainerRecord {
  id: string;
  name: string;
  /** What the user asked for ("busybox") and what it resolved to. */
  image: string;
  imageId: string;
  created: string;
  args: string[];
  hostname: string;
  state: ContainerState;
  // Optional: records written by older versions lack them, so readers treat each as possibly absent.
  labels?: Record<string, string>;
  autoRemove?: boolean;
  restartPolicy?: { name: "no" | "always" | "on-failure" | "unless-stopped"; maximumRetryCount: number; backoff?: "docker" | "kubelet" };
  logConfig?: { maxSize: number; maxFile: number };
  /** Docker-shaped Config: Env, Cmd, Entrypoint, WorkingDir, User, Image, Labels, StopSignal, … */
  config?: Record<string, unknown> & { StopSignal?: string; Labels?: Record<string, string>; Cmd?: string[]; Entrypoint?: string[] | null; Tty?: boolean };
  hostConfig?: Record<string, unknown>;
  /** The published ports (PortBinding[]): port, ps and inspect show them; teardown unpublishes them. */
  ports?: Record<string, unknown>[];
  mounts?: Record<string, unknown>[];
  /** The container's cgroup directories (stats, pause, kill, cleanup). */
  cgroupPath?: string[];
  /** What attachNetwork set up (mode, netns file, endpoint): detachNetwork undoes it. */
  network?: NetworkSettingsRecord;
  /** run's network flags, for `start` to attach again after a cleanup detached the network. */
  networkOptions?: NetworkOptions;
  /** The id of the pod the container belongs to (src/pod/). */
  pod?: string;
  /** Kubernetes probes (play kube), run by the monitor. */
  probes?: ProbeRecord[];
  /** play kube: env variables the downward API filled from the running pod (name → fieldPath). */
  fieldRefs?: Record<string, string>;
}

/** The label of a pod's infra container (src/pod/infra.ts): it goes only with its pod. */
export const INFRA_LABEL = "io.tinydock.pod.infra";

export function isInfraContainer(rec: Pick<ContainerRecord, "pod" | "labels">): boolean {
  return rec.pod !== undefined && rec.labels?.[INFRA_LABEL] === "true";
}

export interface ContainerPaths {
  dir: string;
  state: string;
  upper: string;
  work: string;
  rootfs: string;
  hostname: string;
  hosts: string;
  resolvConf: string;
}

/** A container directory in the making (locked, renamed to the id when ready); see lifecycle/run/prepare.ts. */
export const CREATING_PREFIX = ".creating-";

export function containersDir(root: string): string {
  return path.join(root, "containers");
}

const ID = /^[a-f0-9]{64}$/;

/** containers/<id> of a checked id. The names below it are joined by hand: path.join is normalized
 * already here, and `ps` asks this for every container. */
function containerDir(root: string, id: string): string {
  if (!ID.test(id)) throw new NotFoundError(`No such container: ${id}`);
  return `${containersDir(root)}/${id}`;
}

export function containerPaths(root: string, id: string): ContainerPaths {
  const dir = containerDir(root, id);
  return {
    dir,
    state: `${dir}/state.json`,
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    rootfs: `${dir}/rootfs`,
    hostname: `${dir}/hostname`,
    hosts: `${dir}/hosts`,
    resolvConf: `${dir}/resolv.conf`,
  };
}

export function newContainerId(): string {
  return randomHex(32);
}

const ADJECTIVES = [
  "admiring", "agitated", "amazing", "awesome", "blissful", "bold", "brave", "busy", "calm", "charming", "clever", "cool", "dazzling",
  "determined", "eager", "ecstatic", "elegant", "epic", "fancy", "focused", "friendly", "gallant", "gentle", "gifted", "happy", "hopeful",
  "inspiring", "jolly", "keen", "kind", "laughing", "lucid", "magical", "merry", "modest", "nifty", "nostalgic", "optimistic", "peaceful",
  "practical", "proud", "quirky", "relaxed", "serene", "sharp", "silly", "stoic", "tender", "trusting", "upbeat", "vibrant", "vivid",
  "wizardly", "witty", "youthful", "zealous", "zen",
];
const NOUNS = [
  "agnesi", "allen", "babbage", "bardeen", "bell", "boole", "borg", "brattain", "cerf", "curie", "darwin", "dijkstra", "einstein",
  "euler", "faraday", "fermat", "feynman", "franklin", "galileo", "gauss", "goldberg", "hamilton", "hawking", "hertz", "hodgkin",
  "hopper", "hypatia", "johnson", "kepler", "knuth", "lamarr", "lamport", "liskov", "lovelace", "maxwell", "mcclintock", "meitner",
  "morse", "newton", "noether", "pascal", "pasteur", "perlman", "poincare", "ritchie", "sammet", "shannon", "thompson", "torvalds",
  "turing", "wilson", "wozniak", "yalow",
];

/** Docker-style adjective_scientist, none of `taken`; after 20 tries a digit is appended, as Docker does. */
export function randomName(taken: ReadonlySet<string> = new Set()): string {
  const pick = <T>(a: T[]) => a[randomIndex(a.length)]!;
  let name = `${pick(ADJECTIVES)}_${pick(NOUNS)}`;
  for (let i = 0; taken.has(name); i++) name = i < 20 ? `${pick(ADJECTIVES)}_${pick(NOUNS)}` : `${name}${randomIndex(10)}`;
  return name;
}

/** Every container's record: one readdir and one read of each state.json, nothing else. */
export function listContainers(root: string): ContainerRecord[] {
  return eachState(root, fullRecord);
}

/** What a listing (`ps`) reads of every container: the first line of each state.json. */
export function listListed(root: string): ListedRecord[] {
  return eachState(root, listedRecord);
}

/** Every container's id and name, read from the start of each state.json without parsing it. */
export function containerNames(root: string): { id: string; name: string }[] {
  return eachState(root, (text) => {
    const m = NAMED.exec(text);
    if (m && complete(text)) return { id: m[1]!, name: m[2]! };
    const rec = fullRecord(text);
    return rec && { id: rec.id, name: rec.name };
  });
}

/**
 * The names in use, for a generated name to avoid: each state.json's start only (its first 256
 * bytes hold id and name). A record cut short still counts: a name avoided too many costs nothing.
 */
export function namesInUse(root: string): Set<string> {
  const head = Buffer.allocUnsafe(256);
  return new Set(eachStateFile(root, (file) => {
    const fd = openState(file);
    if (fd === undefined) return undefined;
    let n: number;
    try {
      n = fs.readSync(fd, head, 0, head.length, 0);
    } finally {
      fs.closeSync(fd);
    }
    const m = NAMED.exec(head.toString("latin1", 0, n));
    return m ? m[2] : fullRecord(readText(file) ?? "")?.name;
  }));
}

function openState(file: string): number | undefined {
  try {
    return fs.openSync(file, "r");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

function eachState<T>(root: string, parse: (text: string) => T | undefined): T[] {
  return eachStateFile(root, (file) => {
    const text = readText(file);
    return text === undefined ? undefined : parse(text);
  });
}

/** read(state.json) of every container directory, what it gives kept. */
function eachStateFile<T>(root: string, read: (file: string) => T | undefined): T[] {
  const dir = containersDir(root);
  const names = dirNames(dir);
  const out: T[] = [];
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (!ID.test(n)) continue;
    const rec = read(`${dir}/${n}/state.json`);
    if (rec != null) out.push(rec); // a state.json of "null" is no container either
  }
  return out;
}

/** Record fields a listing never reads: state.json keeps them after its first line. */
const UNLISTED = new Set(["hostConfig", "networkOptions", "logConfig", "restartPolicy", "hostname", "autoRemove"] as const);
type Unlisted = typeof UNLISTED extends Set<infer K> ? K : never;
/** A record as `ps` reads it: everything but the UNLISTED fields. */
export type ListedRecord = Omit<ContainerRecord, Unlisted>;

/**
 * state.json's text: one JSON object whose first line holds id, name and the other listed fields,
 * compact, and whose following lines hold the UNLISTED ones, pretty. A listing parses the first line
 * only (hostConfig is most of a record), a name lookup matches its start; both in the one file that
 * the atomic rename replaces whole, so no index can go stale.
 */
export function recordJson(rec: object): string {
  const r = rec as Record<string, unknown>;
  const head: Record<string, unknown> = { id: r.id, name: r.name };
  const tail: Record<string, unknown> = {};
  for (const k of Object.keys(r)) if (k !== "id" && k !== "name") (UNLISTED.has(k as Unlisted) ? tail : head)[k] = r[k];
  const line = JSON.stringify(head);
  const rest = JSON.stringify(tail, null, 2);
  if (rest === "{}") return `${line}\n`;
  if (line === "{}") return `${rest}\n`;
  return `${line.slice(0, -1)},${rest.slice(1)}\n`;
}

/** The start recordJson writes; a name has no character JSON escapes (checkNameFree). */
const NAMED = /^\{"id":"([a-f0-9]{64})","name":"([a-zA-Z0-9][a-zA-Z0-9_.-]*)"[,}]/;

/** Whether a text in recordJson's shape is whole: its last line closes the object (a lost write leaves it short). */
function complete(text: string): boolean {
  const nl = text.indexOf("\n");
  return nl === text.length - 1 ? text.charCodeAt(nl - 1) === 125 : text.endsWith("\n}\n");
}

function listedRecord(text: string): ListedRecord | undefined {
  const nl = text.indexOf("\n");
  // A first line ending with "," is recordJson's: the rest holds only UNLISTED fields. Any other
  // shape (a record written before, by hand, or cut short) is parsed whole.
  if (nl > 0 && text.charCodeAt(nl - 1) === 44 && complete(text)) {
    try {
      return JSON.parse(`${text.slice(0, nl - 1)}}`) as ListedRecord;
    } catch {} // not recordJson's after all: parsed whole below
  }
  return fullRecord(text);
}

function fullRecord(text: string): ContainerRecord | undefined {
  try {
    return JSON.parse(text) as ContainerRecord;
  } catch (err) {
    // A state file cut short by a crash mid-create is not a container yet.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

/** `durable: false` (a foreground run's record while it runs): no fsync, see writeFileAtomic. */
export function saveContainer(root: string, rec: ContainerRecord, durable = true): void {
  writeFileAtomic(containerPaths(root, rec.id).state, recordJson(rec), 0o600, durable);
}

/** Names are unique: a second container with a taken name is refused, as Docker does. */
export function checkNameFree(root: string, name: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    throw new FailedPreconditionError(`Invalid container name "${name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const other = containerNames(root).find((c) => c.name === name);
  if (other) {
    throw new AlreadyExistsError(
      `Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  }
}

// ── Finding, reading and locking existing containers ─────────────────────────────────────────────

/** Files of a container directory the commands read and write besides ContainerPaths. */
export function containerFiles(root: string, id: string) {
  const dir = containerDir(root, id);
  return {
    dir,
    run: `${dir}/run.json`,
    lock: `${dir}/lock`,
    stopping: `${dir}/stopping`,
    removing: `${dir}/removing`,
    /** Held shared by each `wait` until it has read the exit code; removal drains it first. */
    waiters: `${dir}/waiters.lock`,
    log: `${dir}/${id}-json.log`,
  };
}

/** One container's record, or undefined when it is gone (removed while we looked). */
export function readContainer(root: string, id: string): ContainerRecord | undefined {
  const text = readText(`${containerDir(root, id)}/state.json`);
  return text === undefined ? undefined : fullRecord(text);
}

/** Every container id with a directory, state file or not (orphans included). */
export function containerIds(root: string): string[] {
  return dirNames(containersDir(root)).filter((n) => ID.test(n));
}

/**
 * A container by full id, name (with or without the leading "/") or unique id prefix, in Docker's
 * order. Docker's errors: "No such container: x", "Multiple IDs found with provided prefix: x".
 */
export function findContainer(root: string, ref: string): ContainerRecord {
  // A full id comes first in Docker's order, and names its directory: no need to read the others.
  const byId = ID.test(ref) ? readContainer(root, ref) : undefined;
  if (byId) return byId;
  // By name or prefix: the names are read without parsing the records, then the one picked is.
  const pick = matchContainer(containerNames(root), ref);
  const rec = pick && readContainer(root, pick.id);
  if (!rec) throw new NotFoundError(`No such container: ${ref}`);
  return rec;
}

/** The pure part of findContainer. */
export function matchContainer<T extends { id: string; name: string }>(all: T[], ref: string): T | undefined {
  if (ref === "") return undefined;
  const byId = all.find((c) => c.id === ref);
  if (byId) return byId;
  const name = ref.startsWith("/") ? ref.slice(1) : ref;
  const byName = all.find((c) => c.name === name);
  if (byName) return byName;
  if (!/^[a-f0-9]+$/.test(ref)) return undefined;
  const prefixed = all.filter((c) => c.id.startsWith(ref));
  if (prefixed.length > 1) throw new FailedPreconditionError(`Multiple IDs found with provided prefix: ${ref}`);
  return prefixed[0];
}

/**
 * The container's lock (flock on containers/<id>/lock), held by whatever changes it: start, stop,
 * rm, cleanup. Throws NotFound when the container was removed while we waited for it.
 */
export async function lockContainer(ctx: Ctx, id: string, timeoutMs = 60_000): Promise<Lock> {
  const files = containerFiles(ctx.root, id);
  let lock: Lock;
  try {
    lock = await acquireLock({ sys: ctx.sys, sleep: ctx.sleep }, files.lock, { timeoutMs });
  } catch (err) {
    if (errnoCode(err) === "ENOENT") throw new NotFoundError(`No such container: ${id}`);
    throw err;
  }
  // A removal that held the lock before us has unlinked the directory: our lock is on a ghost.
  if (!fs.existsSync(containerPaths(ctx.root, id).state) && !fs.existsSync(files.removing)) {
    lock.release();
    throw new NotFoundError(`No such container: ${id}`);
  }
  return lock;
}

export async function withContainerLock<T>(ctx: Ctx, id: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = await lockContainer(ctx, id);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Names are a namespace shared by every container: renames and creates take this lock. */
export async function withNamesLock<T>(ctx: Ctx, fn: () => T | Promise<T>): Promise<T> {
  fs.mkdirSync(containersDir(ctx.root), { recursive: true, mode: 0o700 });
  return withLock({ sys: ctx.sys, sleep: ctx.sleep }, path.join(containersDir(ctx.root), ".names.lock"), fn);
}
