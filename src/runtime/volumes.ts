// `-v`, `--mount` and `--tmpfs` as Docker parses them. Pure.
import path from "node:path";
import { ParseError } from "../errors.ts";
import { isVolumeName } from "../store/volumes.ts";
import { MS } from "../sys/sys.ts";

export type VolumeSpec =
  | { type: "bind"; source: string; target: string; readonly: boolean }
  | { type: "volume"; name?: string; target: string; readonly: boolean; nocopy: boolean; options?: Record<string, string> }
  | { type: "tmpfs"; target: string; flags: number; data: string };

const PROPAGATION = new Set(["private", "rprivate", "shared", "rshared", "slave", "rslave"]);
const MODES = new Set(["ro", "rw", "z", "Z", "nocopy", "private", "rprivate", "shared", "rshared", "slave", "rslave", "consistent", "cached", "delegated"]);

/** runc's validProcMounts: the /proc files a mount may cover (lxcfs's). */
const LXCFS_PROC_FILES = new Set([
  "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps", "/proc/uptime",
  "/proc/loadavg", "/proc/slabinfo", "/proc/sys/kernel/ns_last_pid", "/proc/sys/crypto/fips_enabled",
]);

function bad(kind: string, text: string, reason: string): never {
  throw new ParseError(`Cannot parse ${kind} "${text}": ${reason}`);
}

export function checkTarget(kind: string, text: string, target: string): string {
  if (!target.startsWith("/")) bad(kind, text, `container path "${target}" is not absolute`);
  const clean = path.posix.normalize(target);
  if (clean === "/") bad(kind, text, "cannot mount over the container's root");
  // runc's checkProcMount: nothing on or below /proc but the files lxcfs emulates (a mount there
  // would cover the masked and read-only paths); Docker passes them to runc, which refuses. /sys is
  // mounted over as Docker and runc allow: the masks are applied after the mounts, over them.
  if ((clean === "/proc" || clean.startsWith("/proc/")) && !LXCFS_PROC_FILES.has(clean)) {
    throw new ParseError(`"${clean}" cannot be mounted because it is inside /proc`);
  }
  return clean;
}

/** `-v SRC:DST[:MODE]`, `-v NAME:DST`, `-v DST` (anonymous volume). */
export function parseVolumeFlag(text: string, cwd = "/"): VolumeSpec {
  const parts = text.split(":");
  if (parts.some((p) => p === "") || parts.length > 3) bad("volume", text, "expected [SOURCE:]TARGET[:MODE]");
  let modes: string[] = [];
  let source: string | undefined;
  let target: string;
  if (parts.length === 1) target = parts[0]!;
  else if (parts.length === 2) {
    // "/ctr:ro" is an anonymous volume with a mode; "src:/ctr" has a source.
    if (parts[1]!.startsWith("/")) [source, target] = parts as [string, string];
    else {
      target = parts[0]!;
      modes = parts[1]!.split(",");
    }
  } else {
    [source, target] = parts as [string, string];
    modes = parts[2]!.split(",");
  }
  for (const m of modes) if (!MODES.has(m)) bad("volume", text, `invalid mode "${m}"`);
  if (modes.includes("ro") && modes.includes("rw")) bad("volume", text, 'both "ro" and "rw"');
  const readonly = modes.includes("ro");
  const dst = checkTarget("volume", text, target);
  if (source === undefined) return { type: "volume", target: dst, readonly, nocopy: modes.includes("nocopy") };
  if (source.startsWith("/") || source.startsWith(".")) {
    return { type: "bind", source: path.resolve(cwd, source), target: dst, readonly };
  }
  if (!isVolumeName(source)) bad("volume", text, `"${source}" is not a valid volume name (use an absolute path for a bind mount)`);
  return { type: "volume", name: source, target: dst, readonly, nocopy: modes.includes("nocopy") };
}

