// The setup the tests of the compiled binary share: a registry with images/busybox pushed as
// library/busybox, a root and config of the test's own (the registry as the mirror), the image
// pulled there, and a network namespace where the engine runs, so the default bridge, veths and
// firewall rules stay inside it; the runners for the binary and for commands in the namespace; and
// `until`. The registry listens on the test process's loopback, so pulls run outside the namespace.
// startE2e puts the pieces together; a test that needs only some of them (two roots, no namespace)
// takes the pieces.
import { afterAll, beforeAll, expect } from "bun:test";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildDefinition } from "../../images/build.ts";
import type { BuiltImage } from "./image.ts";
import { BINARY, cliEnv, requireBinary, tinydock, type CliEnv, type CliResult } from "./cli.ts";
import { pushImage } from "./image.ts";
import { cgroupDirs, processesHolding } from "./leakcheck.ts";
import { startRegistry, type TestRegistry } from "./registry.ts";

/** Polls `fn` every `everyMs` until it returns something truthy (returned), or fails after `ms`. */
export async function until<T>(what: string, fn: () => T | undefined | null | false, ms = 20_000, everyMs = 25): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() >= end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

/** iptables-nft makes a namespace's nat and filter tables with its first rule: make them now, so a snapshot of the rules is stable. */
export function seedFirewall(inNs: (argv: string[]) => string[]): void {
  Bun.spawnSync(inNs(["sh", "-c", "printf '*nat\\n:TDT - [0:0]\\n-X TDT\\nCOMMIT\\n*filter\\n:TDT - [0:0]\\n-X TDT\\nCOMMIT\\n' | iptables-restore --noflush"]));
}

/** images/busybox, built once per test file. */
let busybox: Promise<BuiltImage> | undefined;
export function busyboxImage(): Promise<BuiltImage> {
  busybox ??= buildDefinition(path.resolve(import.meta.dir, "../../images/busybox")).then((d) => d.image);
  return busybox;
}

/** A registry with images/busybox as library/busybox:latest, and `images` (repository → image) as :latest. */
export async function startImageRegistry(images: Record<string, BuiltImage> = {}, opts?: Parameters<typeof startRegistry>[0]): Promise<TestRegistry> {
  const reg = await startRegistry(opts);
  try {
    await pushImage(reg, "library/busybox", "latest", await busyboxImage());
    for (const [repo, img] of Object.entries(images)) await pushImage(reg, repo, "latest", img);
    return reg;
  } catch (err) {
    await reg.stop();
    throw err;
  }
}

/** A root, config and docker config under `base`; the config names `mirror` (if given) as the only mirror. */
export function newCliEnv(base: string, mirror?: TestRegistry, rootName = "root"): CliEnv {
  fs.mkdirSync(base, { recursive: true });
  const env: CliEnv = { root: path.join(base, rootName), config: path.join(base, "config.json"), dockerConfig: path.join(base, "docker") };
  fs.writeFileSync(env.config, JSON.stringify(mirror ? { "registry-mirrors": [mirror.url], "mirror-fallback": false } : {}));
  return env;
}

/** The ids of the containers a root holds. */
export function containerIds(env: CliEnv): string[] {
  const dir = path.join(env.root, "containers");
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => /^[a-f0-9]{64}$/.test(n)) : [];
}

/** What a container's run.json says (the monitor or the supervising run writes it), or undefined. */
export function readRunJson(env: CliEnv, id: string): { pid?: number; monitorPid?: number; status?: string; restartCount?: number } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(env.root, "containers", id, "run.json"), "utf8"));
  } catch {
    return undefined;
  }
}

/** Whether a process of that pid exists (a zombie counts). */
export function pidExists(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Unmounts whatever a failed assertion left mounted under `dir` (netns files, rootfs), deepest first. */
export function unmountUnder(dir: string): void {
  if (!dir) return;
  for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").reverse()) {
    const mnt = line.split(" ")[4];
    if (mnt && mnt.startsWith(`${dir}/`)) Bun.spawnSync(["umount", "-l", mnt]);
  }
}

/**
 * Removes every pod and container of the root `T` runs the binary with. The pods go first: `rm -f`
 * refuses a pod's infra container, so a test that failed midway would leave its pause processes.
 */
export function removeAll(T: (args: string[]) => CliResult): void {
  const pods = T(["pod", "ls", "--format", "{{.Name}}"]).stdout.split(/\s+/).filter(Boolean);
  if (pods.length) {
    console.error(`e2e teardown: removing the pods left: ${pods.join(" ")}`);
    T(["pod", "rm", "-f", ...pods]);
  }
  T(["rm", "-af"]);
}

/** The containers of every root directly under `dir` (a test may make a second root beside its first). */
function containerIdsUnder(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => containerIds({ root: path.join(dir, n), config: "", dockerConfig: "" }));
}

/** Whether the process runs (a zombie, already ended, does not). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

/**
 * Frees a test's directory once the engine has removed what it could: SIGKILLs, by pid, every process
 * still holding it 2 s later (a monitor, pause or container process the engine lost track of; see
 * processesHolding), then unmounts what is mounted under it and removes the cgroups of the
 * containers of the roots in it (and of `known`, ids removed since). Says on stderr what it had to kill, and returns those lines.
 */
