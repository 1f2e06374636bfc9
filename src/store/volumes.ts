// Local volumes, as Docker's local driver keeps them: volumes/<name>/_data holds the files and
// volumes/<name>/volume.json what `volume inspect` shows (created time, labels, options, whether
// anonymous). A volume comes into being whole: it is built under a dot name and renamed into place,
// so a listing never sees one without its record, and two creators of one name agree on the winner.
import fs from "node:fs";
import path from "node:path";
import { dirNames, readJson, writeFileAtomic } from "../atomic.ts";
import { FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError, errnoCode } from "../errors.ts";
import { randomHex } from "../random.ts";
import { listContainers, type ContainerRecord } from "./containers.ts";

/** Docker's local volume names; a name starting with "/" or "." is a bind mount instead. */
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export interface VolumeMeta {
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  /** Made by `-v /path` or an image VOLUME rather than by name: `volume prune` takes only these. */
  Anonymous: boolean;
  /** The container whose run made it: in use from before that run records its mounts. */
  CreatedBy?: string;
}

export interface Volume extends VolumeMeta {
  Name: string;
  Mountpoint: string;
}

export function volumesDir(root: string): string {
  return path.join(root, "volumes");
}

export function volumeDir(root: string, name: string): string {
  return path.join(volumesDir(root), name, "_data");
}

const metaFile = (dir: string) => path.join(dir, "volume.json");

/** Go's RFC 3339 without fractions, as Docker prints CreatedAt. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

/** The longest name a directory of <root>/volumes can have (NAME_MAX). */
const MAX_VOLUME_NAME = 255;

/** A local volume's name: one directory name below <root>/volumes, never ".", "..", nor a path. */
export function isVolumeName(name: string): boolean {
  return VOLUME_NAME_RE.test(name) && name.length <= MAX_VOLUME_NAME;
}

