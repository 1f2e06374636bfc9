// Docker's $DOCKER_CONFIG/config.json "auths" entries, read and written the way the docker CLI
// does, so `docker login` and `tinydock login` share credentials. Credential helpers
// ("credsStore", "credHelpers") are external programs and are not run here.
import fs from "node:fs";
import { writeFileAtomic } from "../atomic.ts";
import path from "node:path";
import { InvalidArgumentError, ParseError, errnoCode } from "../errors.ts";

/** The key Docker uses for Docker Hub, for historical reasons. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

const HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);

export interface Credentials {
  username: string;
  password: string;
}

/** "https://index.docker.io/v1/", "docker.io", "http://host:5000/v2/" → one comparable name. */
export function normalizeRegistryKey(key: string): string {
  let k = key.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, "");
  const slash = k.indexOf("/");
  if (slash >= 0) k = k.slice(0, slash);
  return HUB_ALIASES.has(k) ? "docker.io" : k;
}

/** The key a new entry for `registry` is stored under. */
export function authKey(registry: string): string {
  const n = normalizeRegistryKey(registry);
  return n === "docker.io" ? DOCKER_HUB_AUTH_KEY : n;
}

function configFile(dockerConfigDir: string): string {
  return path.join(dockerConfigDir, "config.json");
}

function readConfig(file: string): Record<string, unknown> | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return null;
    throw err;
  }
  if (text.trim() === "") return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`Cannot parse "${file}": ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new ParseError(`Cannot parse "${file}": not a JSON object`);
  return raw as Record<string, unknown>;
}

function auths(config: Record<string, unknown>, file: string): Record<string, unknown> {
  const a = config.auths;
  if (a === undefined) return {};
  if (!a || typeof a !== "object" || Array.isArray(a)) throw new ParseError(`Cannot parse "${file}": "auths" is not an object`);
  return a as Record<string, unknown>;
}

/** Matching keys, the canonical one first (an exact key beats an alias). */
function matchingKeys(entries: Record<string, unknown>, registry: string): string[] {
  const want = normalizeRegistryKey(registry);
  const canonical = authKey(registry);
  const keys = Object.keys(entries).filter((k) => normalizeRegistryKey(k) === want);
  return keys.sort((a, b) => Number(b === canonical) - Number(a === canonical));
}

export function readCredentials(dockerConfigDir: string, registry: string): Credentials | null {
  const file = configFile(dockerConfigDir);
  const config = readConfig(file);
  if (!config) return null;
  const entries = auths(config, file);
  for (const key of matchingKeys(entries, registry)) {
    const entry = entries[key];
    if (!entry || typeof entry !== "object") continue;
    const e = entry as Record<string, unknown>;
    if (typeof e.auth === "string" && e.auth !== "") {
      const decoded = Buffer.from(e.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon <= 0) throw new ParseError(`Cannot parse "${file}": the "auth" of "${key}" is not base64 of user:password`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (typeof e.username === "string" && e.username !== "" && typeof e.password === "string") {
      return { username: e.username, password: e.password };
    }
  }
  return null;
}

export function writeCredentials(dockerConfigDir: string, registry: string, username: string, password: string): void {
  if (!username || username.includes(":")) {
    throw new InvalidArgumentError(`Cannot store credentials for "${registry}": the username must be non-empty and without ":"`);
  }
  const file = configFile(dockerConfigDir);
  const config = readConfig(file) ?? {};
  const entries = { ...auths(config, file) };
  for (const key of matchingKeys(entries, registry)) delete entries[key];
  entries[authKey(registry)] = { auth: Buffer.from(`${username}:${password}`, "utf8").toString("base64") };
  config.auths = entries;
  writeConfig(dockerConfigDir, file, config);
}

export function removeCredentials(dockerConfigDir: string, registry: string): boolean {
  const file = configFile(dockerConfigDir);
  const config = readConfig(file);
  if (!config) return false;
  const entries = { ...auths(config, file) };
  const keys = matchingKeys(entries, registry);
  if (keys.length === 0) return false;
  for (const key of keys) delete entries[key];
  config.auths = entries;
  writeConfig(dockerConfigDir, file, config);
  return true;
}

/** Atomic (temp file, fsync, rename): a crash leaves the old file or the new one. */
function writeConfig(dockerConfigDir: string, file: string, config: Record<string, unknown>): void {
  fs.mkdirSync(dockerConfigDir, { recursive: true, mode: 0o700 });
  // A symlinked config.json (dotfile managers) is updated where it points, as the docker CLI does.
  let target = file;
  try {
    target = fs.realpathSync(file);
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
  writeFileAtomic(target, `${JSON.stringify(config, null, "\t")}\n`, 0o600);
}
