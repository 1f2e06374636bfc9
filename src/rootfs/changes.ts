// `docker diff`: an overlay upper dir's changes against its lower layers, as Docker's overlay2
// driver lists them (moby pkg/archive changes() with overlayDeletedFile), in the same walk order:
// a whiteout is D, an opaque directory D (its contents then A or C each), anything else A unless a
// lower has that path, then C; a directory that differs from its lower in neither size, mode nor
// mtime is no change by itself, but the parent of an A or D is C once, right before it.
// The upper dir is read by walkUpper, the walker commit and export use. A lower path is looked up
// in the overlay of the lowers with src/rootfs/layerpath.ts (lstat only, the layers' links resolved
// inside the image), where Docker stats each lower's host path and follows links on the host.
import fs from "node:fs";
import path from "node:path";
import type { Sys } from "../sys/sys.ts";
import { lstatBeneath, O_CLOEXEC } from "./beneath.ts";
import { entryInLayers, resolveInLayers } from "./layerpath.ts";
import { isWhiteoutNode, parseWhiteout, WHITEOUT_OPAQUE } from "./whiteout.ts";
import { walkUpper } from "./writelayer.ts";

export type ChangeKind = "A" | "C" | "D";

export interface Change {
  kind: ChangeKind;
  /** Absolute in the container: "/etc/passwd". */
  path: string;
}

/** The files the runtime bind-mounts over, made empty in the upper dir when the image lacks them. */
export const MOUNTPOINT_FILES = ["etc/hostname", "etc/hosts", "etc/resolv.conf"];

/**
 * Whether `rel` is one of those mount points as the runtime made it: an empty file no lower has.
 * Docker keeps them in a layer of their own under the container's (its "-init" layer), so they are
 * not the container's changes.
 */
export function isMadeMountpoint(sys: Sys, upper: string, rel: string, lowers: readonly string[]): boolean {
  return madeMountpoint(sys, upper, rel, lowers) !== undefined;
}

/**
 * The host path of that mount point in the upper dir, found without following any link the
 * container made (an /etc it turned into a link to a host directory is not walked through).
 */
export function madeMountpoint(sys: Sys, upper: string, rel: string, lowers: readonly string[]): string | undefined {
  if (!MOUNTPOINT_FILES.includes(rel)) return undefined;
  const parts = rel.split("/");
  const e = entryInLayers([upper], parts, sys);
  if (e.kind !== "found" || !e.st.isFile() || e.st.size !== 0) return undefined;
  return entryInLayers(lowers, parts, sys).kind === "found" ? undefined : e.file;
}

/**
 * The stat Docker's os.Stat of the lower path gives (symlinks followed), or undefined when nothing
 * is there; the layers' symlinks are resolved inside the image, never by the host, so a link a
 * layer holds (`/app -> /etc`, `../../../../tmp`) cannot make this stat a host file.
 */
function lowerStat(sys: Sys, lowers: readonly string[], rel: string): fs.BigIntStats | undefined {
  const e = entryInLayers(lowers, resolveInLayers(lowers, rel, sys), sys);
  // The file a lookup found is reached through real directories only: lstat stays in the layer.
  return e.kind === "found" ? fs.lstatSync(e.file, { bigint: true }) : undefined;
}

/** Go's sameFsTime: equal, or the same second with either side's nanoseconds 0 (tar has none). */
function sameTime(a: bigint, b: bigint): boolean {
  const s = 1_000_000_000n;
  return a === b || (a / s === b / s && (a % s === 0n || b % s === 0n));
}

/** The changes of upper dir `upper` over `lowers` (directories, topmost first), in Docker's order. */
export function upperChanges(sys: Sys, upper: string, lowers: readonly string[]): Change[] {
  const entries: string[] = [];
  for (const { entry, fd } of walkUpper(sys, upper)) {
    // Only the names count here: a file the walk opened is closed unread.
    if (fd !== undefined) fs.closeSync(fd);
    entries.push(entry.name);
  }
  const upperFd = fs.openSync(upper, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
  try {
    return changesOf(sys, upper, upperFd, lowers, entries);
  } finally {
    fs.closeSync(upperFd);
  }
}

/**
 * The changes the walked `entries` of the upper dir are. A running container may change its upper
 * dir meanwhile (an /etc made a link to a host directory): it is read from its fd, no link followed.
 */
function changesOf(sys: Sys, upper: string, upperFd: number, lowers: readonly string[], entries: readonly string[]): Change[] {
  const made = new Set(MOUNTPOINT_FILES.filter((rel) => isMadeMountpoint(sys, upper, rel, lowers)));
  // Where the runtime made mount points, the directory's mtime is the runtime's, not the
  // container's: as against Docker's init layer, only its mode can tell a change.
  const initDirs = new Set([...made].map((rel) => path.posix.dirname(rel)));
  const opaque = new Set(entries.filter((n) => path.posix.basename(n) === WHITEOUT_OPAQUE).map((n) => path.posix.dirname(n)));
  const out: Change[] = [];
  const changedDirs = new Set<string>();
  for (const name of entries) {
    const rel = name.replace(/\/$/, "");
    const base = path.posix.basename(rel);
    if (base === WHITEOUT_OPAQUE || made.has(rel)) continue;
    // walkUpper names a whiteout `.wh.<name>`; the upper dir holds it as <name>.
    const wh = parseWhiteout(base);
    const hidden = wh?.kind === "remove" ? path.posix.join(path.posix.dirname(rel), wh.name) : undefined;
    const whiteout = hidden !== undefined ? lstatBeneath(sys, upperFd, hidden) : undefined;
    const realRel = whiteout && isWhiteoutNode(whiteout) ? hidden! : rel;
    // A running container may remove what the walk saw.
    const st = lstatBeneath(sys, upperFd, realRel);
    if (!st) continue;
    const isDir = st.isDirectory();
    let kind: ChangeKind | undefined;
    if (realRel !== rel || (isDir && opaque.has(rel))) {
      kind = "D";
    } else {
      const lower = lowerStat(sys, lowers, rel);
      if (!lower) kind = "A";
      else if (!(isDir && lower.isDirectory())) kind = "C";
      else if (initDirs.has(rel) ? st.mode !== lower.mode : st.size !== lower.size || st.mode !== lower.mode || !sameTime(st.mtimeNs, lower.mtimeNs)) kind = "C";
    }
    if (kind === undefined) continue;
    const abs = `/${realRel}`;
    if (isDir) changedDirs.add(abs);
    if (kind !== "C") {
      const parent = path.posix.dirname(abs);
      if (parent !== "/" && !changedDirs.has(parent)) {
        out.push({ kind: "C", path: parent });
        changedDirs.add(parent);
      }
    }
    out.push({ kind, path: abs });
  }
  return out;
}
