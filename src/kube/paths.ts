// The paths a Kubernetes file names, checked as the API server and the kubelet check them before
// anything is written or mounted on the host: ConfigMap/Secret item paths (the AtomicWriter's
// rules), hostPaths (no ".."), mountPaths (run's -v rules: not "/", /proc or /sys), subPaths.
// Pure.
import path from "node:path";
import { checkTarget } from "../runtime/volumes.ts";
import type { Reader } from "./fields.ts";

/** The API's limit of one ConfigMap's or Secret's data (MaxSecretSize, the ConfigMap's total). */
export const MAX_SOURCE_BYTES = 1 << 20;
/** What the volume files of one file's pods may come to on the host, replicas counted. */
export const MAX_VOLUME_FILE_BYTES = 256 << 20;
/** The mounts one file's pods may make in the host's mount table (memory emptyDirs, subPaths), replicas counted. */
export const MAX_HOST_MOUNTS = 1024;

/**
 * An item's path in its volume, normalized, as the kubelet's AtomicWriter takes it: relative, no
 * "..", not starting with ".." (its own ..data), a name at most 255 bytes, the whole at most 4096,
 * and naming a file (not the volume itself).
 */
export function itemPath(r: Reader, p: string, at: string): string {
  if (p.includes("\0")) r.fail(at, "must not contain NUL");
  if (p.startsWith("/")) r.fail(at, "must be relative, without ..");
  const parts = p.split("/");
  if (parts.includes("..")) r.fail(at, "must be relative, without ..");
  if (Buffer.byteLength(p) > 4096) r.fail(at, "longer than 4096 bytes");
  if (parts.some((x) => Buffer.byteLength(x) > 255)) r.fail(at, "has a name longer than 255 bytes");
  const clean = path.posix.normalize(p).replace(/\/+$/, "");
  if (clean === "" || clean === ".") r.fail(at, "must name a file in the volume");
  if (clean.startsWith("..")) r.fail(at, 'must not start with ".."');
  return clean;
}

/** Two items at one path, or a file where another item needs a directory: refused before any is written. */
export function checkItemConflicts(r: Reader, paths: string[], at: (i: number) => string): void {
  const files = new Set<string>();
  const dirs = new Set<string>();
  paths.forEach((p, i) => {
    const parents = p.split("/").slice(0, -1).map((_, k, a) => a.slice(0, k + 1).join("/"));
    if (files.has(p) || dirs.has(p) || parents.some((d) => files.has(d))) r.fail(at(i), `"${p}" is given twice, or is both a file and a directory`);
    files.add(p);
    for (const d of parents) dirs.add(d);
  });
}

export function hostPathPath(r: Reader, p: string, at: string): string {
  if (!p.startsWith("/")) r.fail(at, "must be absolute");
  if (p.includes("\0")) r.fail(at, "must not contain NUL");
  // The API's rule (validatePathNoBacksteps): a hostPath names its directory, not a way out of one.
  if (p.split("/").includes("..")) r.fail(at, 'must not contain ".."');
  return p;
}

/** A container path to mount on, as run's -v takes one: absolute, not "/", /proc or /sys; normalized. */
export function mountPath(r: Reader, target: string, at: string): string {
  if (!target.startsWith("/")) r.fail(at, "must be absolute");
  if (target.includes("\0")) r.fail(at, "must not contain NUL");
  try {
    return checkTarget("mountPath", "", target).replace(/(.)\/+$/, "$1");
  } catch (err) {
    return r.fail(at, (err as Error).message.replace(/^Cannot parse mountPath "": /, ""));
  }
}

export function subPath(r: Reader, sub: string, at: string): string {
  if (sub.includes("\0")) r.fail(at, "must not contain NUL");
  if (sub.startsWith("/") || sub.split("/").includes("..")) r.fail(at, "must be relative, without ..");
  return sub;
}
