// The setup the tests of the compiled binary share: a registry with images/busybox pushed as
// library/busybox, a root and config of the test's own (the registry as the mirror), the image
// pulled there, and a network namespace where the engine runs, so the default bridge, veths and
// firewall rules stay inside it; the runners for the binary and for commands in the namespace; and
// `until`. The registry listens on the test process's loopback, so pulls run outside the namespace.
import { expect } from "bun:test";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildDefinition } from "../../images/build.ts";
import type { BuiltImage } from "./image.ts";
import { BINARY, cliEnv, requireBinary, tinydock, type CliEnv, type CliResult } from "./cli.ts";
import { pushImage } from "./image.ts";
import { startRegistry, type TestRegistry } from "./registry.ts";

/** Polls `fn` every `everyMs` until it returns something truthy (returned), or fails after `ms`. */
export async function until<T>(what: string, fn: () => T | undefined | null | false, ms = 10_000, everyMs = 25): Promise<T> {
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

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface E2e {
  reg: TestRegistry;
  env: CliEnv;
  /** The temp directory that holds the root, the config and anything else of the test's. */
  dir: string;
  ns: string;
  inNs(argv: string[]): string[];
  /** A command in the namespace. */
  sh(argv: string[]): ShResult;
  /** The binary in the namespace, with the test's root and config. */
  T(args: string[], stdin?: string): CliResult;
  /** The binary in the namespace, in the background. */
  spawn(args: string[]): Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** The namespace's iptables rules, without comments and counters' headers. */
  rules(): string;
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
}

export async function startE2e(opts: E2eOptions): Promise<E2e> {
  requireBinary();
  const reg = await startRegistry();
  const { image } = await buildDefinition(path.resolve(import.meta.dir, "../../images/busybox"));
  await pushImage(reg, "library/busybox", "latest", image);
  for (const [repo, img] of Object.entries(opts.images ?? {})) await pushImage(reg, repo, "latest", img);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), opts.prefix));
  const env: CliEnv = { root: path.join(dir, opts.rootName ?? "root"), config: path.join(dir, "config.json"), dockerConfig: path.join(dir, "docker") };
  fs.writeFileSync(env.config, JSON.stringify({ "registry-mirrors": [reg.url], "mirror-fallback": false }));
  expect(tinydock(env, ["pull", "-q", "busybox"]).code).toBe(0);
  const ns = `tdt-${crypto.randomBytes(4).toString("hex")}`;
  const inNs = (argv: string[]) => ["nsenter", `--net=/run/netns/${ns}`, ...argv];
  expect(Bun.spawnSync(["ip", "netns", "add", ns]).exitCode).toBe(0);
  Bun.spawnSync(inNs(["ip", "link", "set", "lo", "up"]));
  seedFirewall(inNs);
  const sh = (argv: string[]): ShResult => {
    const r = Bun.spawnSync(inNs(argv), { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const T = (args: string[], stdin?: string): CliResult => {
    const r = Bun.spawnSync(inNs([BINARY, ...args]), {
      env: cliEnv(env),
      stdout: "pipe",
      stderr: "pipe",
      stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    });
    return { code: r.exitCode ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  return {
    reg,
    env,
    dir,
    ns,
    inNs,
    sh,
    T,
    spawn: (args) => Bun.spawn(inNs([BINARY, ...args]), { env: cliEnv(env), stdin: "ignore", stdout: "pipe", stderr: "pipe" }),
    rules: () =>
      sh(["iptables-save"])
        .stdout.split("\n")
        .filter((l) => !l.startsWith("#"))
        .join("\n"),
    async stop() {
      const containers = path.join(env.root, "containers");
      const ids = fs.existsSync(containers) ? fs.readdirSync(containers).filter((n) => /^[a-f0-9]{64}$/.test(n)) : [];
      if (ids.length) T(["rm", "-f", ...ids]);
      T(["network", "prune", "-f"]);
      Bun.spawnSync(["ip", "netns", "del", ns]);
      await reg.stop();
      // Whatever a failed assertion left mounted (netns files, rootfs) must not outlive the test.
      for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").reverse()) {
        const mnt = line.split(" ")[4];
        if (mnt && mnt.startsWith(`${dir}/`)) Bun.spawnSync(["umount", "-l", mnt]);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
