// RunPlan → the bytes src/sys/init.c parses (and the numbers it reports back). Pure.
//
// Little-endian throughout. A string is u32 length + UTF-8 bytes + NUL (the C side checks the NUL
// and the absence of any other, then points into the buffer); 0xFFFFFFFF stands for null where a
// field allows it. A list is u32 count + items. The plan starts and ends with the magic "TDP1", so
// a truncated or misaligned buffer is refused. Field order = RunPlan order = parse() in init.c.
import { InvalidArgumentError } from "../errors.ts";
import type { ContainerMount, Namespace, RunPlan } from "./plan.ts";

export const PLAN_MAGIC = 0x31504454; // "TDP1"
export const NULL_LENGTH = 0xffffffff;

export const CLONE_FLAGS: Record<Namespace, number> = {
  time: 0x80,
  mnt: 0x20000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  pid: 0x20000000,
  net: 0x40000000,
};

/** The namespaces an early init may be cloned into before its plan exists (Sys.startEarly). */
export const EARLY_NAMESPACES: readonly Namespace[] = ["pid", "mnt", "uts", "ipc", "net"];

/** Clone flags for those of `namespaces` an early init may be cloned into. */
export function earlyCloneFlags(namespaces: readonly Namespace[]): number {
  return namespaces.filter((n) => EARLY_NAMESPACES.includes(n)).reduce((f, n) => f | CLONE_FLAGS[n], 0) >>> 0;
}

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const MAX_BPF_INSTRUCTIONS = 4096;

/** Where the init stopped: the `enum stage` of src/sys/init/report.c, in the same order. */
export enum InitStage {
  Prctl = 1,
  Propagation,
  Cgroup,
  Unshare,
  OomScoreAdj,
  Hostname,
  Loopback,
  Rootfs,
  MountTarget,
  Mount,
  Remount,
  Device,
  Symlink,
  Cwd,
  PivotRoot,
  Mask,
  Readonly,
  ReadonlyRoot,
  Rlimit,
  Bounding,
  Setgroups,
  Setgid,
  Setuid,
  Capset,
  Ambient,
  NoNewPrivs,
  Chdir,
  Tty,
  Stdio,
  CloseFds,
  Seccomp,
  Fork,
  Exec,
  Signals,
  JoinNamespace,
  Sysctl,
}

/** The namespaces a plan may join by path (see RunPlan.joinNamespaces). */
export const JOINABLE_NAMESPACES: readonly Namespace[] = ["net", "ipc", "uts", "cgroup", "pid"];

/**
 * The plan's bytes, grown as needed. Strings go straight into the buffer (Buffer.write: no
 * TextEncoder array per string); a plan holds a hundred or so, encoded before the waiting init
 * gets its plan.
 */
class Writer {
  private buf = Buffer.allocUnsafe(4096);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  u32(v: number, what: string): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new InvalidArgumentError(`Cannot encode the run plan: ${what} ${v} is not a 32-bit unsigned integer`);
    this.room(4);
    this.buf.writeUInt32LE(v, this.len);
    this.len += 4;
  }
  i32(v: number, what: string): void {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new InvalidArgumentError(`Cannot encode the run plan: ${what} ${v} is not a 32-bit integer`);
    this.room(4);
    this.buf.writeInt32LE(v, this.len);
    this.len += 4;
  }
  u64(v: bigint): void {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.len);
    this.len += 8;
  }
  str(s: string | null, what: string): void {
    if (s === null) {
      this.u32(NULL_LENGTH, what);
      return;
    }
    if (s.includes("\0")) throw new InvalidArgumentError(`Cannot encode the run plan: ${what} "${s.replaceAll("\0", "\\0")}" contains a NUL byte`);
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 for 2).
    this.room(4 + s.length * 3 + 1);
    const n = this.buf.write(s, this.len + 4, "utf8");
    this.buf.writeUInt32LE(n, this.len);
    this.len += 4 + n;
    this.buf[this.len++] = 0;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  strs(list: readonly string[], what: string): void {
    this.u32(list.length, `${what} count`);
    for (const s of list) this.str(s, what);
  }
  done(): Uint8Array {
    return new Uint8Array(this.buf.subarray(0, this.len));
  }
  get offset(): number {
    return this.len;
  }
}

