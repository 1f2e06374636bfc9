// Network definitions under <root>/networks/<name>/network.json, with their leases and lock.
// `bridge`, `host` and `none` are predefined (written on first use), as in Docker.
import fs from "node:fs";
import { randomHex } from "../random.ts";
import path from "node:path";
import { dirNames, readJson, writeFileAtomic } from "../atomic.ts";
import type { Ctx } from "../context.ts";
import { AlreadyExistsError, errnoCode, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionError, UnavailableError } from "../errors.ts";
import { acquireLock, lockSync, type Lock } from "../store/lock.ts";
import { otherRoots, registerRoot } from "../store/owners.ts";
import { lockHostNet } from "./hostnet.ts";
import { carve, contains, formatIpv4, formatSubnet, hostRange, overlaps, parseCidr, parseIpv4, type Subnet } from "./subnet.ts";

export type NetworkDriver = "bridge" | "host" | "null";

export interface NetworkRecord {
  name: string;
  id: string;
  driver: NetworkDriver;
  created: string;
  /** bridge driver: "10.30.0.0/24", its gateway (on the bridge) and the bridge's name. */
  subnet?: string;
  gateway?: string;
  bridge?: string;
  labels?: Record<string, string>;
}

export const DEFAULT_BRIDGE = "tinydock0";
export const PREDEFINED = ["bridge", "host", "none"] as const;

export function networksDir(root: string): string {
  return path.join(root, "networks");
}

export interface NetworkPaths {
  dir: string;
  record: string;
  leases: string;
  lock: string;
}

export function networkPaths(root: string, name: string): NetworkPaths {
  const dir = path.join(networksDir(root), name);
  return { dir, record: path.join(dir, "network.json"), leases: path.join(dir, "leases"), lock: path.join(dir, "lock") };
}

/** The network's record as written; undefined when there is none (a torn one throws). */
export function readNetworkRecord(root: string, name: string): NetworkRecord | undefined {
  return readJson<NetworkRecord>(networkPaths(root, name).record);
}

