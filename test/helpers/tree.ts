// Snapshots a directory tree as sorted records (type, mode, owner, content hash, link, device,
// xattrs) and diffs two snapshots, so unpack tests can compare tinydock against an oracle.
import fs from "node:fs";
import path from "node:path";
import { linuxSys } from "../../src/sys/linux.ts";
import type { Sys } from "../../src/sys/sys.ts";

export type TreeEntryType = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";

export interface TreeRecord {
  /** Relative to the snapshot root, "/"-separated; "." is the root itself. */
  path: string;
  type: TreeEntryType;
  /** Permission bits including setuid, setgid and sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes for files, link text length for symlinks, 0 for the rest (directory sizes vary by fs). */
  size: number;
  /** Link count of non-directories, so hard links show up. */
  nlink?: number;
  sha256?: string;
  link?: string;
  /** "major:minor" for devices. */
  rdev?: string;
  /** Attribute values as UTF-8 text, or "base64:…" when not printable. */
  xattrs?: Record<string, string>;
  /** Only with { mtime: true }. */
  mtime?: number;
}

export interface SnapshotOptions {
  /** Record the root directory itself as ".". Default false. */
  includeRoot?: boolean;
  /** Record mtimes (seconds). Default false: extractors differ on directory mtimes. */
  mtime?: boolean;
  /** Read xattrs. Default true. */
  xattrs?: boolean;
  /** Skip a path (relative) and, for a directory, all below it. */
  ignore?: (relPath: string) => boolean;
  /** The Sys to read xattrs with; default the real one. */
  sys?: Sys;
}

/** Attributes that belong to the host's filesystem, not to the image. */
const IGNORED_XATTR = (name: string): boolean => name.startsWith("trusted.overlay.") || name === "security.selinux";

let realSys: Sys | undefined;
function defaultSys(): Sys {
  if (!realSys) realSys = linuxSys();
  return realSys;
}

function typeOf(st: fs.Stats): TreeEntryType {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  return "socket";
}

/** glibc's major()/minor(). */
export function splitDev(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return {
    major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0),
    minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00),
  };
}

function showValue(v: Uint8Array): string {
  const text = Buffer.from(v).toString("utf8");
  const printable = /^[\x20-\x7e\u00a0-\uffff]*$/.test(text) && Buffer.from(text, "utf8").equals(Buffer.from(v));
  return printable ? text : `base64:${Buffer.from(v).toString("base64")}`;
}

function sha256File(file: string): string {
  const hasher = new Bun.CryptoHasher("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hasher.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hasher.digest("hex");
}

export function snapshotTree(dir: string, opts: SnapshotOptions = {}): TreeRecord[] {
  const sys = opts.xattrs === false ? undefined : (opts.sys ?? defaultSys());
  const records: TreeRecord[] = [];
  const visit = (rel: string): void => {
    const abs = rel === "." ? dir : path.join(dir, rel);
    const st = fs.lstatSync(abs);
    const type = typeOf(st);
    if (rel !== "." || opts.includeRoot) {
      const rec: TreeRecord = {
        path: rel,
        type,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        size: type === "file" || type === "symlink" ? st.size : 0,
      };
      if (type !== "dir") rec.nlink = st.nlink;
      if (type === "file") rec.sha256 = sha256File(abs);
      if (type === "symlink") rec.link = fs.readlinkSync(abs);
      if (type === "char" || type === "block") {
        const { major, minor } = splitDev(st.rdev);
        rec.rdev = `${major}:${minor}`;
      }
      if (sys) {
        const names = sys.llistxattr(abs).filter((n) => !IGNORED_XATTR(n)).sort();
        if (names.length) {
          rec.xattrs = {};
          for (const n of names) {
            const v = sys.lgetxattr(abs, n);
            if (v) rec.xattrs[n] = showValue(v);
          }
        }
      }
      if (opts.mtime) rec.mtime = Math.floor(st.mtimeMs / 1000);
      records.push(rec);
    }
    if (type === "dir") {
      for (const name of fs.readdirSync(abs).sort()) {
        const child = rel === "." ? name : `${rel}/${name}`;
        if (opts.ignore?.(child)) continue;
        visit(child);
      }
    }
  };
  visit(".");
  return records.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const FIELDS: (keyof TreeRecord)[] = ["type", "mode", "uid", "gid", "size", "nlink", "sha256", "link", "rdev", "xattrs", "mtime"];

function show(field: keyof TreeRecord, v: unknown): string {
  if (v === undefined) return "(none)";
  if (field === "mode") return `0${(v as number).toString(8).padStart(3, "0")}`;
  if (field === "sha256") return (v as string).slice(0, 12);
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/**
 * Readable differences from `a` to `b`, one line each, empty when the trees match:
 *   "- path (only in a)", "+ path (only in b)", "~ path: mode 0644 → 0755".
 */
export function diffTrees(a: TreeRecord[], b: TreeRecord[]): string[] {
  const left = new Map(a.map((r) => [r.path, r]));
  const right = new Map(b.map((r) => [r.path, r]));
  const paths = [...new Set([...left.keys(), ...right.keys()])].sort();
  const out: string[] = [];
  for (const p of paths) {
    const x = left.get(p);
    const y = right.get(p);
    if (!y) {
      out.push(`- ${p} (only in a: ${x!.type})`);
      continue;
    }
    if (!x) {
      out.push(`+ ${p} (only in b: ${y.type})`);
      continue;
    }
    const changes: string[] = [];
    for (const f of FIELDS) {
      const vx = x[f];
      const vy = y[f];
      if (JSON.stringify(vx) !== JSON.stringify(vy)) changes.push(`${f} ${show(f, vx)} → ${show(f, vy)}`);
    }
    if (changes.length) out.push(`~ ${p}: ${changes.join(", ")}`);
  }
  return out;
}

/** One line per record, for a failing test's message or a golden file. */
export function formatTree(records: TreeRecord[]): string {
  return records
    .map((r) => {
      const bits = [r.type, show("mode", r.mode), `${r.uid}:${r.gid}`];
      if (r.type === "file") bits.push(String(r.size), show("sha256", r.sha256));
      if (r.link !== undefined) bits.push(`-> ${r.link}`);
      if (r.rdev) bits.push(`dev ${r.rdev}`);
      if (r.nlink && r.nlink > 1) bits.push(`nlink ${r.nlink}`);
      if (r.xattrs) bits.push(JSON.stringify(r.xattrs));
      return `${r.path} ${bits.join(" ")}`;
    })
    .join("\n");
}