function mount(w: Writer, m: ContainerMount | RunPlan["rootfs"]): void {
  const cm = m as ContainerMount & { cwd?: string };
  w.str(m.source, "mount source");
  w.str(m.target, "mount target");
  w.str(m.fstype, "mount type");
  w.u32(m.flags >>> 0, "mount flags");
  w.str(m.data, "mount data");
  w.str(cm.cwd ?? null, "mount cwd");
  w.u32((cm.remountFlags ?? 0) >>> 0, "remount flags");
  w.u32(cm.targetKind === "file" ? 1 : 0, "mount target kind");
}

function absolute(p: string, what: string): void {
  if (!p.startsWith("/")) throw new InvalidArgumentError(`Cannot encode the run plan: ${what} "${p}" is not an absolute path`);
}

/** -1 (unlimited) is RLIM_INFINITY. */
function rlimitValue(v: number): bigint {
  return v < 0 ? 0xffffffffffffffffn : BigInt(v);
}

export function encodePlan(plan: RunPlan): Uint8Array {
  return encodePlanAt(plan).bytes;
}

/** The plan's bytes and where its stdio and console socket fds (four i32) are in them. */
export interface EncodedPlan {
  bytes: Uint8Array;
  fdsAt: number;
}

/**
 * The same bytes as encodePlan of the plan without the caller's fds (stdio and console socket -1),
 * as kept for `exec` and `start`: a copy of the encoding with those four numbers replaced, instead
 * of a second encoding (~0.8M instructions of a foreground run).
 */
export function withoutCallerFds(encoded: EncodedPlan): Uint8Array {
  const out = encoded.bytes.slice();
  out.fill(0xff, encoded.fdsAt, encoded.fdsAt + 16); // four i32 -1, little-endian
  return out;
}

