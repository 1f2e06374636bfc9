// Docker's `-p` / `--publish` and `-P` / `--publish-all`, parsed without touching the system:
//   [ip:][hostPort[-hostEnd]:]containerPort[-containerEnd][/tcp|udp|sctp]   ip may be [v6]
// (the forms of go-connections' nat.ParsePortSpec). Host ports still to be chosen are 0 (any) or a
// range (hostPortEnd); allocateHostPorts (ports.ts) turns them into numbers.
import { InvalidArgumentError, ParseError } from "../errors.ts";
import type { PortBinding, Protocol } from "../store/network-record.ts";
export type { PortBinding, Protocol } from "../store/network-record.ts";


const PROTOCOLS: readonly Protocol[] = ["tcp", "udp", "sctp"];

interface Range {
  start: number;
  end: number;
}

function fail(spec: string, reason: string): never {
  throw new ParseError(`Cannot parse port mapping "${spec}": ${reason}`);
}

function parsePort(spec: string, text: string, what: string, allowZero: boolean): number {
  if (!/^[0-9]{1,5}$/.test(text)) fail(spec, `${what} is not a number`);
  const n = Number(text);
  if (n > 65535 || (n === 0 && !allowZero)) fail(spec, `${what} must be between ${allowZero ? 0 : 1} and 65535`);
  return n;
}

function parseRange(spec: string, text: string, what: string, allowZero: boolean): Range {
  const dash = text.indexOf("-");
  if (dash < 0) {
    const n = parsePort(spec, text, what, allowZero);
    return { start: n, end: n };
  }
  const start = parsePort(spec, text.slice(0, dash), what, allowZero);
  const end = parsePort(spec, text.slice(dash + 1), what, allowZero);
  if (end < start) fail(spec, `${what} range ${text} ends before it starts`);
  return { start, end };
}

/** IPv4 dotted quad, each part 0-255 without leading zeros (Go's net.ParseIP refuses those). */
export function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/**
 * An IPv6 address (no zone: a published port is not bound to one interface's link-local scope).
 * Own code, not node:net's isIPv6: loading node:net costs ~3 ms of a run's start.
 */
export function isIPv6(text: string): boolean {
  if (text.includes("%")) return false;
  let head = text;
  let groupsWanted = 8;
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.slice(lastColon + 1).includes(".")) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) stands for two groups.
    if (!isIPv4(text.slice(lastColon + 1))) return false;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return false;
  const group = /^[0-9a-fA-F]{1,4}$/;
  const parts = (h: string): string[] | undefined => {
    if (h === "") return [];
    const g = h.split(":");
    return g.every((x) => group.test(x)) ? g : undefined;
  };
  const left = parts(halves[0]!);
  if (!left) return false;
  if (halves.length === 1) return left.length === groupsWanted;
  const right = parts(halves[1]!);
  if (!right) return false;
  groupsWanted -= 1; // "::" stands for at least one group
  return left.length + right.length <= groupsWanted;
}

/**
 * --link-local-ip ADDR (run, create, network connect): an IPv4 or IPv6 address, added to the
 * container's interface with libnetwork's link-local prefix (/16, /64). Docker's CLI words otherwise.
 */
export function parseLinkLocalIp(text: string): { address: string; prefixLen: number } {
  if (isIPv4(text)) return { address: text, prefixLen: 16 };
  if (isIPv6(text) && !text.includes(".")) return { address: text.toLowerCase(), prefixLen: 64 };
  throw new InvalidArgumentError(`invalid link-local IP "${text}": ParseAddr("${text}"): unable to parse IP`);
}

/** Splits "ip:host:container" where ip may be "[v6]"; the text after the last '/' is the protocol. */
function splitSpec(spec: string): { ip: string; host: string; container: string; protocol: string } {
  let rest = spec;
  let protocol = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    protocol = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
  }
  let ip = "";
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) fail(spec, "missing ] after the IPv6 address");
    ip = rest.slice(1, close);
    if (rest[close + 1] !== ":") fail(spec, "expected : after the IPv6 address");
    rest = rest.slice(close + 2);
    const parts = rest.split(":");
    if (parts.length !== 2) fail(spec, "expected [ip]:hostPort:containerPort");
    return { ip: `[${ip}]`, host: parts[0]!, container: parts[1]!, protocol };
  }
  const parts = rest.split(":");
  switch (parts.length) {
    case 1:
      return { ip: "", host: "", container: parts[0]!, protocol };
    case 2:
      return { ip: "", host: parts[0]!, container: parts[1]!, protocol };
    case 3:
      return { ip: parts[0]!, host: parts[1]!, container: parts[2]!, protocol };
    default:
      // A bare IPv6 address (Docker accepts "::1:8080:80" by taking the last two fields).
      return { ip: parts.slice(0, -2).join(":"), host: parts.at(-2)!, container: parts.at(-1)!, protocol };
  }
}

