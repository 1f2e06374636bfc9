// Where a tar entry may be written inside a layer directory, and nowhere else.
//
// Names are cleaned lexically first: a leading "/" is dropped (Docker and umoci treat absolute
// names as relative to the layer root) and a ".." that would climb above the root is refused.
// Then the parent chain is walked one component at a time with lstat, as cyphar's
// filepath-securejoin and containerd's fs.RootPath do: a symlink in the chain is followed, but
// resolved against the layer root (an absolute target starts at the root, ".." stops at it), and
// missing directories are created. The last component is never followed: callers create it with
// calls that refuse to (O_CREAT|O_EXCL|O_NOFOLLOW, mkdir, mknod, symlink, link) after unlinking
// whatever was there.
//
// Following instead of refusing: layers do write through their own symlinks (usr-merge images
// ship `bin -> usr/bin` and then `bin/sh`), umoci and containerd accept them, and clamping keeps
// the result inside the layer either way. No race: the layer directory is fresh, private (its
// parent is 0700) and this process is its only writer, so what lstat saw is what open finds.
import fs from "node:fs";

/** Thrown with a reason ("passes through a non-directory"); the caller names the entry. */
export class UnsafePathError extends Error {}

/** As Linux: resolving one name follows at most this many symlinks. */
export const MAX_SYMLINKS = 40;
/** Resolutions kept; beyond it the cache starts over, so a layer of millions of dirs costs no memory. */
const MAX_CACHED_DIRS = 1 << 16;

/**
 * "./a//b/../c/" → ["a", "c"]; "/etc/x" → ["etc", "x"]; [] for the root itself; null when ".."
 * climbs above the root.
 */
export function splitEntryPath(name: string): string[] | null {
  const out: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return null;
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

/** A layer directory and the directories already resolved in it. */
export class LayerRoot {
  /** The real path of the layer directory; every path handed out starts with it. */
  readonly path: string;
  /** Cleaned entry-relative directory → real directory path with no symlink in it. */
  private readonly dirs = new Map<string, string>();

  constructor(dest: string) {
    this.path = fs.realpathSync(dest);
    if (this.path === "/") throw new UnsafePathError("is the host root");
  }

  /**
   * The real directory that the first `n` components of `parts` name, symlinks followed inside
   * the layer. Missing directories are created (0755) when `create`, otherwise refused.
   */
  dir(parts: readonly string[], n: number, create: boolean): string {
    if (n === 0) return this.path;
    const key = n === parts.length ? parts.join("/") : parts.slice(0, n).join("/");
    const hit = this.dirs.get(key);
    if (hit !== undefined) return hit;
    const parent = this.dir(parts, n - 1, create);
    const resolved = this.step(parent, parts[n - 1]!, create, { links: 0 });
    this.remember(key, resolved);
    return resolved;
  }

  /** Records a directory just made at `path` for the cleaned name `key`. */
  remember(key: string, path: string): void {
    if (this.dirs.size >= MAX_CACHED_DIRS) this.dirs.clear();
    this.dirs.set(key, path);
  }

  /**
   * Drops every cached resolution. Called when an existing directory or symlink is removed or
   * replaced, since a cached path may run through it; creating new names cannot invalidate one.
   */
  forget(): void {
    this.dirs.clear();
  }

  private step(dir: string, name: string, create: boolean, budget: { links: number }): string {
    if (name === "" || name === ".") return dir;
    if (name === "..") return dir === this.path ? dir : dir.slice(0, dir.lastIndexOf("/"));
    const path = `${dir}/${name}`;
    const st = fs.lstatSync(path, { throwIfNoEntry: false });
    if (st === undefined) {
      if (!create) throw new UnsafePathError("names a directory that is not in the layer");
      fs.mkdirSync(path, 0o755);
      return path;
    }
    if (st.isDirectory()) return path;
    if (st.isSymbolicLink()) {
      if (++budget.links > MAX_SYMLINKS) throw new UnsafePathError("has too many levels of symbolic links");
      const target = fs.readlinkSync(path, "utf8");
      let cur = target.startsWith("/") ? this.path : dir;
      for (const part of target.split("/")) cur = this.step(cur, part, create, budget);
      return cur;
    }
    throw new UnsafePathError("has a parent that is not a directory");
  }
}