/** tmpfs options as mount(8) takes them: flags by name, the rest as data. */
export function tmpfsOptions(opts: string[], text: string, kind = "tmpfs"): { flags: number; data: string } {
  let flags = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  const data: string[] = [];
  for (const o of opts) {
    switch (o) {
      case "ro": flags |= MS.RDONLY; break;
      case "rw": flags &= ~MS.RDONLY; break;
      case "exec": flags &= ~MS.NOEXEC; break;
      case "noexec": flags |= MS.NOEXEC; break;
      case "suid": flags &= ~MS.NOSUID; break;
      case "nosuid": flags |= MS.NOSUID; break;
      case "dev": flags &= ~MS.NODEV; break;
      case "nodev": flags |= MS.NODEV; break;
      case "": break;
      default:
        if (!/^(size|mode|uid|gid|nr_inodes|nr_blocks)=[0-9a-zA-Z%]+$/.test(o)) bad(kind, text, `unknown option "${o}"`);
        data.push(o);
    }
  }
  if (!data.some((d) => d.startsWith("size="))) data.push("size=65536k");
  return { flags, data: data.join(",") };
}

/** `--tmpfs /path[:opts]` */
export function parseTmpfsFlag(text: string): VolumeSpec {
  const i = text.indexOf(":");
  const target = i < 0 ? text : text.slice(0, i);
  const opts = i < 0 ? [] : text.slice(i + 1).split(",");
  return { type: "tmpfs", target: checkTarget("tmpfs", text, target), ...tmpfsOptions(opts, text) };
}

/**
 * One line of comma-separated fields as Go's encoding/csv reads it (Docker's --mount): a field in
 * double quotes keeps its commas, `""` in it is one quote, a quote elsewhere is refused.
 */
function csvFields(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (text[i] === '"') {
      for (i++; ; i++) {
        if (i >= text.length) bad("mount", text, 'extraneous or missing " in quoted-field');
        if (text[i] !== '"') field += text[i];
        else if (text[i + 1] === '"') field += text[i++];
        else break;
      }
      i++;
      if (i < text.length && text[i] !== ",") bad("mount", text, `extraneous or missing " in quoted-field`);
    } else {
      const end = text.indexOf(",", i);
      field = text.slice(i, end < 0 ? text.length : end);
      if (field.includes('"')) bad("mount", text, 'bare " in non-quoted-field');
      i += field.length;
    }
    out.push(field);
    if (i >= text.length) return out;
    i++; // the comma
  }
}

/** `--mount type=bind,source=…,target=…[,readonly]` (and volume, tmpfs). */
export function parseMountFlag(text: string, cwd = "/"): VolumeSpec {
  const kv = new Map<string, string>();
  // volume-opt=K=V, as often as wanted: the options of the volume the mount creates (Docker's
  // DriverConfig.Options; an existing volume keeps its own).
  let volumeOpts: Record<string, string> | undefined;
  for (const field of csvFields(text)) {
    const eq = field.indexOf("=");
    const k = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? "true" : field.slice(eq + 1);
    if (!k) bad("mount", text, "empty field");
    kv.set(k, v);
    const sep = v.indexOf("=");
    if (k === "volume-opt" && sep !== 0) volumeOpts = { ...volumeOpts, [sep < 0 ? v : v.slice(0, sep)]: sep < 0 ? "" : v.slice(sep + 1) };
  }
  const type = kv.get("type") ?? "volume";
  const target = kv.get("target") ?? kv.get("destination") ?? kv.get("dst");
  if (!target) bad("mount", text, "target is required");
  const source = kv.get("source") ?? kv.get("src");
  const ro = kv.get("readonly") ?? kv.get("ro");
  if (ro !== undefined && !["true", "false", "1", "0"].includes(ro)) bad("mount", text, `invalid readonly value "${ro}"`);
  const readonly = ro === "true" || ro === "1";
  const known = new Set(["type", "target", "destination", "dst", "source", "src", "readonly", "ro", "bind-propagation", "volume-nocopy", "volume-opt", "tmpfs-size", "tmpfs-mode", "consistency"]);
  for (const k of kv.keys()) if (!known.has(k)) bad("mount", text, `unknown field "${k}"`);
  const dst = checkTarget("mount", text, target);
  // Accepted, and kept private: the container's mounts never propagate to the host.
  const propagation = kv.get("bind-propagation");
  if (propagation !== undefined && !PROPAGATION.has(propagation)) bad("mount", text, `invalid propagation mode: ${propagation}`);
  if (kv.has("volume-opt") && type !== "volume") bad("mount", text, `cannot mix 'volume-*' options with mount type '${type}'`);
  switch (type) {
    case "bind":
      if (!source) bad("mount", text, "source is required for a bind mount");
      if (!source.startsWith("/") && !source.startsWith(".")) bad("mount", text, `bind source "${source}" is not a path`);
      return { type: "bind", source: path.resolve(cwd, source), target: dst, readonly };
    case "volume":
      if (source !== undefined && !isVolumeName(source)) bad("mount", text, `"${source}" is not a valid volume name`);
      return {
        type: "volume",
        ...(source === undefined ? {} : { name: source }),
        target: dst,
        readonly,
        nocopy: kv.get("volume-nocopy") === "true",
        ...(volumeOpts ? { options: volumeOpts } : {}),
      };
    case "tmpfs": {
      if (source) bad("mount", text, "a tmpfs mount takes no source");
      const opts: string[] = [];
      const size = kv.get("tmpfs-size");
      if (size) opts.push(`size=${size}`);
      const mode = kv.get("tmpfs-mode");
      if (mode) opts.push(`mode=${mode}`);
      if (readonly) opts.push("ro");
      return { type: "tmpfs", target: dst, ...tmpfsOptions(opts, text, "mount") };
    }
    default:
      bad("mount", text, `unknown type "${type}" (bind, volume or tmpfs)`);
  }
}

