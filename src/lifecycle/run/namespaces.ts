// --ipc, --pid, --uts, --cgroupns: which of the container's namespaces are its own, the host's, or
// another container's (joined through its PID 1's /proc/<pid>/ns file, as Docker joins them).
import path from "node:path";
import { FailedPreconditionError, InvalidArgumentError, isKind, ParseError } from "../../errors.ts";
import type { Namespace, RunPlan } from "../../runtime/plan.ts";
import { nsJoinPath, type ProcessRef } from "../../sys/procfs.ts";
import { MS } from "../../sys/sys.ts";

export interface NamespaceModes {
  /** private (default) | shareable | host | none | container:NAME */
  ipc: string;
  /** private (default) | host | container:NAME */
  pid: string;
  /** private (default) | host | container:NAME */
  uts: string;
  /** private (default) | host */
  cgroupns: string;
}

export const DEFAULT_NAMESPACE_MODES: NamespaceModes = { ipc: "private", pid: "private", uts: "private", cgroupns: "private" };

const ALLOWED: Record<keyof NamespaceModes, string[]> = {
  ipc: ["private", "shareable", "host", "none"],
  pid: ["private", "host"],
  uts: ["private", "host"],
  cgroupns: ["private", "host"],
};

/** One flag's value ("" = the default); Docker's words in the errors. */
export function parseNamespaceMode(flag: keyof NamespaceModes, input: string | undefined): string {
  if (input === undefined || input === "") return "private";
  if (ALLOWED[flag].includes(input)) return input;
  if (flag !== "cgroupns" && input.startsWith("container:")) {
    if (input.length === "container:".length) throw new ParseError(`Cannot parse --${flag} "${input}": no container named after "container:"`);
    return input;
  }
  throw new ParseError(`Cannot parse --${flag} "${input}": invalid ${flag === "cgroupns" ? "cgroup namespace" : flag.toUpperCase()} mode (${ALLOWED[flag].join(", ")}${flag === "cgroupns" ? "" : ", container:NAME"})`);
}

export function parseNamespaceModes(flags: Partial<Record<keyof NamespaceModes, string | undefined>>): NamespaceModes {
  return {
    ipc: parseNamespaceMode("ipc", flags.ipc),
    pid: parseNamespaceMode("pid", flags.pid),
    uts: parseNamespaceMode("uts", flags.uts),
    cgroupns: parseNamespaceMode("cgroupns", flags.cgroupns),
  };
}

/** The modes' effect on the namespaces created at clone: host and container: create none. */
export function ownNamespaces(modes: NamespaceModes): Set<Namespace> {
  const own = new Set<Namespace>();
  if (modes.ipc === "private" || modes.ipc === "shareable" || modes.ipc === "none") own.add("ipc");
  if (modes.pid === "private") own.add("pid");
  if (modes.uts === "private") own.add("uts");
  if (modes.cgroupns === "private") own.add("cgroup");
  return own;
}

/** The target containers' PID 1s, by the name in each `container:NAME` mode. */
/** The PID 1 of a container by name or id: its pid, with its start time when known (the join then checks it). */
export type ResolvePid1 = (nameOrId: string) => number | ProcessRef;

/** --ipc container:NAME: the /dev/shm that container shares (a host path), or null: a /dev/shm of the joiner's own. */
export type ResolveShm = (nameOrId: string) => string | null;

/** A shareable container's /dev/shm on the host: a tmpfs in its directory (Docker's ShmPath). */
export function shareableShm(dir: string): string {
  return path.join(dir, "shm");
}

/**
 * What a donor of --ipc container:NAME shares as /dev/shm, from its record (pure): a shareable one
 * its tmpfs, a host one the host's, a joiner what it joined (`chained`); a pod's infra (a pause
 * process, no IpcMode recorded) none, each member keeping its own. Else Docker's refusal.
 */