export function encodePlanAt(plan: RunPlan): EncodedPlan {
  if (!plan.namespaces.includes("mnt")) {
    throw new InvalidArgumentError("Cannot encode the run plan: a container needs its own mount namespace");
  }
  if (plan.args.length === 0) throw new InvalidArgumentError("Cannot encode the run plan: no command");
  absolute(plan.cwd, "working directory");
  absolute(plan.rootfsPath, "rootfs path");
  for (const m of plan.mounts) absolute(m.target, "mount target");
  for (const d of plan.devices) absolute(d.path, "device");
  for (const l of plan.symlinks) absolute(l.path, "symlink");
  const seccomp = plan.seccomp;
  if (seccomp && (seccomp.length === 0 || seccomp.length % 8 !== 0 || seccomp.length / 8 > MAX_BPF_INSTRUCTIONS)) {
    throw new InvalidArgumentError(`Cannot encode the run plan: a seccomp program of ${seccomp.length} bytes is not 1 to ${MAX_BPF_INSTRUCTIONS} instructions of 8 bytes`);
  }

  const joins = plan.joinNamespaces ?? [];
  for (const j of joins) {
    if (!JOINABLE_NAMESPACES.includes(j.ns)) throw new InvalidArgumentError(`Cannot encode the run plan: cannot join a ${j.ns} namespace by path (only ${JOINABLE_NAMESPACES.join(", ")})`);
    absolute(j.path, `${j.ns} namespace path`);
  }
  const sysctls = plan.sysctls ?? [];
  for (const s of sysctls) {
    if (!s.path.startsWith("/proc/sys/") || s.path.split("/").includes("..")) throw new InvalidArgumentError(`Cannot encode the run plan: sysctl path "${s.path}" is not under /proc/sys`);
  }
  // A namespace joined is not also created: its clone flag goes.
  const created = plan.namespaces.filter((ns) => !joins.some((j) => j.ns === ns));

  const w = new Writer();
  w.u32(PLAN_MAGIC, "magic");
  w.u32(created.reduce((flags, ns) => flags | CLONE_FLAGS[ns], 0) >>> 0, "namespaces");
  w.str(plan.hostname, "hostname");
  mount(w, plan.rootfs);
  w.str(plan.rootfsPath, "rootfs path");
  w.u32(plan.mounts.length, "mount count");
  for (const m of plan.mounts) mount(w, m);
  w.strs(plan.maskedPaths, "masked path");
  w.strs(plan.readonlyPaths, "read-only path");
  w.u32(plan.readonlyRoot ? 1 : 0, "read-only root");
  w.u32(plan.devices.length, "device count");
  for (const d of plan.devices) {
    w.str(d.path, "device path");
    w.u32((d.type === "b" ? S_IFBLK : S_IFCHR) | (d.mode & 0o7777), "device mode");
    w.u32(d.major, "device major");
    w.u32(d.minor, "device minor");
    w.u32(d.uid, "device uid");
    w.u32(d.gid, "device gid");
  }
  w.u32(plan.symlinks.length, "symlink count");
  for (const l of plan.symlinks) {
    w.str(l.target, "symlink target");
    w.str(l.path, "symlink path");
  }
  w.strs(plan.cgroupProcs, "cgroup.procs file");
  w.u32(plan.uid, "uid");
  w.u32(plan.gid, "gid");
  w.u32(plan.additionalGids.length, "group count");
  for (const g of plan.additionalGids) w.u32(g, "additional gid");
  const c = plan.capabilities;
  for (const mask of [c.bounding, c.effective, c.permitted, c.inheritable, c.ambient]) w.u64(mask);
  w.u32(plan.noNewPrivileges ? 1 : 0, "no_new_privs");
  if (seccomp) {
    w.u32(seccomp.length / 8, "seccomp instructions");
    w.bytes(seccomp);
  } else {
    w.u32(NULL_LENGTH, "seccomp");
  }
  w.u32(plan.rlimits.length, "rlimit count");
  for (const r of plan.rlimits) {
    w.u32(r.resource, "rlimit resource");
    w.u64(rlimitValue(r.soft));
    w.u64(rlimitValue(r.hard));
  }
  w.strs(plan.args, "argument");
  w.strs(plan.env, "environment variable");
  w.str(plan.cwd, "working directory");
  const fdsAt = w.offset;
  for (const fd of plan.stdio) w.i32(fd, "stdio fd");
  w.i32(plan.consoleSocket, "console socket fd");
  w.u32(plan.consoleSize?.rows ?? 0, "console rows");
  w.u32(plan.consoleSize?.cols ?? 0, "console columns");
  w.u32(plan.init ? 1 : 0, "init");
  w.u32(plan.oomScoreAdj === null ? 0 : 1, "oom_score_adj");
  w.i32(plan.oomScoreAdj ?? 0, "oom_score_adj");
  w.u32(joins.length, "joined namespace count");
  for (const j of joins) {
    w.u32(CLONE_FLAGS[j.ns], "joined namespace");
    w.str(j.path, "joined namespace path");
  }
  w.u32(sysctls.length, "sysctl count");
  for (const s of sysctls) {
    w.str(s.path, "sysctl path");
    w.str(s.value, "sysctl value");
  }
  w.u32(PLAN_MAGIC, "magic");
  return { bytes: w.done(), fdsAt };
}

/**
 * The inverse of encodePlan, for a plan saved as bytes (containers/<id>/plan.bin): `start` needs it
 * to name a failed operation, `exec` to take the container's ids, capabilities and seccomp. Throws
 * InvalidArgumentError on bytes init.c would refuse. A namespace that was joined comes back in
 * joinNamespaces only (the encoding does not say it was also asked for).
 */
