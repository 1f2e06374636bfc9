// What one build step changed in a root filesystem, as the tar entries of a layer: new and changed
// entries (with their parent directories), OCI whiteouts for what disappeared, hard links kept.
// Every entry gets the same mtime, so the layer depends only on the files' content and metadata.
import fs from "node:fs";
import path from "node:path";
import type { TarEntry } from "../test/helpers/tar.ts";
import { splitDev, type TreeRecord } from "../test/helpers/tree.ts";

export const LAYER_MTIME = new Date("2024-01-02T03:04:05Z");

/** Fields that make an entry "changed"; nlink is left out (adding a hard link elsewhere is not a change). */
function fingerprint(r: TreeRecord): string {
  return JSON.stringify([r.type, r.mode, r.uid, r.gid, r.size, r.sha256, r.link, r.rdev, r.xattrs]);
}

function parentOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? "." : p.slice(0, i);
}

export function diffToLayer(root: string, before: TreeRecord[], after: TreeRecord[]): TarEntry[] {
  const old = new Map(before.map((r) => [r.path, r]));
  const now = new Map(after.map((r) => [r.path, r]));
  const emit = new Set<string>();
  const addWithParents = (p: string): void => {
    for (let q = p; q !== "." && !emit.has(q); q = parentOf(q)) emit.add(q);
  };
  for (const r of after) {
    const o = old.get(r.path);
    if (!o || fingerprint(o) !== fingerprint(r)) addWithParents(r.path);
  }
  const whiteouts: string[] = [];
  for (const r of before) {
    if (now.has(r.path)) continue;
    const parent = parentOf(r.path);
    // Only the topmost deleted path gets a whiteout; below it the whiteout already hides everything.
    const parentStill = parent === "." || (now.get(parent)?.type === "dir" && old.get(parent)?.type === "dir");
    if (!parentStill) continue;
    whiteouts.push(parent === "." ? `.wh.${r.path}` : `${parent}/.wh.${path.basename(r.path)}`);
    if (parent !== ".") addWithParents(parent);
  }

  const entries: TarEntry[] = [];
  const firstPathOfInode = new Map<string, string>();
  for (const p of [...emit].sort()) {
    const r = now.get(p)!;
    const abs = path.join(root, p);
    const base = { mode: r.mode, uid: r.uid, gid: r.gid, mtime: LAYER_MTIME, pax: xattrPax(r) };
    switch (r.type) {
      case "dir":
        entries.push({ name: `${p}/`, type: "directory", ...base });
        break;
      case "file": {
        const st = fs.lstatSync(abs);
        const inode = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? firstPathOfInode.get(inode) : undefined;
        if (first) {
          entries.push({ name: p, type: "link", linkname: first, ...base });
        } else {
          if (st.nlink > 1) firstPathOfInode.set(inode, p);
          entries.push({ name: p, type: "file", content: fs.readFileSync(abs), ...base });
        }
        break;
      }
      case "symlink":
        entries.push({ name: p, type: "symlink", linkname: r.link!, ...base });
        break;
      case "char":
      case "block": {
        const { major, minor } = splitDev(fs.lstatSync(abs).rdev);
        entries.push({ name: p, type: r.type === "char" ? "character-device" : "block-device", devmajor: major, devminor: minor, ...base });
        break;
      }
      case "fifo":
        entries.push({ name: p, type: "fifo", ...base });
        break;
      case "socket":
        break; // sockets are not carried in images (Docker drops them too)
    }
  }
  for (const w of whiteouts) entries.push({ name: w, type: "file", content: "", mode: 0o644, mtime: LAYER_MTIME });
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function xattrPax(r: TreeRecord): Record<string, string> | undefined {
  if (!r.xattrs) return undefined;
  const pax: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.xattrs)) {
    if (!v.startsWith("base64:")) pax[`SCHILY.xattr.${k}`] = v; // tar-stream's PAX records are text only
  }
  return Object.keys(pax).length ? pax : undefined;
}
