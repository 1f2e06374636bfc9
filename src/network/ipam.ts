// IP address leases of one network: one file per address under <root>/networks/<name>/leases/,
// created with O_EXCL so an address is never handed out twice, even without the network's lock
// (callers hold it anyway, so the hosts files they rewrite match the leases). A lease whose
// container directory is gone (a run killed by SIGKILL) is free again.
import fs from "node:fs";
import path from "node:path";
import { dirNames } from "../atomic.ts";
import { errnoCode, UnavailableError } from "../errors.ts";
import { contains, formatIpv4, hostRange, parseIpv4, type Subnet } from "./subnet.ts";

/** What a lease file holds: enough to list the container in its peers' hosts files. */
export interface Lease {
  ip: string;
  id: string;
  name: string;
  hostname: string;
  aliases: string[];
  /** --add-host entries, so the hosts file can be rewritten whole. */
  extraHosts?: { host: string; ip: string }[];
}

export function readLeases(dir: string): Lease[] {
  const names = dirNames(dir);
  const out: Lease[] = [];
  for (const n of names) {
    if (parseIpv4(n) === null) continue;
    try {
      const l = JSON.parse(fs.readFileSync(path.join(dir, n), "utf8")) as Omit<Lease, "ip">;
      out.push({ ip: n, id: l.id, name: l.name, hostname: l.hostname, aliases: l.aliases ?? [], ...(l.extraHosts?.length ? { extraHosts: l.extraHosts } : {}) });
    } catch {
      // A lease torn by a crash between create and write: its container never started.
      out.push({ ip: n, id: "", name: "", hostname: "", aliases: [] });
    }
  }
  return out.sort((a, b) => parseIpv4(a.ip)! - parseIpv4(b.ip)!);
}

/** Drops the leases whose container is gone; returns those that remain. */
export function reconcileLeases(dir: string, alive: (id: string) => boolean): Lease[] {
  const keep: Lease[] = [];
  for (const l of readLeases(dir)) {
    if (l.id && alive(l.id)) keep.push(l);
    else fs.rmSync(path.join(dir, l.ip), { force: true });
  }
  return keep;
}

export interface AllocateRequest {
  subnet: Subnet;
  gateway: number;
  lease: Omit<Lease, "ip">;
  /** A fixed address (--ip), else the lowest free one. */
  ip?: string;
  alive: (id: string) => boolean;
  /**
   * Takes the address host-wide once the lease file is ours (hostnet.ts: other roots on the same
   * bridge); false when another root holds it, and the next address is tried.
   */
  claim?: (ip: string) => boolean;
}

export function allocate(dir: string, req: AllocateRequest): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const taken = new Set(reconcileLeases(dir, req.alive).map((l) => parseIpv4(l.ip)!));
  const body = JSON.stringify(req.lease);
  const { first, last } = hostRange(req.subnet);
  const tryTake = (n: number): boolean => {
    const file = path.join(dir, formatIpv4(n));
    try {
      fs.writeFileSync(file, body, { flag: "wx", mode: 0o600 });
    } catch (err) {
      if (errnoCode(err) === "EEXIST") return false;
      throw err;
    }
    if (!req.claim || req.claim(formatIpv4(n))) return true;
    fs.rmSync(file, { force: true });
    return false;
  };
  if (req.ip !== undefined) {
    const n = parseIpv4(req.ip);
    if (n === null || !contains(req.subnet, n) || n < first || n > last || n === req.gateway) {
      throw new UnavailableError(`Cannot assign address "${req.ip}": not a free host address of the network's subnet`);
    }
    if (taken.has(n) || !tryTake(n)) throw new UnavailableError(`Address already in use: ${req.ip}`);
    return req.ip;
  }
  for (let n = first; n <= last; n++) {
    if (n === req.gateway || taken.has(n)) continue;
    if (tryTake(n)) return formatIpv4(n);
  }
  throw new UnavailableError("no available IPv4 addresses on this network's address pools");
}

/** Frees `ip` if `id` holds it (a lease another container took since is left alone). */
export function release(dir: string, ip: string, id: string): void {
  const file = path.join(dir, ip);
  try {
    const l = JSON.parse(fs.readFileSync(file, "utf8")) as { id?: string };
    if (l.id && l.id !== id) return;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
  }
  fs.rmSync(file, { force: true });
}

/** Every lease a container holds in this directory (when its record was never saved). */
export function leasesOf(dir: string, id: string): Lease[] {
  return readLeases(dir).filter((l) => l.id === id);
}