/** The names of the networks of `root` that have a record. */
export function networkNames(root: string): string[] {
  return dirNames(networksDir(root)).filter((n) => fs.existsSync(networkPaths(root, n).record));
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function newId(): string {
  return randomHex(32);
}

function predefined(ctx: Ctx, name: string): NetworkRecord {
  const base = { name, id: newId(), created: new Date(ctx.clock()).toISOString() };
  if (name === "host") return { ...base, driver: "host" };
  if (name === "none") return { ...base, driver: "null" };
  const { ip, subnet } = parseCidr(ctx.config.bip, "bip");
  return { ...base, driver: "bridge", subnet: formatSubnet(subnet), gateway: formatIpv4(ip), bridge: DEFAULT_BRIDGE };
}

function ensurePredefined(ctx: Ctx, name: string): NetworkRecord {
  const p = networkPaths(ctx.root, name);
  const have = readNetworkRecord(ctx.root, name);
  if (have) return have;
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const rec = predefined(ctx, name);
  // Written whole to a temp file, then linked into place: link(2) fails on an existing name, so two
  // first runs racing agree on one id, and a reader never sees the record half-written.
  const tmp = `${p.record}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(rec, null, 2)}\n`, { flag: "wx", mode: 0o600 });
  try {
    fs.linkSync(tmp, p.record);
  } catch (err) {
    if (errnoCode(err) !== "EEXIST") throw err;
    const other = readNetworkRecord(ctx.root, name);
    if (other) return other;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return rec;
}

/** Every network: the predefined ones first, then by name. */
export function listNetworks(ctx: Ctx): NetworkRecord[] {
  const out = PREDEFINED.map((n) => ensurePredefined(ctx, n));
  let names: string[] = [];
  try {
    names = fs.readdirSync(networksDir(ctx.root)).sort();
  } catch {}
  for (const n of names) {
    if ((PREDEFINED as readonly string[]).includes(n) || !NAME_RE.test(n)) continue;
    const rec = readNetworkRecord(ctx.root, n);
    if (rec) out.push(rec);
  }
  return out;
}

/** By name, full id or unique id prefix, as Docker resolves them. */
export function findNetwork(ctx: Ctx, ref: string): NetworkRecord {
  if ((PREDEFINED as readonly string[]).includes(ref)) return ensurePredefined(ctx, ref);
  if (NAME_RE.test(ref)) {
    const rec = readNetworkRecord(ctx.root, ref);
    if (rec) return rec;
  }
  if (/^[a-f0-9]+$/.test(ref)) {
    const hits = listNetworks(ctx).filter((n) => n.id.startsWith(ref));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new InvalidArgumentError(`network ${ref} is ambiguous (${hits.length} matches found based on ID prefix)`);
  }
  throw new NotFoundError(`network ${ref} not found`);
}

export interface CreateNetworkRequest {
  name: string;
  subnet?: string;
  gateway?: string;
  labels?: Record<string, string>;
}

/** Picks the subnet and writes the record; the bridge itself is made by the first container. */
export async function createNetwork(ctx: Ctx, req: CreateNetworkRequest): Promise<NetworkRecord> {
  if (!NAME_RE.test(req.name)) throw new InvalidArgumentError(`invalid network name "${req.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if ((PREDEFINED as readonly string[]).includes(req.name)) {
    throw new PermissionError(`operation is not permitted on predefined ${req.name} network`);
  }
  fs.mkdirSync(networksDir(ctx.root), { recursive: true, mode: 0o700 });
  // One creator at a time, in every root of the host, so two new networks never get the same subnet.
  registerRoot(ctx);
  const lock = await lockHostNet(ctx);
  try {
    const all = listNetworks(ctx);
    if (all.some((n) => n.name === req.name)) throw new AlreadyExistsError(`network with name ${req.name} already exists`);
    // Other roots' networks too: their bridges may share this network namespace.
    const taken = [...all, ...otherRoots(ctx).flatMap(userNetworksOf)];
    const used = taken.filter((n) => n.subnet).map((n) => parseCidr(n.subnet!).subnet);
    let subnet: Subnet;
    if (req.subnet) {
      subnet = parseCidr(req.subnet).subnet;
      const clash = taken.find((n) => n.subnet && overlaps(parseCidr(n.subnet).subnet, subnet));
      if (clash) throw new FailedPreconditionError(`invalid pool request: Pool overlaps with other one on this address space`);
    } else {
      subnet = pickSubnet(ctx, used);
    }
    let gateway = hostRange(subnet).first;
    if (req.gateway) {
      const g = parseIpv4(req.gateway);
      if (g === null) throw new InvalidArgumentError(`invalid gateway address ${req.gateway}`);
      if (!contains(subnet, g)) throw new InvalidArgumentError(`no matching subnet for gateway ${req.gateway}`);
      gateway = g;
    }
    const id = newId();
    const rec: NetworkRecord = {
      name: req.name,
      id,
      driver: "bridge",
      created: new Date(ctx.clock()).toISOString(),
      subnet: formatSubnet(subnet),
      gateway: formatIpv4(gateway),
      bridge: `tdbr-${id.slice(0, 10)}`,
      ...(req.labels && Object.keys(req.labels).length ? { labels: req.labels } : {}),
    };
    const p = networkPaths(ctx.root, req.name);
    fs.mkdirSync(p.dir, { mode: 0o700 });
    writeFileAtomic(p.record, `${JSON.stringify(rec, null, 2)}\n`);
    return rec;
  } finally {
    lock.release();
  }
}

/** A root's own networks as recorded (the predefined ones are not made for it). */
function userNetworksOf(root: string): NetworkRecord[] {
  const names = dirNames(networksDir(root));
  return names.flatMap((n) => readNetworkRecord(root, n) ?? []);
}

function pickSubnet(ctx: Ctx, used: Subnet[]): Subnet {
  for (const pool of ctx.config.defaultAddressPools) {
    const base = parseCidr(pool.base, "default-address-pools base").subnet;
    for (const s of carve(base, pool.size)) if (!used.some((u) => overlaps(u, s))) return s;
  }
  throw new UnavailableError("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");
}

/** The network's lock: held while leases, the bridge and the members' hosts files change. */
export function lockNetwork(ctx: Ctx, name: string): Promise<Lock> {
  const p = networkPaths(ctx.root, name);
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  return acquireLock(ctx, p.lock, { timeoutMs: 60_000 });
}

/** The same lock, waited for by blocking the thread (lockSync): for synchronous teardown paths. */
export function lockNetworkSync(ctx: Ctx, name: string): Lock {
  const p = networkPaths(ctx.root, name);
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  return lockSync(ctx, p.lock);
}
