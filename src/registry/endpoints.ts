// Which base URLs serve a registry name, in the order to try them: docker.io mirrors before Docker
// Hub, plain HTTP only for loopback and configured insecure registries (Docker's rules). Pure.
import type { EngineConfig } from "../context.ts";
import { ParseError } from "../errors.ts";
import { DOCKER_HUB, isRegistryHost } from "../image/reference.ts";

export const DOCKER_HUB_URL = "https://registry-1.docker.io";

export interface Endpoint {
  /** Base URL without a trailing slash: "https://registry-1.docker.io", "http://127.0.0.1:5000/cache". */
  base: string;
  /** A docker.io mirror: a 401/403/404 there means "try the next endpoint", not "no such image". */
  mirror: boolean;
  /** An insecure registry reached over HTTPS: its certificate is not verified. */
  insecureTls: boolean;
  /** The registry name its credentials are stored under in config.json. */
  credentialsKey: string;
}

/** "host:port" → host (brackets of an IPv6 literal removed) and port. */
export function splitHostPort(registry: string): { host: string; port?: string } {
  if (registry.startsWith("[")) {
    const close = registry.indexOf("]");
    const host = registry.slice(1, close);
    const rest = registry.slice(close + 1);
    return rest.startsWith(":") ? { host, port: rest.slice(1) } : { host };
  }
  const colon = registry.lastIndexOf(":");
  return colon >= 0 ? { host: registry.slice(0, colon), port: registry.slice(colon + 1) } : { host: registry };
}

/** localhost, 127.0.0.0/8 and ::1: Docker reaches these over plain HTTP without configuration. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  const v4 = parseIPv4(h);
  if (v4) return v4[0] === 127;
  const v6 = parseIPv6(h);
  if (v6) {
    if (v6.slice(0, 15).every((b) => b === 0) && v6[15] === 1) return true;
    // ::ffff:127.x.x.x
    return v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff && v6[12] === 127;
  }
  return false;
}

/**
 * Whether `registry` ("host[:port]") is listed in insecure-registries, by exact name or by a CIDR
 * range holding its IP literal. Names are not resolved here (Docker resolves them; a pure function
 * cannot), so a CIDR entry only covers registries written as IP addresses.
 */
export function isInsecureRegistry(registry: string, insecureRegistries: readonly string[]): boolean {
  const name = registry.toLowerCase();
  const { host } = splitHostPort(name);
  for (const raw of insecureRegistries) {
    const entry = raw.trim().toLowerCase().replace(/^https?:\/\//, "").replace(/\/+$/, "");
    if (entry.includes("/")) {
      if (cidrContains(entry, host, raw)) return true;
    } else if (entry === name) {
      return true;
    }
  }
  return false;
}

/** Parse one registry-mirrors entry into a base URL, keeping its scheme and any path prefix. */
export function parseMirror(text: string): string {
  const bad = (reason: string): never => {
    throw new ParseError(`Cannot parse registry mirror "${text}": ${reason}`);
  };
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return bad("not a URL (want http://host[:port] or https://host[:port])");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") bad(`scheme "${url.protocol}" is not http or https`);
  if (url.username || url.password) bad("credentials in the URL are not allowed (use tinydock login)");
  if (url.search || url.hash) bad("query and fragment are not allowed");
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

/** The endpoints to try for `registry`, in order; the last one's errors are what the user sees. */
export function resolveEndpoints(
  registry: string,
  config: Pick<EngineConfig, "registryMirrors" | "insecureRegistries"> & { mirrorFallback?: boolean },
): Endpoint[] {
  if (!isRegistryHost(registry)) throw new ParseError(`Cannot parse registry "${registry}": not a host[:port]`);
  if (registry === DOCKER_HUB) {
    const out: Endpoint[] = [];
    for (const m of config.registryMirrors) {
      const base = parseMirror(m);
      const host = new URL(base).host;
      out.push({
        base,
        mirror: true,
        insecureTls: base.startsWith("https:") && isInsecureRegistry(host, config.insecureRegistries),
        credentialsKey: host,
      });
    }
    // "mirror-fallback": false keeps docker.io names on the mirrors (offline hosts, CI, tests).
    if (config.mirrorFallback !== false || out.length === 0) {
      out.push({ base: DOCKER_HUB_URL, mirror: false, insecureTls: false, credentialsKey: DOCKER_HUB });
    }
    return out;
  }
  const https: Endpoint = { base: `https://${registry}`, mirror: false, insecureTls: false, credentialsKey: registry };
  const http: Endpoint = { base: `http://${registry}`, mirror: false, insecureTls: false, credentialsKey: registry };
  if (isLoopbackHost(splitHostPort(registry).host)) return [http, { ...https, insecureTls: true }];
  if (isInsecureRegistry(registry, config.insecureRegistries)) return [{ ...https, insecureTls: true }, http];
  return [https];
}

function parseIPv4(text: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function parseIPv6(text: string): number[] | null {
  if (!/^[0-9a-f:.]+$/.test(text) || !text.includes(":")) return null;
  let t = text;
  const lastColon = t.lastIndexOf(":");
  if (t.slice(lastColon + 1).includes(".")) {
    // "::ffff:1.2.3.4" → "::ffff:102:304"
    const v4 = parseIPv4(t.slice(lastColon + 1));
    if (!v4) return null;
    t = `${t.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = t.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === "") return [];
    const gs = s.split(":");
    if (gs.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
    return gs.map((g) => parseInt(g, 16));
  };
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  if (!left || !right) return null;
  let groups = left;
  if (halves.length === 2) {
    const fill = 8 - left.length - right.length;
    if (fill < 1) return null;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  }
  if (groups.length !== 8) return null;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function parseIP(text: string): number[] | null {
  return parseIPv4(text) ?? parseIPv6(text);
}

function cidrContains(cidr: string, host: string, raw: string): boolean {
  const slash = cidr.indexOf("/");
  const net = parseIP(cidr.slice(0, slash));
  const bitsText = cidr.slice(slash + 1);
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!net || !(bits >= 0 && bits <= net.length * 8)) {
    throw new ParseError(`Cannot parse insecure registry "${raw}": not host[:port] or a CIDR range`);
  }
  const ip = parseIP(host.replace(/^\[|\]$/g, ""));
  if (!ip || ip.length !== net.length) return false;
  for (let b = 0; b < bits; b++) {
    const byte = b >> 3;
    const mask = 0x80 >> (b & 7);
    if ((ip[byte]! & mask) !== (net[byte]! & mask)) return false;
  }
  return true;
}
