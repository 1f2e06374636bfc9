// The image configuration a build assembles: Docker's metadata instructions applied to the
// config inherited from the base (ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, CMD/ENTRYPOINT with
// Docker's reset rule, SHELL, HEALTHCHECK, ONBUILD, STOPSIGNAL), and the final OCI config with its
// history. Pure: data in, data out.
import path from "node:path";
import type { ContainerConfig, ImageConfig } from "../image/manifest.ts";
import { formatPlatform, type Platform } from "../image/platform.ts";
import { ParseError } from "../errors.ts";

export interface Healthcheck {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface BuildConfig extends ContainerConfig {
  Healthcheck?: Healthcheck;
  OnBuild?: string[] | null;
  Shell?: string[];
  ArgsEscaped?: boolean;
}

export type HistoryEntry = NonNullable<ImageConfig["history"]>[number];

export const DEFAULT_SHELL = ["/bin/sh", "-c"];
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A copy of a config (the steps never share arrays or maps between states). */
export function cloneConfig(c: BuildConfig): BuildConfig {
  return structuredClone(c);
}

/** The Env list as a map (later entries of the same name win). */
export function envMap(c: BuildConfig): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of c.Env ?? []) {
    const eq = e.indexOf("=");
    if (eq < 0) m.set(e, "");
    else m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

/** ENV K=V: replaces K where it stands, else appends (Docker keeps the order). */
export function setEnv(c: BuildConfig, key: string, value: string): void {
  const env = c.Env ? [...c.Env] : [];
  const at = env.findIndex((e) => e === key || e.startsWith(`${key}=`));
  if (at >= 0) env[at] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  c.Env = env;
}

/** A scratch stage's config: Docker gives it PATH. */
export function scratchConfig(): BuildConfig {
  return { Env: [`PATH=${DEFAULT_PATH}`] };
}

/** EXPOSE's words → "80/tcp" keys (ranges expanded, as Docker does). */
export function exposedPorts(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
    if (!m) throw new ParseError(`Cannot parse EXPOSE "${w}": invalid containerPort: ${w}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 1 || hi > 65535 || hi < lo) throw new ParseError(`Cannot parse EXPOSE "${w}": invalid range`);
    if (hi - lo > 65535) throw new ParseError(`Cannot parse EXPOSE "${w}": range too large`);
    for (let p = lo; p <= hi; p++) out.push(`${p}/${(m[3] ?? "tcp").toLowerCase()}`);
  }
  return out;
}

/** WORKDIR relative to the current one, cleaned. */
export function resolveWorkdir(current: string | undefined, next: string): string {
  return path.posix.resolve("/", current || "/", next);
}

/** Go's time.ParseDuration subset Docker's HEALTHCHECK flags use, in nanoseconds. */
export function parseDuration(text: string, flag: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (text === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new ParseError(`Cannot parse --${flag} "${text}": time: invalid duration "${text}"`);
    total += Number(m[1]) * units[m[2]!]!;
    at = re.lastIndex;
  }
  if (!text) throw new ParseError(`Cannot parse --${flag} "": time: invalid duration ""`);
  return Math.round(total);
}

/**
 * ENTRYPOINT resets a CMD the stage inherited from its base (Docker: "If CMD is defined from the
 * base image, setting ENTRYPOINT will reset CMD to an empty value"); a CMD set in this stage stays.
 */
export function setEntrypoint(c: BuildConfig, argv: string[] | null, cmdSetInStage: boolean): void {
  c.Entrypoint = argv;
  if (!cmdSetInStage) c.Cmd = null;
}

/** The config's command argv of a shell-form instruction. */
export function shellForm(c: BuildConfig, command: string): string[] {
  return [...(c.Shell?.length ? c.Shell : DEFAULT_SHELL), command];
}

/** The final OCI image config: the base's platform, the built config, the rootfs and the history. */
export function assembleImageConfig(o: {
  platform: { os: string; architecture: string; variant?: string };
  config: BuildConfig;
  diffIds: string[];
  history: HistoryEntry[];
  created: string;
  author?: string;
}): ImageConfig & { config: BuildConfig } {
  const config: BuildConfig = {};
  // Docker's key order, empty fields left out.
  const c = o.config;
  if (c.User) config.User = c.User;
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) config.ExposedPorts = c.ExposedPorts;
  config.Env = c.Env ?? [];
  if (c.Entrypoint?.length) config.Entrypoint = c.Entrypoint;
  if (c.Cmd?.length) config.Cmd = c.Cmd;
  if (c.Healthcheck) config.Healthcheck = c.Healthcheck;
  if (c.Volumes && Object.keys(c.Volumes).length) config.Volumes = c.Volumes;
  config.WorkingDir = c.WorkingDir ?? "";
  if (c.Labels && Object.keys(c.Labels).length) config.Labels = c.Labels;
  if (c.OnBuild?.length) config.OnBuild = c.OnBuild;
  if (c.StopSignal) config.StopSignal = c.StopSignal;
  if (c.Shell?.length) config.Shell = c.Shell;
  const out: ImageConfig & { config: BuildConfig } = {
    architecture: o.platform.architecture,
    os: o.platform.os,
    ...(o.platform.variant ? { variant: o.platform.variant } : {}),
    created: o.created,
    ...(o.author ? { author: o.author } : {}),
    config,
    rootfs: { type: "layers", diff_ids: o.diffIds },
    history: o.history,
  };
  return out;
}

/** created: SOURCE_DATE_EPOCH when set (reproducible builds), else now. */
export function createdTime(nowMs: number, sourceDateEpoch?: string): string {
  if (sourceDateEpoch !== undefined && /^\d+$/.test(sourceDateEpoch)) return new Date(Number(sourceDateEpoch) * 1000).toISOString().replace(/\.000Z$/, "Z");
  return new Date(nowMs).toISOString();
}

/** BuildKit's automatic platform ARGs: TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT and BUILD*. */
export function platformArgs(target: Platform, build: Platform): Map<string, string | undefined> {
  const m = new Map<string, string | undefined>();
  for (const [prefix, p] of [["TARGET", target], ["BUILD", build]] as const) {
    m.set(`${prefix}PLATFORM`, formatPlatform(p));
    m.set(`${prefix}OS`, p.os);
    m.set(`${prefix}ARCH`, p.architecture);
    m.set(`${prefix}VARIANT`, p.variant ?? "");
  }
  return m;
}