export async function releaseDir(dir: string, known: readonly string[] = []): Promise<string[]> {
  if (!dir) return [];
  const ids = [...new Set([...known, ...containerIdsUnder(dir)])];
  // A monitor runs its exit hook (`container cleanup`) as the container goes: let it finish.
  for (let i = 0; i < 100 && processesHolding(dir, ids).length; i++) await Bun.sleep(20);
  const left = processesHolding(dir, ids);
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {}
  }
  for (let i = 0; i < 200 && left.some((p) => running(p.pid)); i++) await Bun.sleep(10);
  const killed = left.map((p) => `${p.pid} ${p.args}`);
  if (killed.length) console.error(`e2e teardown: killed what still held ${dir}:\n  ${killed.join("\n  ")}`);
  unmountUnder(dir);
  for (const id of ids) {
    for (const cg of cgroupDirs(id).reverse()) {
      try {
        fs.rmdirSync(cg);
      } catch {}
    }
  }
  return killed;
}

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestNetns {
  ns: string;
  inNs(argv: string[]): string[];
  /** A command in the namespace. */
  sh(argv: string[]): ShResult;
  /** The namespace's iptables rules, without comments and counters' headers. */
  rules(): string;
  /** `ip -o link` in the namespace. */
  links(): string;
  /** curl in the namespace: the body, or "curl exit N". */
  curl(url: string): string;
  del(): void;
}

/** A network namespace of the test's own with lo up and the firewall tables made. */
export function startNetns(ns = `tdt-${crypto.randomBytes(4).toString("hex")}`): TestNetns {
  const inNs = (argv: string[]) => ["/usr/bin/nsenter", `--net=/run/netns/${ns}`, ...argv];
  const sh = (argv: string[]): ShResult => {
    const r = Bun.spawnSync(inNs(argv), { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  expect(Bun.spawnSync(["ip", "netns", "add", ns]).exitCode).toBe(0);
  sh(["ip", "link", "set", "lo", "up"]);
  seedFirewall(inNs);
  return {
    ns,
    inNs,
    sh,
    rules: () =>
      sh(["iptables-save"])
        .stdout.split("\n")
        .filter((l) => !l.startsWith("#"))
        .join("\n"),
    links: () => sh(["ip", "-o", "link"]).stdout,
    curl(url) {
      const r = sh(["curl", "-sS", "--max-time", "3", url]);
      return r.code === 0 ? r.stdout : `curl exit ${r.code}`;
    },
    del: () => void Bun.spawnSync(["ip", "netns", "del", ns]),
  };
}

export interface E2e extends TestNetns {
  reg: TestRegistry;
  env: CliEnv;
  /** The temp directory that holds the root, the config and anything else of the test's. */
  dir: string;
  /** The binary in the namespace (or on the host, with `netns: false`), with the test's root and config. */
  T(args: string[], stdin?: string): CliResult;
  /** The same, in the background. */
  spawn(args: string[]): Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** `run -d …`: the id it printed, checked to be 64 hex with nothing on stderr. */
  runDetached(args: string[]): string;
  /** Removes what the test made: containers of the root, networks, the namespace, stray mounts, the registry, the directory. */
  stop(): Promise<void>;
}

export interface E2eOptions {
  /** Temp directory prefix, e.g. "td-net-e2e-". */
  prefix: string;
  /** The name of the root inside the directory (default "root"). */
  rootName?: string;
  /** Extra images to push before the pull: repository → image. */
  images?: Record<string, BuiltImage>;
  /** Pull busybox into the root (default true). */
  pull?: boolean;
  /** Run the binary in a network namespace of the test's own (default true). */
  netns?: boolean | string;
}

export async function startE2e(opts: E2eOptions): Promise<E2e> {
  requireBinary();
  const reg = await startImageRegistry(opts.images);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), opts.prefix));
  const env = newCliEnv(dir, reg, opts.rootName);
  let net: TestNetns;
  try {
    if (opts.pull !== false) {
      const pull = tinydock(env, ["pull", "-q", "busybox"]);
      expect(pull.code).toBe(0);
    }
    net = opts.netns === false ? hostNet() : startNetns(typeof opts.netns === "string" ? opts.netns : undefined);
  } catch (err) {
    await reg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const T = (args: string[], stdin?: string): CliResult => {
    const r = Bun.spawnSync(net.inNs([BINARY, ...args]), {
      env: cliEnv(env),
      stdout: "pipe",
      stderr: "pipe",
      stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    });
    return { code: r.exitCode ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  return {
    ...net,
    reg,
    env,
    dir,
    T,
    spawn: (args) => Bun.spawn(net.inNs([BINARY, ...args]), { env: cliEnv(env), stdin: "ignore", stdout: "pipe", stderr: "pipe" }),
    runDetached(args) {
      const r = T(["run", "-d", ...args]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const id = r.stdout.trim();
      expect(id).toMatch(/^[a-f0-9]{64}$/);
      return id;
    },
    async stop() {
      const ids = containerIdsUnder(dir);
      removeAll(T);
      await releaseDir(dir, ids);
      // On the host, a prune would take the default bridge other roots' containers are on.
      if (opts.netns !== false) T(["network", "prune", "-f"]);
      net.del();
      await reg.stop();
      unmountUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A test file's E2e: started before its tests (then `ready`, e.g. to take the pieces the file uses)
 * and stopped after them. The object returned is filled in once beforeAll has run.
 */
export function useE2e(opts: E2eOptions, ready?: (e: E2e) => void): E2e {
  const e = {} as E2e;
  beforeAll(async () => {
    Object.assign(e, await startE2e(opts));
    ready?.(e);
  }, 120_000);
  afterAll(async () => {
    await e.stop?.();
  });
  return e;
}

/** The host's own network, for tests that run the binary without a namespace (`--network none`, no bridge). */
function hostNet(): TestNetns {
  const sh = (argv: string[]): ShResult => {
    const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const none = () => {
    throw new Error("this test has no network namespace of its own");
  };
  return { ns: "", inNs: (argv) => argv, sh, rules: none, links: none, curl: none, del: () => {} };
}