export function checkVolumeName(name: string): void {
  if (VOLUME_NAME_RE.test(name) && !isVolumeName(name)) throw new InvalidArgumentError(`Cannot create volume "${name}": name too long (at most ${MAX_VOLUME_NAME} characters)`);
  if (!VOLUME_NAME_RE.test(name)) {
    throw new InvalidArgumentError(
      `Cannot create volume "${name}": includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

/** A volume's record; one made before records existed gets its directory's time and a guess. */
export function readVolume(root: string, name: string): Volume | undefined {
  if (!isVolumeName(name)) return undefined;
  const dir = path.join(volumesDir(root), name);
  let meta: Partial<VolumeMeta> | undefined;
  try {
    meta = readJson<VolumeMeta>(metaFile(dir));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  if (!meta) {
    const st = fs.statSync(path.join(dir, "_data"), { throwIfNoEntry: false });
    if (!st) return undefined;
    meta = { CreatedAt: rfc3339(st.mtimeMs), Anonymous: /^[a-f0-9]{64}$/.test(name) };
  }
  return {
    CreatedAt: meta.CreatedAt ?? "",
    Labels: meta.Labels ?? {},
    Options: meta.Options ?? {},
    Anonymous: meta.Anonymous === true,
    ...(meta.CreatedBy ? { CreatedBy: meta.CreatedBy } : {}),
    Name: name,
    Mountpoint: path.join(dir, "_data"),
  };
}

export function listVolumes(root: string): Volume[] {
  const names = dirNames(volumesDir(root));
  const out: Volume[] = [];
  for (const n of names.sort()) {
    if (n.startsWith(".")) continue;
    const v = readVolume(root, n);
    if (v) out.push(v);
  }
  return out;
}

export function getVolume(root: string, name: string): Volume {
  const v = readVolume(root, name);
  if (!v) throw new NotFoundError(`No such volume: ${name}`);
  return v;
}

export interface CreateVolumeOptions {
  labels?: Record<string, string>;
  options?: Record<string, string>;
  anonymous?: boolean;
  /** The container being set up that asked for it. */
  createdBy?: string;
  /** Fills the new _data directory before the volume appears (a run seeds it from the image). */
  fill?: (data: string) => void;
  now?: number;
}

/**
 * The local driver's options (`volume create --opt`, `--mount volume-opt=`), Docker's refusals:
 * type/device/o mount a filesystem at each use (lifecycle/volumes.ts); a size quota it cannot
 * honour here is refused rather than ignored.
 */
export function checkLocalOptions(name: string | undefined, options: Record<string, string>): void {
  for (const k of Object.keys(options)) {
    if (!["type", "device", "o", "size"].includes(k)) throw new InvalidArgumentError(`Cannot create volume "${name ?? ""}": invalid option key: "${k}"`);
  }
  if (options.size !== undefined) throw new FailedPreconditionError(`Cannot create volume "${name ?? ""}": quota size requested but no quota support`);
  for (const [opt, needs] of [["device", ["type"]], ["type", ["device"]], ["o", ["device", "type"]]] as const) {
    const missing = opt in options ? needs.find((n) => !(n in options)) : undefined;
    if (missing) throw new InvalidArgumentError(`Cannot create volume "${name ?? ""}": missing required option: "${missing}"`);
  }
}

/**
 * Creates `name` (a random 64-hex name when undefined) or, when it exists, returns it untouched as
 * Docker does; `created` says which. Atomic: built under volumes/.new-*, renamed into place.
 */
export function createVolume(root: string, name: string | undefined, opts: CreateVolumeOptions = {}): { volume: Volume; created: boolean } {
  const wanted = name ?? randomHex(32);
  checkVolumeName(wanted);
  const existing = readVolume(root, wanted);
  if (existing) return { volume: existing, created: false };
  const parent = volumesDir(root);
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  fs.chmodSync(parent, 0o700);
  const tmp = path.join(parent, `.new-${randomHex(8)}`);
  fs.mkdirSync(tmp, { mode: 0o755 });
  try {
    fs.mkdirSync(path.join(tmp, "_data"), { mode: 0o755 });
    opts.fill?.(path.join(tmp, "_data"));
    const meta: VolumeMeta = {
      CreatedAt: rfc3339(opts.now ?? Date.now()),
      // Go maps in Docker's API: keys in order, as its JSON and templates print them.
      Labels: sortedKeys(opts.labels ?? {}),
      Options: sortedKeys(opts.options ?? {}),
      Anonymous: opts.anonymous ?? name === undefined,
      ...(opts.createdBy ? { CreatedBy: opts.createdBy } : {}),
    };
    writeFileAtomic(metaFile(tmp), `${JSON.stringify(meta, null, 2)}\n`);
    try {
      fs.renameSync(tmp, path.join(parent, wanted));
    } catch (err) {
      const code = errnoCode(err);
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      // Another process made it first: theirs is the volume.
      const theirs = readVolume(root, wanted);
      if (!theirs) throw err;
      return { volume: theirs, created: false };
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { volume: readVolume(root, wanted)!, created: true };
}

/**
 * Volume name → ids of the containers (any state) whose mounts name it, and of a container still
 * being set up that made it (its mounts are recorded only once its volumes exist).
 */
export function volumeUsers(containers: ContainerRecord[], volumes: Volume[] = []): Map<string, string[]> {
  const users = new Map<string, string[]>();
  const known = new Set(containers.map((c) => c.id));
  for (const v of volumes) if (v.CreatedBy && known.has(v.CreatedBy)) users.set(v.Name, [v.CreatedBy]);
  for (const c of containers) {
    for (const m of c.mounts ?? []) {
      if (m.Type !== "volume" || typeof m.Name !== "string") continue;
      const ids = users.get(m.Name) ?? [];
      if (!ids.includes(c.id)) ids.push(c.id);
      users.set(m.Name, ids);
    }
  }
  return users;
}

/**
 * `volume rm`: refused while a container, running or not, names the volume (Docker's "volume is in
 * use - [ids]"); with `force` a missing volume is no error.
 */
function sortedKeys(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A local-driver volume with type/device options: a filesystem is mounted on its directory while in use. */
export function mountsFilesystem(v: VolumeMeta): boolean {
  return Boolean(v.Options.type || v.Options.device);
}

/** Unmounts what a volume's options mounted on its directory (lifecycle/volumes.ts releaseVolumeFs). */
export type ReleaseVolume = (v: Volume) => void;

export function removeVolume(root: string, name: string, opts: { force?: boolean; users?: Map<string, string[]>; release?: ReleaseVolume } = {}): void {
  const v = readVolume(root, name);
  if (!v) {
    if (opts.force) return;
    throw new NotFoundError(`Cannot remove volume "${name}": no such volume`);
  }
  const ids = (opts.users ?? volumeUsers(listContainers(root), [v])).get(name);
  if (ids?.length) throw new FailedPreconditionError(`Cannot remove volume "${name}": volume is in use - [${[...ids].sort().join(" ")}]`);
  discardVolume(root, v, opts.release);
}

/**
 * Renamed out of the listing first, then deleted: an interrupted removal leaves no half volume. A
 * filesystem mounted on it (a bind of a host directory) is released first, never deleted through.
 */
function discardVolume(root: string, v: Volume, release: ReleaseVolume | undefined): void {
  if (mountsFilesystem(v)) {
    if (!release) throw new InternalError(`Cannot remove volume "${v.Name}": its mount cannot be released here`);
    release(v);
  }
  const name = v.Name;
  const dir = path.join(volumesDir(root), name);
  const trash = path.join(volumesDir(root), `.rm-${randomHex(8)}`);
  try {
    fs.renameSync(dir, trash);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw err;
  }
  fs.rmSync(trash, { recursive: true, force: true });
}

/** Bytes of regular files and symlinks under a directory, hard links counted once. */
export function treeSize(dir: string): number {
  let total = 0;
  const seen = new Set<string>();
  const walk = (p: string, depth: number) => {
    if (depth > 4096) return;
    let names: string[];
    try {
      names = fs.readdirSync(p);
    } catch {
      return;
    }
    for (const n of names) {
      const q = path.join(p, n);
      const st = fs.lstatSync(q, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(q, depth + 1);
      else if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        total += st.size;
      } else total += st.size;
    }
  };
  walk(dir, 0);
  return total;
}

export type VolumeFilters = { name?: string[]; label?: string[]; dangling?: boolean; driver?: string[] };

/** `--filter` of `volume ls` and `volume prune` (Docker's keys: name, label, label!, dangling, driver). */
export function parseVolumeFilters(specs: string[], allowed = ["name", "label", "label!", "dangling", "driver"]): VolumeFilters & { notLabel?: string[] } {
  const f: VolumeFilters & { notLabel?: string[] } = {};
  for (const s of specs) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`Cannot parse filter "${s}": bad format of filter (expected name=value)`);
    let key = s.slice(0, eq);
    let value = s.slice(eq + 1);
    // "label!=k=v" splits at the first "=": key "label!"
    if (key.endsWith("!") && !allowed.includes(key)) key = key.slice(0, -1);
    if (!allowed.includes(key)) throw new InvalidArgumentError(`Cannot parse filter "${s}": invalid filter '${key}'`);
    if (key === "dangling") {
      if (!["true", "false", "1", "0"].includes(value.toLowerCase())) {
        throw new InvalidArgumentError(`Cannot parse filter "${s}": invalid filter 'dangling=${value}'`);
      }
      f.dangling = value === "true" || value === "1";
      continue;
    }
    if (key === "label!") {
      (f.notLabel ??= []).push(value);
      continue;
    }
    value = value.trim();
    const k = key as "name" | "label" | "driver";
    (f[k] ??= []).push(value);
  }
  return f;
}

function hasLabel(labels: Record<string, string>, spec: string): boolean {
  const eq = spec.indexOf("=");
  if (eq < 0) return Object.hasOwn(labels, spec);
  return labels[spec.slice(0, eq)] === spec.slice(eq + 1);
}

/** Docker's semantics: name is a substring match; each label filter must hold; dangling = no user. */
export function matchVolume(v: Volume, inUse: boolean, f: VolumeFilters & { notLabel?: string[] }): boolean {
  if (f.name && !f.name.some((n) => v.Name.includes(n))) return false;
  if (f.driver && !f.driver.includes("local")) return false;
  if (f.label && !f.label.every((l) => hasLabel(v.Labels, l))) return false;
  if (f.notLabel && f.notLabel.some((l) => hasLabel(v.Labels, l))) return false;
  if (f.dangling !== undefined && f.dangling === inUse) return false;
  return true;
}

/**
 * `volume prune`: volumes no container names, anonymous ones only unless `all` (Docker 23+), that
 * pass the filters. Names and the bytes they held.
 */
export function pruneVolumes(root: string, opts: { all?: boolean; filters?: VolumeFilters & { notLabel?: string[] }; release?: ReleaseVolume } = {}): { deleted: string[]; bytes: number } {
  const volumes = listVolumes(root);
  const users = volumeUsers(listContainers(root), volumes);
  const deleted: string[] = [];
  let bytes = 0;
  for (const v of volumes) {
    if (users.has(v.Name)) continue;
    if (!opts.all && !v.Anonymous) continue;
    if (opts.filters && !matchVolume(v, false, opts.filters)) continue;
    const size = mountsFilesystem(v) ? 0 : treeSize(v.Mountpoint);
    discardVolume(root, v, opts.release);
    deleted.push(v.Name);
    bytes += size;
  }
  return { deleted, bytes };
}
