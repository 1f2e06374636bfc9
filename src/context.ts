// Ctx carries everything a module may need from the outside world. Every default path is decided
// here and nowhere else, so tests build a Ctx on a temp root and run side by side.
import fs from "node:fs";
import path from "node:path";
import { ParseError } from "./errors.ts";
import { hostPlatform, type Platform } from "./image/platform.ts";
import type { Sys } from "./sys/sys.ts";
import { isTerminal } from "./terminal.ts";

export const DEFAULT_ROOT = "/var/lib/tinydock";
export const DEFAULT_CONFIG = "/etc/tinydock/config.json";
/** What roots sharing the host record for each other (owners.ts, hostnet.ts): tmpfs, gone at boot. */
export const DEFAULT_EXEC_ROOT = "/run/tinydock";

/** Engine settings, read from Docker's daemon.json keys. */
export interface EngineConfig {
  /** Mirrors for docker.io names, tried in order before Docker Hub itself. */
  registryMirrors: string[];
  /** Whether docker.io names fall back to Docker Hub when every mirror fails (Docker: always). */
  mirrorFallback: boolean;
  /** host[:port] names or CIDR ranges that may be reached over plain HTTP / unverified TLS. */
  insecureRegistries: string[];
  /** Upper bound on the uncompressed bytes of one layer (a decompression bomb stops here). */
  maxLayerBytes: number;
  /** Layers fetched and unpacked at once (Docker's max-concurrent-downloads). */
  maxConcurrentDownloads: number;
  /**
   * A registry operation that receives no byte for this long ends, retries included
   * (`download-stall-timeout`, in seconds).
   */
  downloadStallTimeoutMs: number;
  /** The default bridge's gateway address and prefix (Docker's `bip`). */
  bip: string;
  /** Where user networks' subnets come from (Docker's `default-address-pools`). */
  defaultAddressPools: { base: string; size: number }[];
  /** MTU of the containers' eth0 and of the bridges. */
  mtu: number;
}

export interface Logger {
  debug(message: string): void;
  warn(message: string): void;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
}

export interface Ctx {
  root: string;
  configPath: string;
  config: EngineConfig;
  /** Directory of Docker's config.json (credentials), as $DOCKER_CONFIG. */
  dockerConfigDir: string;
  sys: Sys;
  fetch: typeof fetch;
  log: Logger;
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  platform: Platform;
  retry: RetryPolicy;
  /**
   * One wait for headers or for the next chunk longer than this aborts the attempt (retried while
   * config.downloadStallTimeoutMs lasts).
   */
  stallTimeoutMs: number;
  /** Whether stderr is a terminal (progress bars) . */
  tty: boolean;
  /** TINYDOCK_DEBUG_TIMING=1: print a per-phase breakdown of `run`. */
  timing: boolean;
  /** Where the cgroup hierarchies are mounted: v2 itself, or one directory per v1 hierarchy. */
  cgroupRoot: string;
  /** Host-wide records shared by every root on the host ($TINYDOCK_EXEC_ROOT, as dockerd's --exec-root). */
  execRoot: string;
}

export const DEFAULT_CONFIG_VALUES: EngineConfig = {
  registryMirrors: [],
  mirrorFallback: true,
  insecureRegistries: [],
  maxLayerBytes: 64 * 1024 ** 3,
  maxConcurrentDownloads: 8,
  downloadStallTimeoutMs: 30_000,
  // Away from Docker's 172.17-31 and podman's 10.88, so they can share a host.
  bip: "10.29.0.1/16",
  defaultAddressPools: [{ base: "10.30.0.0/16", size: 24 }],
  mtu: 1500,
};

