// Port publishing for a container: choose the host ports still open (`80`, `8080-8090:80`, -P),
// record them in the container's state.json (`ports`), and install the NAT rules (firewall.ts).
// One lock (network/ports.lock under the root) serializes allocation and rule changes, so two
// `run -p` at once never pick the same port nor interleave their batches.
import fs from "node:fs";
import path from "node:path";
import { dirNames, readJson, writeFileAtomic } from "../atomic.ts";
import type { Ctx } from "../context.ts";
import { AlreadyExistsError, errnoCode, FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from "../errors.ts";
import { recordJson } from "../store/containers.ts";
import { withLock } from "../store/lock.ts";
import { LOCK_EX } from "../sys/sys.ts";
import { foreignIds, otherRoots } from "../store/owners.ts";
import { hostFirewall, type Firewall } from "./firewall.ts";
import { portsLockFile } from "./hostnet.ts";
import { formatHostAddress, type PortBinding, type Protocol } from "./portspec.ts";
import { SERVICE_GUARD_PREFIX } from "./rules.ts";

export const DEFAULT_BRIDGE = "tinydock0";

export interface PublishRequest {
  id: string;
  /** The container's IPv4 address. */
  ip: string;
  bindings: PortBinding[];
  /** The bridge its veth is on (default tinydock0). */
  bridge?: string;
  /** The bridge's subnet (CIDR), for hairpin from other containers; default the container's ip/32. */
  subnet?: string;
}

export interface PortsOptions {
  /** Default: the host's firewall, backend detected. */
  firewall?: Firewall;
  /** Whether nothing on the host uses the port (default: try to bind it, TCP or UDP). */
  isFree?: (port: number, protocol: Protocol, hostIp: string) => Promise<boolean>;
  /** Where random host ports come from (default /proc/sys/net/ipv4/ip_local_port_range). */
  range?: [number, number];
  /** Default Math.random; tests pass a seeded one. */
  random?: () => number;
}

function containerDir(root: string, id: string): string {
  if (!/^[a-f0-9]{64}$/.test(id)) throw new NotFoundError(`No such container: ${id}`);
  return path.join(root, "containers", id);
}

/** Host-wide per netns (hostnet.ts): every root's rules are in the one firewall. */
function lockFile(ctx: Ctx): string {
  return portsLockFile(ctx);
}

/** The Linux ephemeral range, as Docker allocates from it. */
export function ephemeralRange(file = "/proc/sys/net/ipv4/ip_local_port_range"): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync(file, "utf8").trim().split(/\s+/).map(Number);
    if (lo && hi && lo <= hi && hi <= 65535) return [lo, hi];
  } catch {
    // no /proc: Linux's default
  }
  return [32768, 60999];
}

/** Binds the port for a moment: free when the kernel lets us (SCTP is not checked). */
export async function portIsFree(port: number, protocol: Protocol, hostIp: string): Promise<boolean> {
  const hostname = hostIp === "" ? "0.0.0.0" : hostIp;
  try {
    if (protocol === "tcp") {
      const l = Bun.listen({ hostname, port, socket: { data() {} } });
      l.stop(true);
    } else if (protocol === "udp") {
      const s = await Bun.udpSocket({ hostname, port });
      s.close();
    }
    return true;
  } catch (err) {
    // Docker fails the same way when it binds: the address is not the host's.
    if (errnoCode(err) === "EADDRNOTAVAIL") {
      throw new InvalidArgumentError(`Cannot publish port ${port}/${protocol} on ${hostname}: the host has no such address`);
    }
    return false;
  }
}

/** The bindings recorded in a container's state.json (empty when none). */
export function readPorts(root: string, id: string): PortBinding[] {
  const state = readJson<{ ports?: PortBinding[] }>(path.join(containerDir(root, id), "state.json"));
  return state?.ports ?? [];
}

function writePorts(root: string, id: string, ports: PortBinding[] | undefined): void {
  const file = path.join(containerDir(root, id), "state.json");
  const state = readJson<Record<string, unknown>>(file);
  if (!state) throw new NotFoundError(`No such container: ${id}`);
  if (ports === undefined) delete state.ports;
  else state.ports = ports;
  writeFileAtomic(file, recordJson(state));
}

/** Every binding other containers hold, in this root and the other roots of the host, with the owner. */
function publishedElsewhere(ctx: Ctx, except: string): { owner: string; binding: PortBinding }[] {
  return [ctx.root, ...otherRoots(ctx)].flatMap((root) => publishedIn(root, except));
}