export function decodePlan(bytes: Uint8Array): RunPlan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder("utf-8", { fatal: true });
  let at = 0;
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`Cannot decode the run plan: ${why} at byte ${at}`);
  };
  const need = (n: number) => {
    if (at + n > bytes.length) bad("truncated");
  };
  const u32 = () => (need(4), (at += 4), view.getUint32(at - 4, true));
  const i32 = () => (need(4), (at += 4), view.getInt32(at - 4, true));
  const u64 = () => (need(8), (at += 8), view.getBigUint64(at - 8, true));
  const str = (nullable = false): string | null => {
    const n = u32();
    if (n === NULL_LENGTH && nullable) return null;
    need(n + 1);
    const b = bytes.subarray(at, at + n);
    if (bytes[at + n] !== 0 || b.includes(0)) bad("bad string");
    at += n + 1;
    return text.decode(b);
  };
  const s = () => str() as string;
  const list = <T>(item: () => T): T[] => {
    const n = u32();
    if (n > bytes.length - at) bad("bad count");
    return Array.from({ length: n }, item);
  };
  const mount = (): ContainerMount & { cwd?: string } => {
    const m: ContainerMount & { cwd?: string } = { source: str(true) ?? "", target: s(), fstype: str(true), flags: u32(), data: str(true) };
    const cwd = str(true);
    const remount = u32();
    const kind = u32();
    if (cwd !== null) m.cwd = cwd;
    if (remount) m.remountFlags = remount;
    if (kind === 1) m.targetKind = "file";
    return m;
  };
  const limit = (v: bigint) => (v === 0xffffffffffffffffn ? -1 : Number(v));
  const nsOf = (flag: number): Namespace => (Object.keys(CLONE_FLAGS) as Namespace[]).find((n) => CLONE_FLAGS[n] === flag) ?? bad(`unknown namespace ${flag}`);

  if (u32() !== PLAN_MAGIC) bad("bad magic");
  const ns = u32();
  const plan: RunPlan = {
    namespaces: (Object.keys(CLONE_FLAGS) as Namespace[]).filter((n) => ns & CLONE_FLAGS[n]),
    hostname: s(),
    rootfs: mount() as RunPlan["rootfs"],
    rootfsPath: s(),
    mounts: list(mount),
    maskedPaths: list(s),
    readonlyPaths: list(s),
    readonlyRoot: u32() === 1,
    devices: list(() => {
      const path = s();
      const mode = u32();
      return { path, type: (mode & 0o170000) === S_IFBLK ? ("b" as const) : ("c" as const), mode: mode & 0o7777, major: u32(), minor: u32(), uid: u32(), gid: u32() };
    }),
    symlinks: list(() => ({ target: s(), path: s() })),
    cgroupProcs: list(s),
    uid: u32(),
    gid: u32(),
    additionalGids: list(u32),
    capabilities: { bounding: u64(), effective: u64(), permitted: u64(), inheritable: u64(), ambient: u64() },
    noNewPrivileges: u32() === 1,
    seccomp: (() => {
      const n = u32();
      if (n === NULL_LENGTH) return null;
      need(n * 8);
      at += n * 8;
      return bytes.slice(at - n * 8, at);
    })(),
    rlimits: list(() => ({ resource: u32(), soft: limit(u64()), hard: limit(u64()) })),
    args: list(s),
    env: list(s),
    cwd: s(),
    stdio: [i32(), i32(), i32()],
    consoleSocket: i32(),
    ...((rows, cols) => (rows || cols ? { consoleSize: { rows, cols } } : {}))(u32(), u32()),
    init: u32() === 1,
    oomScoreAdj: u32() === 1 ? i32() : (i32(), null),
  };
  const joins = list(() => ({ ns: nsOf(u32()), path: s() }));
  if (joins.length) plan.joinNamespaces = joins;
  const sysctls = list(() => ({ path: s(), value: s() }));
  if (sysctls.length) plan.sysctls = sysctls;
  if (u32() !== PLAN_MAGIC || at !== bytes.length) bad("bad trailer");
  return plan;
}