export function donorShm(ref: string, rec: { hostConfig?: Record<string, unknown>; pod?: string }, dir: string, chained: ResolveShm): string | null {
  const mode = rec.hostConfig?.IpcMode;
  if (mode === "shareable") return shareableShm(dir);
  if (mode === "host") return "/dev/shm";
  if (typeof mode === "string" && mode.startsWith("container:")) return chained(mode.slice("container:".length));
  if (mode === undefined && rec.pod) return null;
  throw new InvalidArgumentError(`Cannot join IPC of container "${ref}": non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
}

/**
 * The plan with the modes applied: namespaces not made are the host's or joined by path. A pid join
 * is made by the parent for the clone (a process cannot enter a PID namespace itself, only have its
 * children born there): the container's process is one more in the other container's namespace.
 */
export function applyNamespaceModes(plan: RunPlan, modes: NamespaceModes, pid1Of: ResolvePid1, shmOf: ResolveShm = () => null): void {
  const own = ownNamespaces(modes);
  plan.namespaces = plan.namespaces.filter((n) => !["ipc", "pid", "uts", "cgroup"].includes(n) || own.has(n));
  const joins = [...(plan.joinNamespaces ?? [])];
  for (const [flag, ns] of [["ipc", "ipc"], ["uts", "uts"], ["pid", "pid"]] as const) {
    const mode = modes[flag];
    if (!mode.startsWith("container:")) continue;
    joins.push({ ns, path: nsJoinPath(pid1Of(mode.slice("container:".length)), ns) });
  }
  // /dev/shm: the host's, or the donor's (its tmpfs on the host: one in its own mount namespace
  // could not be bind-mounted from here, EINVAL), as Docker bind-mounts the donor's ShmPath.
  const shared = modes.ipc === "host" ? "/dev/shm" : modes.ipc.startsWith("container:") ? shmOf(modes.ipc.slice("container:".length)) : null;
  if (shared) bindShm(plan, shared);
  if (modes.ipc === "none") plan.mounts = plan.mounts.filter((m) => m.target !== "/dev/shm");
  if (joins.length) plan.joinNamespaces = joins;
}

/** The plan's /dev/shm made a bind of `source` (a host path). */
export function bindShm(plan: RunPlan, source: string): void {
  const shm = plan.mounts.findIndex((m) => m.target === "/dev/shm");
  if (shm >= 0) plan.mounts[shm] = { source, target: "/dev/shm", fstype: null, flags: MS.BIND | MS.REC, data: null };
}

export function allPrivate(modes: NamespaceModes): boolean {
  return modes.ipc === "private" && modes.pid === "private" && modes.uts === "private" && modes.cgroupns === "private";
}

/** --pid container:NAME: the PID namespace the early init must clone the container's process into. */
export function pidNamespaceToJoin(modes: NamespaceModes, pid1Of: ResolvePid1): string | undefined {
  return modes.pid.startsWith("container:") ? nsJoinPath(pid1Of(modes.pid.slice("container:".length)), "pid") : undefined;
}

const DONORS = [
  ["IpcMode", "ipc", "IPC"],
  ["PidMode", "pid", "PID"],
  ["UTSMode", "uts", "UTS"],
] as const;

/**
 * `start` of a container made with --ipc/--pid/--uts container:X (pure): X looked up again and its
 * namespaces of now joined, as Docker's start does (X may have been restarted: a new PID 1). Not
 * running: Docker's refusal, `failed to join IPC namespace: container X is not running`.
 */
export function rejoinDonors(plan: RunPlan, hostConfig: Record<string, unknown>, donor: (ref: string) => ProcessRef | undefined): boolean {
  if (!plan.joinNamespaces) return false;
  const moved = new Map<string, ProcessRef>();
  for (const [key, ns, word] of DONORS) {
    const mode = hostConfig[key];
    if (typeof mode !== "string" || !mode.startsWith("container:")) continue;
    const ref = mode.slice("container:".length);
    let pid: ProcessRef | undefined;
    try {
      pid = donor(ref);
    } catch (err) {
      // Removed since: Docker's words wrap the lookup's ("No such container: X").
      if (isKind(err, "NotFound")) throw new InvalidArgumentError(`failed to join ${word} namespace: ${(err as Error).message}`, { cause: err });
      throw err;
    }
    if (!pid) throw new FailedPreconditionError(`failed to join ${word} namespace: container ${ref} is not running`);
    moved.set(ns, pid);
  }
  if (moved.size === 0) return false;
  plan.joinNamespaces = plan.joinNamespaces.map((j) => {
    const pid = moved.get(j.ns);
    return pid ? { ...j, path: nsJoinPath(pid, j.ns) } : j;
  });
  return true;
}

export function pid1OrFail(name: string, pid: number | undefined, running: boolean): number {
  if (!pid || !running) throw new FailedPreconditionError(`Cannot join container "${name}": it is not running`);
  return pid;
}
