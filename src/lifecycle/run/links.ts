// --volumes-from and --link: what another container has, taken as Docker's daemon does: its mounts
// when this one is made (moby daemon/volumes.go registerMountPoints), a link's address when this one
// starts (daemon/links/links.go). The parsers and the env/hosts builders are pure; resolveShared and
// linksAtStart read the other containers' records.
import type { Ctx } from "../../context.ts";
import { InvalidArgumentError, isKind, ParseError } from "../../errors.ts";
import type { VolumeSpec } from "../../runtime/volumes.ts";
import { findContainer, type ContainerRecord } from "../../store/containers.ts";
import type { ExtraHost } from "../../store/network-record.ts";
import type { RunRequest } from "./request.ts";

/** Docker's container name rule: a link alias becomes a name (/me/alias) and a hosts-file word. */
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** `CONTAINER[:MODE]`: MODE ro or rw (with SELinux's z/Z, meaningless here); propagation and nocopy refused (moby ParseVolumesFrom). */
export function parseVolumesFrom(spec: string): { container: string; readonly: boolean } {
  if (spec === "") throw new ParseError("volumes-from specification cannot be an empty string");
  const i = spec.indexOf(":");
  const container = i < 0 ? spec : spec.slice(0, i);
  const modes = i < 0 ? [] : spec.slice(i + 1).split(",");
  const rw = modes.filter((m) => m === "ro" || m === "rw");
  if (rw.length > 1 || modes.some((m) => !["ro", "rw", "z", "Z"].includes(m))) throw new ParseError(`invalid mode: ${spec.slice(i + 1)}`);
  return { container, readonly: rw[0] === "ro" };
}

/** `NAME[:ALIAS]` (moby opts.ParseLink; also `/name:/parent/alias` as HostConfig.Links keeps it). */
export function parseLink(spec: string): { name: string; alias: string } {
  if (spec === "") throw new ParseError("empty string specified for links");
  const parts = spec.split(":");
  if (parts.length > 2) throw new ParseError(`bad format for links: ${spec}`);
  let [name, alias] = parts.length === 1 ? [spec, spec] : (parts as [string, string]);
  if (name.startsWith("/")) {
    name = name.slice(1);
    alias = alias.slice(alias.lastIndexOf("/") + 1);
  }
  if (!NAME_RE.test(alias)) throw new ParseError(`Invalid link alias (${alias}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return { name, alias };
}

/**
 * The other container's binds and volumes (not its tmpfs) at the same destinations; `readonly`
 * (:ro) makes them read-only, :rw keeps each one's own mode (Docker: RW = m.RW && mode != ro).
 * Named by their volume's name, never seeded again (Docker's CopyData false).
 */
export function volumesFromMounts(mounts: Record<string, unknown>[], readonly: boolean): VolumeSpec[] {
  const out: VolumeSpec[] = [];
  for (const m of mounts) {
    const ro = readonly || m.RW === false;
    const target = String(m.Destination);
    if (m.Type === "bind") out.push({ type: "bind", source: String(m.Source), target, readonly: ro });
    else if (m.Type === "volume") out.push({ type: "volume", name: String(m.Name), target, readonly: ro, nocopy: true });
  }
  return out;
}

/** Each destination once: the run's own -v/--mount win over --volumes-from (Docker's order), and a later --volumes-from over an earlier. */
export function mergeVolumesFrom(own: VolumeSpec[], from: VolumeSpec[]): VolumeSpec[] {
  const taken = new Set(own.map((v) => v.target));
  const byTarget = new Map<string, VolumeSpec>();
  for (const v of from) if (!taken.has(v.target)) byTarget.set(v.target, v);
  return [...byTarget.values(), ...own];
}

export interface LinkedContainer {
  /** "/other" */
  name: string;
  /** "/me/alias" */
  linkName: string;
  ip: string;
  hostname: string;
  /** Config.ExposedPorts keys: "8080/tcp". */
  ports: string[];
  /** Config.Env of the linked container. */
  env: string[];
}

const portOf = (p: string) => {
  const [n, proto] = p.split("/");
  return { port: Number(n), proto: proto ?? "tcp" };
};

/** Docker's link variables (links.go ToEnv): ALIAS_PORT, per port …_ADDR/_PORT/_PROTO, runs of ports as _START/_END, ALIAS_NAME, ALIAS_ENV_*. */
export function linkEnv(l: LinkedContainer): string[] {
  const alias = l.linkName.slice(l.linkName.lastIndexOf("/") + 1).toUpperCase().replaceAll("-", "_");
  // By number, tcp first on a tie (links.go getDefaultPort's order).
  const ports = l.ports.map(portOf).sort((a, b) => a.port - b.port || Number(b.proto === "tcp") - Number(a.proto === "tcp"));
  const env: string[] = [];
  const first = ports[0];
  if (first) env.push(`${alias}_PORT=${first.proto}://${l.ip}:${first.port}`);
  for (let i = 0; i < ports.length; ) {
    const p = ports[i]!;
    let j = i;
    while (j + 1 < ports.length && ports[j + 1]!.port === ports[j]!.port + 1 && ports[j + 1]!.proto === p.proto) j++;
    // Three ports or more in a row are also a range (links.go: j > i+1).
    if (j > i + 1) {
      const last = ports[j]!;
      const prefix = `${alias}_PORT_${p.port}_${p.proto.toUpperCase()}`;
      env.push(`${prefix}_START=${p.proto}://${l.ip}:${p.port}`, `${prefix}_ADDR=${l.ip}`, `${prefix}_PROTO=${p.proto}`, `${prefix}_PORT_START=${p.port}`);
      env.push(`${prefix}_END=${p.proto}://${l.ip}:${last.port}`, `${prefix}_PORT_END=${last.port}`);
    }
    i = j + 1;
  }
  for (const p of ports) {
    const prefix = `${alias}_PORT_${p.port}_${p.proto.toUpperCase()}`;
    env.push(`${prefix}=${p.proto}://${l.ip}:${p.port}`, `${prefix}_ADDR=${l.ip}`, `${prefix}_PORT=${p.port}`, `${prefix}_PROTO=${p.proto}`);
  }
  env.push(`${alias}_NAME=${l.linkName}`);
  for (const v of l.env) {
    const eq = v.indexOf("=");
    if (eq < 0) continue;
    const key = v.slice(0, eq);
    if (key === "HOME" || key === "PATH") continue;
    env.push(`${alias}_ENV_${key}=${v.slice(eq + 1)}`);
  }
  return env;
}

/** The hosts line Docker writes for a link: the alias, the linked container's hostname, and its name when the alias is not it. */
export function linkHost(l: LinkedContainer): ExtraHost {
  const alias = l.linkName.slice(l.linkName.lastIndexOf("/") + 1);
  const names = [alias, l.hostname, ...(alias !== l.name.slice(1) ? [l.name.slice(1)] : [])];
  return { host: [...new Set(names)].join(" "), ip: l.ip };
}

/** `env` then the link variables whose names it does not set (Docker: Config.Env wins over them). */
export function withLinkEnv(env: string[], link: string[]): string[] {
  const keys = new Set(env.map((e) => e.slice(0, e.indexOf("=") < 0 ? e.length : e.indexOf("="))));
  return [...env, ...link.filter((e) => !keys.has(e.slice(0, e.indexOf("="))))];
}

export interface SharedFromOthers {
  /** The run's volume specs with the other containers' mounts merged in. */
  volumes: VolumeSpec[];
  /** --link's hosts lines. */
  hosts: ExtraHost[];
  /** --link's variables (on the default bridge only, as Docker). */
  env: string[];
  /** HostConfig.Links: "/other:/me/alias". */
  hostConfigLinks: string[];
}

/** Whether a container is running now (its live state, which the caller reads). */
export type IsRunning = (rec: ContainerRecord) => boolean;

/**
 * --volumes-from's and --link's containers, looked up at create (Docker's errors; exit 125): a
 * link's container must exist and not use the host's network. Its address is taken when the
 * container starts, as Docker's daemon does (setupLinkedContainers): with `running` (run, which
 * starts it now) at once, else by `start` (linksAtStart).
 */
export function resolveShared(ctx: Ctx, req: RunRequest, name: string, running?: IsRunning): SharedFromOthers {
  const from: VolumeSpec[] = [];
  for (const spec of req.volumesFrom ?? []) {
    const { container, readonly } = parseVolumesFrom(spec);
    from.push(...volumesFromMounts(findContainer(ctx.root, container).mounts ?? [], readonly));
  }
  const hostConfigLinks: string[] = [];
  const links: LinkedContainer[] = [];
  for (const { name: ref, alias } of req.links ?? []) {
    const rec = linkTarget(ctx, ref);
    const linkName = `/${name}/${alias}`;
    hostConfigLinks.push(`/${rec.name}:${linkName}`);
    if (running) links.push(linkedContainer(rec, linkName, req.network.mode, running));
  }
  return { volumes: mergeVolumesFrom(req.volumes, from), ...linkSettings(links, req.network.mode), hostConfigLinks };
}

/** HostConfig.Links' containers as they are now, for `start`: hosts lines and variables with their current addresses. */
export function linksAtStart(ctx: Ctx, rec: ContainerRecord, running: IsRunning): Pick<SharedFromOthers, "hosts" | "env"> {
  const mode = rec.networkOptions?.mode ?? String(rec.hostConfig?.NetworkMode ?? "bridge");
  const links = ((rec.hostConfig?.Links as string[] | undefined) ?? []).map((l) => {
    const { name, alias } = parseLink(l);
    return linkedContainer(linkTarget(ctx, name), `/${rec.name}/${alias}`, mode, running);
  });
  return linkSettings(links, mode);
}

/**
 * A saved plan's environment with the link variables of this start: those of an earlier start
 * (ALIAS_… names the container's own Config.Env does not set) give way to the new ones.
 */
export function relinkEnv(env: string[], configEnv: string[], links: string[], linkEnv: string[]): string[] {
  const keyOf = (e: string) => e.slice(0, e.indexOf("=") < 0 ? e.length : e.indexOf("="));
  const own = new Set(configEnv.map(keyOf));
  const prefixes = links.map((l) => `${parseLink(l).alias.toUpperCase().replaceAll("-", "_")}_`);
  return withLinkEnv(
    env.filter((e) => own.has(keyOf(e)) || !prefixes.some((p) => keyOf(e).startsWith(p))),
    linkEnv,
  );
}

function linkSettings(links: LinkedContainer[], mode: string): Pick<SharedFromOthers, "hosts" | "env"> {
  return { hosts: links.map(linkHost), env: mode === "bridge" ? links.flatMap(linkEnv) : [] };
}

function linkTarget(ctx: Ctx, ref: string): ContainerRecord {
  let rec: ContainerRecord;
  try {
    rec = findContainer(ctx.root, ref);
  } catch (err) {
    // Docker: an invalid parameter, not "not found" (which the CLI would read as a missing image).
    if (isKind(err, "NotFound")) throw new InvalidArgumentError(`could not get container for ${ref}: ${(err as Error).message}`, { cause: err });
    throw err;
  }
  if (rec.hostConfig?.NetworkMode === "host") throw new InvalidArgumentError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  return rec;
}

/** The linked container's address on `mode`'s network: it must be running and on that network. */
export function linkedContainer(rec: ContainerRecord, linkName: string, mode: string, running: IsRunning): LinkedContainer {
  if (!running(rec)) throw new InvalidArgumentError(`Cannot link to a non running container: /${rec.name} AS ${linkName}`);
  const eps = [rec.network?.endpoint, ...(rec.network?.extraEndpoints ?? [])];
  const ep = eps.find((e) => e?.networkName === mode);
  if (!ep) throw new InvalidArgumentError(`Cannot link to /${rec.name}, as it does not belong to the ${mode === "bridge" ? "default" : mode} network`);
  const config = (rec.config ?? {}) as { ExposedPorts?: Record<string, unknown>; Env?: string[] };
  return { name: `/${rec.name}`, linkName, ip: ep.ipAddress, hostname: rec.hostname, ports: Object.keys(config.ExposedPorts ?? {}), env: config.Env ?? [] };
}