function publishedIn(root: string, except: string): { owner: string; binding: PortBinding }[] {
  const dir = path.join(root, "containers");
  const names = dirNames(dir);
  const out: { owner: string; binding: PortBinding }[] = [];
  for (const n of names) {
    if (n === except || !/^[a-f0-9]{64}$/.test(n)) continue;
    let ports: PortBinding[] = [];
    try {
      ports = readPorts(root, n);
    } catch {
      continue;
    }
    for (const binding of ports) out.push({ owner: n, binding });
  }
  return out;
}

/** Same port and protocol, and addresses that overlap (0.0.0.0 overlaps every address). */
function overlaps(a: PortBinding, b: PortBinding): boolean {
  return a.hostPort === b.hostPort && a.protocol === b.protocol && (a.hostIp === "" || b.hostIp === "" || a.hostIp === b.hostIp);
}

/**
 * Concrete host ports for every binding: explicit ones checked against other containers' bindings
 * and the host's listeners, random ones drawn from `range` (ranges `8080-8090:80` from theirs).
 */
export async function allocateHostPorts(
  bindings: PortBinding[],
  taken: PortBinding[],
  opts: { isFree: PortsOptions["isFree"] & {}; range: [number, number]; random: () => number },
): Promise<PortBinding[]> {
  const used = [...taken];
  const out: PortBinding[] = [];
  const usable = async (b: PortBinding): Promise<boolean> => !used.some((u) => overlaps(u, b)) && (await opts.isFree(b.hostPort, b.protocol, b.hostIp));
  for (const b of bindings) {
    if (b.hostIp.includes(":")) {
      throw new InvalidArgumentError(`Cannot publish port "[${b.hostIp}]:${b.hostPort || ""}:${b.containerPort}": IPv6 port publishing is not supported`);
    }
    if (b.hostPort !== 0 && b.hostPortEnd === undefined) {
      const fixed = { hostIp: b.hostIp, hostPort: b.hostPort, containerPort: b.containerPort, protocol: b.protocol };
      if (used.some((u) => overlaps(u, fixed))) {
        throw new AlreadyExistsError(`Bind for ${formatHostAddress(fixed)} failed: port is already allocated`);
      }
      if (!(await opts.isFree(fixed.hostPort, fixed.protocol, fixed.hostIp))) {
        throw new AlreadyExistsError(`Cannot publish ${formatHostAddress(fixed)}/${fixed.protocol}: address already in use`);
      }
      used.push(fixed);
      out.push(fixed);
      continue;
    }
    const [lo, hi] = b.hostPort === 0 ? opts.range : [b.hostPort, b.hostPortEnd!];
    const size = hi - lo + 1;
    // A random start, then every port once: bounded, and fair when the range is nearly full.
    const start = Math.floor(opts.random() * size);
    let found: PortBinding | undefined;
    for (let i = 0; i < size; i++) {
      const candidate = { hostIp: b.hostIp, hostPort: lo + ((start + i) % size), containerPort: b.containerPort, protocol: b.protocol };
      if (await usable(candidate)) {
        found = candidate;
        break;
      }
    }
    if (!found) {
      const where = b.hostPort === 0 ? `the ephemeral range ${lo}-${hi}` : `${lo}-${hi}`;
      throw new UnavailableError(`Cannot publish port ${b.containerPort}/${b.protocol}: no free host port in ${where}`);
    }
    used.push(found);
    out.push(found);
  }
  return out;
}

/**
 * Publishes a container's ports: host ports chosen, state.json `ports` written, rules installed
 * (one batch). Returns the concrete bindings. On failure nothing of it is left.
 */
export async function publishPorts(ctx: Ctx, req: PublishRequest, opts: PortsOptions = {}): Promise<PortBinding[]> {
  if (req.bindings.length === 0) return [];
  containerDir(ctx.root, req.id);
  const firewall = opts.firewall ?? hostFirewall();
  return await withLock(ctx, lockFile(ctx), async () => {
    const bindings = await allocateHostPorts(req.bindings, publishedElsewhere(ctx, req.id).map((p) => p.binding), {
      isFree: opts.isFree ?? portIsFree,
      range: opts.range ?? ephemeralRange(),
      random: opts.random ?? Math.random,
    });
    // State first: a crash after it leaves rules that unpublishPorts/reconcile find by comment.
    writePorts(ctx.root, req.id, bindings);
    try {
      firewall.publish({ id: req.id, ip: req.ip, bridge: req.bridge ?? DEFAULT_BRIDGE, subnet: req.subnet, bindings });
      firewall.forgetUdpFlows(bindings);
    } catch (err) {
      try {
        firewall.remove([req.id]);
      } catch {
        // the batch never went in
      }
      try {
        writePorts(ctx.root, req.id, undefined);
      } catch {
        // the container is gone meanwhile
      }
      throw err;
    }
    return bindings;
  });
}