export function parseEngineConfig(text: string, source: string): EngineConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`Cannot parse config "${source}": ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ParseError(`Cannot parse config "${source}": not a JSON object`);
  }
  const obj = raw as Record<string, unknown>;
  const strings = (key: string): string[] => {
    const v = obj[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      throw new ParseError(`Cannot parse config "${source}": "${key}" must be a list of strings`);
    }
    return v as string[];
  };
  const positive = (key: string, dflt: number): number => {
    const v = obj[key];
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      throw new ParseError(`Cannot parse config "${source}": "${key}" must be a positive integer`);
    }
    return v;
  };
  const boolean = (key: string, dflt: boolean): boolean => {
    const v = obj[key];
    if (v === undefined) return dflt;
    if (typeof v !== "boolean") throw new ParseError(`Cannot parse config "${source}": "${key}" must be true or false`);
    return v;
  };
  return {
    registryMirrors: strings("registry-mirrors"),
    mirrorFallback: boolean("mirror-fallback", DEFAULT_CONFIG_VALUES.mirrorFallback),
    insecureRegistries: strings("insecure-registries"),
    maxLayerBytes: positive("max-layer-bytes", DEFAULT_CONFIG_VALUES.maxLayerBytes),
    maxConcurrentDownloads: positive("max-concurrent-downloads", DEFAULT_CONFIG_VALUES.maxConcurrentDownloads),
    downloadStallTimeoutMs: positive("download-stall-timeout", DEFAULT_CONFIG_VALUES.downloadStallTimeoutMs / 1000) * 1000,
    bip: typeof obj.bip === "string" ? obj.bip : obj.bip === undefined ? DEFAULT_CONFIG_VALUES.bip : bad("bip", "a string like \"10.29.0.1/16\""),
    defaultAddressPools: addressPools(obj["default-address-pools"], (m) => bad("default-address-pools", m)),
    mtu: positive("mtu", DEFAULT_CONFIG_VALUES.mtu),
  };
  function bad(key: string, expected: string): never {
    throw new ParseError(`Cannot parse config "${source}": "${key}" must be ${expected}`);
  }
}

function addressPools(v: unknown, bad: (expected: string) => never): { base: string; size: number }[] {
  if (v === undefined) return DEFAULT_CONFIG_VALUES.defaultAddressPools;
  const ok =
    Array.isArray(v) &&
    v.every((p) => p && typeof p === "object" && typeof p.base === "string" && Number.isInteger(p.size) && p.size > 0 && p.size <= 30);
  if (!ok) bad('a list of {"base": "CIDR", "size": N}');
  return (v as { base: string; size: number }[]).map((p) => ({ base: p.base, size: p.size }));
}

export function loadEngineConfig(file: string): EngineConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ...DEFAULT_CONFIG_VALUES };
    throw new ParseError(`Cannot read config "${file}": ${(err as Error).message}`);
  }
  return parseEngineConfig(text, file);
}

export function stderrLogger(debug: boolean): Logger {
  return {
    debug: debug ? (m) => process.stderr.write(`DEBU ${m}\n`) : () => {},
    warn: (m) => process.stderr.write(`WARN ${m}\n`),
  };
}

export interface ContextOptions {
  env?: Record<string, string | undefined>;
  debug?: boolean;
  sys?: Sys;
  overrides?: Partial<Ctx>;
}

/** The one place that turns the environment into paths and settings. */
export function createContext(opts: ContextOptions = {}): Ctx {
  const env = opts.env ?? process.env;
  const root = path.resolve(env.TINYDOCK_ROOT || DEFAULT_ROOT);
  const configPath = env.TINYDOCK_CONFIG || DEFAULT_CONFIG;
  const home = env.HOME || "/root";
  const sys = opts.sys ?? lazySys();
  return {
    root,
    configPath,
    config: loadEngineConfig(configPath),
    dockerConfigDir: env.DOCKER_CONFIG || path.join(home, ".docker"),
    sys,
    fetch: globalThis.fetch.bind(globalThis),
    log: stderrLogger(opts.debug ?? false),
    clock: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    platform: hostPlatform(),
    retry: { attempts: 5, baseDelayMs: 250 },
    stallTimeoutMs: 10_000,
    // Not process.stderr.isTTY (builds the stream) nor node:tty at import (~3.5 ms of start-up).
    get tty() {
      return isTerminal(2);
    },
    timing: env.TINYDOCK_DEBUG_TIMING === "1",
    cgroupRoot: "/sys/fs/cgroup",
    execRoot: path.resolve(env.TINYDOCK_EXEC_ROOT || DEFAULT_EXEC_ROOT),
    ...opts.overrides,
  };
}

/** The real Sys, loaded on first call so that start-up never opens libc unless needed. */
function lazySys(): Sys {
  let real: Sys | undefined;
  const get = (): Sys => {
    if (!real) real = (require("./sys/linux.ts") as typeof import("./sys/linux.ts")).linuxSys();
    return real;
  };
  return new Proxy({} as Sys, {
    get: (_t, prop: keyof Sys) => (...args: unknown[]) => (get()[prop] as (...a: unknown[]) => unknown)(...args),
  });
}