/**
 * The image's VOLUMEs as Docker adds them to a run: an anonymous volume for each path no mount of
 * the run already targets; a path a run's `-v` could not take (relative, /, /proc, /sys) fails.
 */
export function withImageVolumes(specs: VolumeSpec[], imageVolumes: Record<string, unknown> | null | undefined): VolumeSpec[] {
  const taken = new Set(specs.map((s) => s.target));
  const out = [...specs];
  for (const p of Object.keys(imageVolumes ?? {}).sort()) {
    // Dockerfiles write `VOLUME /data/` as often as `/data`: one path.
    const target = checkTarget("image volume", p, p.length > 1 ? p.replace(/\/+$/, "") : p);
    if (taken.has(target)) continue;
    taken.add(target);
    out.push({ type: "volume", target, readonly: false, nocopy: false });
  }
  return out;
}

/** The words of a mount's "o" that are flags (moby/sys/mount's table); the rest is the filesystem's data. */
const MOUNT_FLAGS: Record<string, [set: number, clear: number]> = {
  defaults: [0, 0],
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  suid: [0, MS.NOSUID],
  nosuid: [MS.NOSUID, 0],
  dev: [0, MS.NODEV],
  nodev: [MS.NODEV, 0],
  exec: [0, MS.NOEXEC],
  noexec: [MS.NOEXEC, 0],
  atime: [0, MS.NOATIME],
  noatime: [MS.NOATIME, 0],
  strictatime: [MS.STRICTATIME, 0],
  bind: [MS.BIND, 0],
  rbind: [MS.BIND | MS.REC, 0],
};

/**
 * The mount a `volume create -d local --opt type=T --opt device=D --opt o=O` volume makes on its
 * directory at each use, as Docker's local driver: `o` split into flags and the filesystem's data
 * (o=bind: D bind-mounted, type "none").
 */
export function localVolumeMount(opts: Record<string, string>): { fstype: string | null; source: string; flags: number; data: string | null } {
  const device = opts.device ?? "";
  if (device === "") throw new ParseError("missing device in volume options");
  let flags = 0;
  const data: string[] = [];
  for (const o of (opts.o ?? "").split(",")) {
    if (o === "") continue;
    const f = MOUNT_FLAGS[o];
    if (f) flags = (flags | f[0]) & ~f[1];
    else data.push(o);
  }
  const bind = (flags & MS.BIND) !== 0;
  return { fstype: bind || opts.type === "none" ? null : (opts.type ?? null), source: device, flags, data: data.length ? data.join(",") : null };
}
