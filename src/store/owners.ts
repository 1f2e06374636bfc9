// Which root owns a host-wide object. Cgroups (tinydock/<id>), veths (td<id…>) and port rules
// ("tinydock:<id>") carry only a container id, and several roots (TINYDOCK_ROOT per CI job) share
// one host: reconcile and prune of one root must leave another root's live containers alone.
// Under the exec root (context.ts, /run/tinydock by default):
//   roots/<sha256(root)[:32]>   the root's path: written once, before its first container
//   pending/<id>                {root, pid, cgroup?} of a run that made the cgroup before the
//                               container's record exists (image pull in between); gone once it
//                               does, or stale when that pid is gone. `cgroup`: the directories of
//                               a cgroup under a --cgroup-parent, which no scan of tinydock/ finds:
//                               a stale record with them is kept for its root's reconcile
// An id is another root's when that root has containers/<id> (or is creating it), or a live run
// there has it pending. A root whose directory is gone leaves its entry stale: removed on sight.
import fs from "node:fs";
import path from "node:path";
import { dirNames } from "../atomic.ts";
import type { Ctx } from "../context.ts";
import { errnoCode } from "../errors.ts";
import { containersDir, CREATING_PREFIX } from "./containers.ts";
import { pidAlive } from "./scratch.ts";

function rootsDir(ctx: Pick<Ctx, "execRoot">): string {
  return path.join(ctx.execRoot, "roots");
}

function pendingDir(ctx: Pick<Ctx, "execRoot">): string {
  return path.join(ctx.execRoot, "pending");
}

export function rootKey(root: string): string {
  // Bun's hasher, not node:crypto: loading that module was a third of a run's start-up.
  return new Bun.CryptoHasher("sha256").update(root).digest("hex").slice(0, 32);
}

/** Records the root as a user of the host (idempotent; a stat when already there). */
export function registerRoot(ctx: Pick<Ctx, "execRoot" | "root">): void {
  const file = path.join(rootsDir(ctx), rootKey(ctx.root));
  if (fs.existsSync(file)) return;
  fs.mkdirSync(rootsDir(ctx), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, ctx.root, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The other registered roots that still exist; entries of vanished roots are dropped. */
export function otherRoots(ctx: Pick<Ctx, "execRoot" | "root">): string[] {
  const names = dirNames(rootsDir(ctx));
  const out: string[] = [];
  for (const n of names) {
    if (!/^[a-f0-9]{32}$/.test(n)) continue;
    const file = path.join(rootsDir(ctx), n);
    let root: string;
    try {
      root = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    if (root === ctx.root) continue;
    if (!fs.existsSync(root)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    out.push(root);
  }
  return out.sort();
}

interface PendingRecord {
  root?: string;
  pid?: number;
  cgroup?: string[];
}

/** Marks `id` as being created by this process of this root (its cgroup at `cgroup` when that is not tinydock/<id>); release() once its record exists. */
export function markPending(ctx: Pick<Ctx, "execRoot" | "root">, id: string, cgroup?: string[]): { release(): void } {
  fs.mkdirSync(pendingDir(ctx), { recursive: true, mode: 0o700 });
  const file = path.join(pendingDir(ctx), id);
  fs.writeFileSync(file, JSON.stringify({ root: ctx.root, pid: process.pid, ...(cgroup?.length ? { cgroup } : {}) }), { mode: 0o600 });
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      fs.rmSync(file, { force: true });
    },
  };
}

/**
 * Ids that live runs (of any root) have pending; stale records are removed, but those naming a
 * cgroup of a root that still exists stay for that root (stalePendingCgroups).
 */
export function pendingIds(ctx: Pick<Ctx, "execRoot">): Set<string> {
  const out = new Set<string>();
  for (const { id, file, rec } of pendingRecords(ctx)) {
    if (rec && pidAlive(rec.pid ?? 0)) out.add(id);
    else if (!rec?.cgroup?.length || !rec.root || !fs.existsSync(rec.root)) fs.rmSync(file, { force: true });
  }
  return out;
}

/**
 * The cgroups that runs of this root killed before their record existed left under a
 * --cgroup-parent, by id; done() drops the record once the cgroup is gone.
 */
export function stalePendingCgroups(ctx: Pick<Ctx, "execRoot" | "root">): { id: string; dirs: string[]; done(): void }[] {
  const out: { id: string; dirs: string[]; done(): void }[] = [];
  for (const { id, file, rec } of pendingRecords(ctx)) {
    if (!rec?.cgroup?.length || rec.root !== ctx.root || pidAlive(rec.pid ?? 0)) continue;
    out.push({ id, dirs: rec.cgroup, done: () => fs.rmSync(file, { force: true }) });
  }
  return out;
}

function pendingRecords(ctx: Pick<Ctx, "execRoot">): { id: string; file: string; rec: PendingRecord | null }[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(pendingDir(ctx));
  } catch {
    return [];
  }
  const out: { id: string; file: string; rec: PendingRecord | null }[] = [];
  for (const n of names) {
    if (!/^[a-f0-9]{64}$/.test(n)) continue;
    const file = path.join(pendingDir(ctx), n);
    try {
      out.push({ id: n, file, rec: JSON.parse(fs.readFileSync(file, "utf8")) as PendingRecord });
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") out.push({ id: n, file, rec: null });
    }
  }
  return out;
}

/** The container ids of a root: its directories, made or being made. */
function idsOf(root: string): string[] {
  const names = dirNames(containersDir(root));
  const out: string[] = [];
  for (const n of names) {
    const id = n.startsWith(CREATING_PREFIX) ? n.slice(CREATING_PREFIX.length) : n;
    if (/^[a-f0-9]{64}$/.test(id)) out.push(id);
  }
  return out;
}

/**
 * Every container id this root must not touch: other roots' containers, and ids any live run has
 * pending (this root's own too: its directory does not exist yet).
 */
export function foreignIds(ctx: Pick<Ctx, "execRoot" | "root">): Set<string> {
  const out = pendingIds(ctx);
  for (const root of otherRoots(ctx)) for (const id of idsOf(root)) out.add(id);
  return out;
}