/** The ports lock, waited for by blocking (flock without LOCK_NB): for callers that cannot await. */
function withLockSync<T>(ctx: Ctx, fn: () => T): T {
  const fd = fs.openSync(lockFile(ctx), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    ctx.sys.flock(fd, LOCK_EX);
    return fn();
  } finally {
    fs.closeSync(fd); // closing the last fd releases the flock
  }
}

/**
 * Removes the container's rules (one batch; our chains too when they end empty), forgets its UDP
 * flows and clears its `ports`. Idempotent. Synchronous, for run's undo list and teardown.
 */
export function unpublishPortsSync(ctx: Ctx, id: string, opts: Pick<PortsOptions, "firewall"> = {}): void {
  const firewall = opts.firewall ?? hostFirewall();
  withLockSync(ctx, () => {
    let bindings: PortBinding[] = [];
    try {
      bindings = readPorts(ctx.root, id);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    firewall.remove([id]);
    // Flows still translated to the container would keep going to its (soon reused) address.
    firewall.forgetUdpFlows(bindings);
    if (bindings.length > 0) writePorts(ctx.root, id, undefined);
  });
}

/** unpublishPortsSync for async callers. */
export async function unpublishPorts(ctx: Ctx, id: string, opts: Pick<PortsOptions, "firewall"> = {}): Promise<void> {
  unpublishPortsSync(ctx, id, opts);
}

/**
 * Removes the rules of containers that are gone (no directory, or not in `keep` when given: the
 * lifecycle's reconcile passes the containers it keeps), all in one batch. Returns their ids.
 * Rules of another root's containers look the same: those ids (owners.ts) are left alone.
 */
export async function reconcilePorts(ctx: Ctx, opts: Pick<PortsOptions, "firewall"> & { keep?: Set<string> } = {}): Promise<string[]> {
  let firewall: Firewall;
  try {
    firewall = opts.firewall ?? hostFirewall();
  } catch (err) {
    // No iptables nor nft on this host: no rule of ours can exist.
    if (err instanceof FailedPreconditionError) return [];
    throw err;
  }
  return withLockSync(ctx, () => {
    const gone = (id: string) =>
      !id.startsWith(SERVICE_GUARD_PREFIX) && !/^[a-f0-9]{64}$/.test(id) || !fs.existsSync(path.join(ctx.root, "containers", id)) || (opts.keep !== undefined && !opts.keep.has(id));
    const foreign = foreignIds(ctx);
    const orphans = [...firewall.ids()].filter((id) => gone(id) && !foreign.has(id));
    if (orphans.length > 0) firewall.remove(orphans);
    return orphans;
  });
}

/**
 * The localnet guards of one root's NodePort Services (`prefix`: SERVICE_GUARD_PREFIX and the
 * owner): exactly one per bridge in `bridges`, so that 127.0.0.1:<nodePort> reaches their endpoints
 * (route_localnet on, as for a port published on 127.0.0.1) and route_localnet goes off with the
 * last guard of a bridge. Reconcile leaves these ids to the Services.
 */
export function syncServiceGuards(ctx: Ctx, prefix: string, bridges: string[], opts: Pick<PortsOptions, "firewall"> = {}): void {
  let firewall: Firewall;
  try {
    firewall = opts.firewall ?? hostFirewall();
  } catch (err) {
    if (bridges.length === 0 && err instanceof FailedPreconditionError) return;
    throw err;
  }
  withLockSync(ctx, () => {
    const want = new Set(bridges.map((b) => `${prefix}${b}`));
    const have = [...firewall.ids()].filter((id) => id.startsWith(prefix));
    const extra = have.filter((id) => !want.has(id));
    if (extra.length > 0) firewall.remove(extra);
    for (const b of bridges) if (!have.includes(`${prefix}${b}`)) firewall.guard(`${prefix}${b}`, b);
  });
}