/** One `-p` value → its bindings (a range gives one per port). */
export function parsePortSpec(spec: string): PortBinding[] {
  if (typeof spec !== "string" || spec.trim() === "") fail(String(spec), "empty");
  const text = spec.trim();
  const { ip, host, container, protocol } = splitSpec(text);
  if (!PROTOCOLS.includes(protocol as Protocol)) fail(spec, `unknown protocol "${protocol}" (tcp, udp or sctp)`);
  if (container === "") fail(spec, "no container port");
  const c = parseRange(spec, container, "container port", false);
  let hostIp = "";
  if (ip !== "") {
    const bare = ip.startsWith("[") ? ip.slice(1, -1) : ip;
    if (isIPv4(bare)) hostIp = bare === "0.0.0.0" ? "" : bare;
    else if (isIPv6(bare)) hostIp = bare.toLowerCase();
    else fail(spec, `"${bare}" is not an IP address`);
  }
  const proto = protocol as Protocol;
  const cCount = c.end - c.start + 1;
  if (host === "") {
    return Array.from({ length: cCount }, (_, i) => ({ hostIp, hostPort: 0, containerPort: c.start + i, protocol: proto }));
  }
  const h = parseRange(spec, host, "host port", true);
  const hCount = h.end - h.start + 1;
  if (h.start === 0 && h.end !== 0) fail(spec, "host port range cannot start at 0");
  if (cCount === 1) {
    if (hCount === 1) return [{ hostIp, hostPort: h.start, containerPort: c.start, protocol: proto }];
    return [{ hostIp, hostPort: h.start, hostPortEnd: h.end, containerPort: c.start, protocol: proto }];
  }
  if (hCount !== cCount) {
    fail(spec, `host port range ${host} and container port range ${container} differ in length`);
  }
  return Array.from({ length: cCount }, (_, i) => ({ hostIp, hostPort: h.start + i, containerPort: c.start + i, protocol: proto }));
}

/** Every `-p` value, in order; an exact duplicate is kept once (Docker merges them too). */
export function parsePortSpecs(specs: string[]): PortBinding[] {
  const out: PortBinding[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    for (const b of parsePortSpec(spec)) {
      const key = bindingKey(b);
      if (b.hostPort !== 0 && seen.has(key)) continue;
      seen.add(key);
      out.push(b);
    }
  }
  return out;
}

function bindingKey(b: PortBinding): string {
  return `${b.hostIp}|${b.hostPort}-${b.hostPortEnd ?? b.hostPort}|${b.containerPort}/${b.protocol}`;
}

/**
 * `-P`: each of the image's ExposedPorts ("80/tcp", "53/udp", "8000-8001/tcp"; the keys of Docker's
 * Config.ExposedPorts) on a free host port of every address.
 */
export function exposedPortBindings(exposed: Record<string, unknown> | string[] | undefined): PortBinding[] {
  const keys = Array.isArray(exposed) ? exposed : Object.keys(exposed ?? {});
  const out: PortBinding[] = [];
  for (const key of keys) {
    const slash = key.indexOf("/");
    const ports = slash < 0 ? key : key.slice(0, slash);
    const proto = slash < 0 ? "tcp" : key.slice(slash + 1);
    if (ports.includes(":")) fail(key, "an exposed port has no host part");
    out.push(...parsePortSpec(`${ports}/${proto}`));
  }
  return out;
}

/** Merges -p bindings and -P ones: an explicit -p for a container port wins over -P's random one. */
export function withPublishAll(explicit: PortBinding[], all: PortBinding[]): PortBinding[] {
  const covered = new Set(explicit.map((b) => `${b.containerPort}/${b.protocol}`));
  return [...explicit, ...all.filter((b) => !covered.has(`${b.containerPort}/${b.protocol}`))];
}

/** Docker's port key: "80/tcp". */
export function portKey(b: { containerPort: number; protocol: Protocol }): string {
  return `${b.containerPort}/${b.protocol}`;
}

/** Docker's `port` line: "80/tcp -> 0.0.0.0:8080", "[::1]:8080" for IPv6. */
export function formatPortLine(b: PortBinding): string {
  return `${portKey(b)} -> ${formatHostAddress(b)}`;
}

export function formatHostAddress(b: PortBinding): string {
  const ip = b.hostIp === "" ? "0.0.0.0" : b.hostIp;
  return ip.includes(":") ? `[${ip}]:${b.hostPort}` : `${ip}:${b.hostPort}`;
}

/**
 * The argument of `tinydock port C 80/tcp`: "80", "80/udp" → container port and protocol.
 */
export function parsePortFilter(text: string): { containerPort: number; protocol: Protocol } {
  const slash = text.indexOf("/");
  const port = slash < 0 ? text : text.slice(0, slash);
  const proto = (slash < 0 ? "tcp" : text.slice(slash + 1)).toLowerCase();
  if (!PROTOCOLS.includes(proto as Protocol)) fail(text, `unknown protocol "${proto}" (tcp, udp or sctp)`);
  return { containerPort: parsePort(text, port, "container port", false), protocol: proto as Protocol };
}

/**
 * What `run -p … -P` publishes for a network mode, checked before anything is created:
 * `container:` refuses ports (Docker's message), `host` and `none` drop them (host with Docker's
 * warning), bridge and user networks get -p plus, with -P, every ExposedPorts entry -p left out.
 */
export function runPortBindings(opts: {
  publish: string[];
  publishAll: boolean;
  exposedPorts?: Record<string, unknown> | string[];
  networkMode: string;
}): { bindings: PortBinding[]; warning?: string } {
  const explicit = parsePortSpecs(opts.publish);
  const all = opts.publishAll ? exposedPortBindings(opts.exposedPorts) : [];
  const asked = explicit.length > 0 || opts.publishAll;
  if (opts.networkMode.startsWith("container:") && asked) {
    throw new InvalidArgumentError("conflicting options: port publishing and the container type network mode");
  }
  if (opts.networkMode === "host") {
    return { bindings: [], warning: explicit.length > 0 ? "Published ports are discarded when using host network mode" : undefined };
  }
  if (opts.networkMode === "none") return { bindings: [] };
  return { bindings: withPublishAll(explicit, all) };
}
