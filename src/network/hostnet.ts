// What the roots of one host share in one network namespace: bridges, addresses and firewall rules
// are per netns, and the default bridge tinydock0 is every root's. Under
// <execRoot>/net/<inode of this process's netns>/:
//   lock                  held while address claims and bridge records change and while the NAT
//                         chains are rewritten (from every root's bridges, not one root's)
//   ports.lock            port allocation and port rules (ports.ts)
//   bridges/<bridge>      {subnet}: a bridge tinydock brought up here (the NAT chains' input)
//   addrs/<bridge>/<ip>   {root, id}: the holder of an address on that bridge, whatever its root,
//                         taken with O_EXCL after the root's own lease (ipam.ts)
// A claim whose container directory is gone is stale and taken over or swept; a bridge record
// whose device is gone (the netns was deleted and its inode reused) is ignored and swept.
import fs from "node:fs";
import path from "node:path";
import { dirNames } from "../atomic.ts";
import type { Ctx } from "../context.ts";
import { errnoCode } from "../errors.ts";
import { containersDir } from "../store/containers.ts";
import { acquireLock, lockSync, type Lock } from "../store/lock.ts";

export interface AddressClaim {
  ip: string;
  root: string;
  id: string;
}

/** This process's network namespace's directory of shared records (made on first use). */
export function hostNetDir(ctx: Pick<Ctx, "execRoot">): string {
  const ino = fs.statSync("/proc/self/ns/net").ino;
  const dir = path.join(ctx.execRoot, "net", String(ino));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export function lockHostNet(ctx: Ctx): Promise<Lock> {
  return acquireLock(ctx, path.join(hostNetDir(ctx), "lock"), { timeoutMs: 60_000 });
}

/** The same lock by blocking flock, for synchronous teardown paths (held for milliseconds). */
export function lockHostNetSync(ctx: Ctx): Lock {
  return lockSync(ctx, path.join(hostNetDir(ctx), "lock"));
}

export function portsLockFile(ctx: Pick<Ctx, "execRoot">): string {
  return path.join(hostNetDir(ctx), "ports.lock");
}

function addrsDir(ctx: Pick<Ctx, "execRoot">, bridge: string): string {
  return path.join(hostNetDir(ctx), "addrs", bridge);
}

function claimIsLive(c: { root?: string; id?: string }): boolean {
  return typeof c.root === "string" && typeof c.id === "string" && /^[a-f0-9]{64}$/.test(c.id) && fs.existsSync(path.join(containersDir(c.root), c.id));
}

function readClaim(file: string): { root?: string; id?: string } | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as { root?: string; id?: string };
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return null;
    return {}; // torn by a crash: stale
  }
}

/**
 * Takes `ip` on `bridge` for the container `id` of `root`; false when a live container (of any
 * root) holds it. A stale claim is taken over. Caller holds lockHostNet.
 */
export function claimAddress(ctx: Pick<Ctx, "execRoot">, bridge: string, ip: string, root: string, id: string): boolean {
  const dir = addrsDir(ctx, bridge);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, ip);
  const body = JSON.stringify({ root, id });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, body, { flag: "wx", mode: 0o600 });
      return true;
    } catch (err) {
      if (errnoCode(err) !== "EEXIST") throw err;
    }
    const have = readClaim(file);
    if (have && have.root === root && have.id === id) return true;
    if (have && claimIsLive(have)) return false;
    fs.rmSync(file, { force: true });
  }
  return false;
}

/** Gives `ip` back if `id` holds it. */
export function releaseAddress(ctx: Pick<Ctx, "execRoot">, bridge: string, ip: string, id: string): void {
  const file = path.join(addrsDir(ctx, bridge), ip);
  const have = readClaim(file);
  if (have && have.id !== undefined && have.id !== id) return;
  fs.rmSync(file, { force: true });
}

/** The live claims on `bridge` (stale ones are swept). */
export function addressClaims(ctx: Pick<Ctx, "execRoot">, bridge: string): AddressClaim[] {
  const dir = addrsDir(ctx, bridge);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: AddressClaim[] = [];
  for (const n of names) {
    const have = readClaim(path.join(dir, n));
    if (!have) continue;
    if (claimIsLive(have)) out.push({ ip: n, root: have.root!, id: have.id! });
    else fs.rmSync(path.join(dir, n), { force: true });
  }
  if (out.length === 0) fs.rmSync(dir, { recursive: true, force: true });
  const n = (ip: string) => ip.split(".").reduce((a, b) => a * 256 + Number(b), 0);
  return out.sort((a, b) => n(a.ip) - n(b.ip));
}

function bridgesDir(ctx: Pick<Ctx, "execRoot">): string {
  return path.join(hostNetDir(ctx), "bridges");
}

export function recordBridge(ctx: Pick<Ctx, "execRoot">, bridge: string, subnet: string): void {
  fs.mkdirSync(bridgesDir(ctx), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(bridgesDir(ctx), bridge), JSON.stringify({ subnet }), { mode: 0o600 });
}

export function forgetBridge(ctx: Pick<Ctx, "execRoot">, bridge: string): void {
  fs.rmSync(path.join(bridgesDir(ctx), bridge), { force: true });
}

/** The recorded bridges whose device exists (`exists` asks the kernel); the others are swept. */
export function recordedBridges(ctx: Pick<Ctx, "execRoot">, exists: (bridge: string) => boolean): { bridge: string; subnet: string }[] {
  const names = dirNames(bridgesDir(ctx)).sort();
  const out: { bridge: string; subnet: string }[] = [];
  for (const n of names) {
    try {
      const { subnet } = JSON.parse(fs.readFileSync(path.join(bridgesDir(ctx), n), "utf8")) as { subnet?: string };
      if (subnet && exists(n)) {
        out.push({ bridge: n, subnet });
        continue;
      }
    } catch {}
    forgetBridge(ctx, n);
  }
  return out;
}
