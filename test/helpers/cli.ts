// Runs the compiled ./tinydock as a user would, with its own root and config.
import fs from "node:fs";
import path from "node:path";

export const BINARY = path.resolve(import.meta.dir, "../../tinydock");

export interface CliEnv {
  root: string;
  config: string;
  dockerConfig: string;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function requireBinary(): void {
  if (!fs.existsSync(BINARY)) throw new Error(`${BINARY} is missing: run "make" first`);
}

export function cliEnv(env: CliEnv): Record<string, string> {
  return {
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: path.dirname(env.root),
    TINYDOCK_ROOT: env.root,
    TINYDOCK_CONFIG: env.config,
    DOCKER_CONFIG: env.dockerConfig,
  };
}

export function tinydock(env: CliEnv, args: string[], stdin?: string): CliResult {
  const r = Bun.spawnSync([BINARY, ...args], {
    env: cliEnv(env),
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? 128 + 9, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

export interface TimedRun extends CliResult {
  ms: number;
  timedOut: boolean;
}

/** The CLI with a deadline: a hang shows up as timedOut (the process is SIGKILLed), never as a stuck test. */
export function tinydockTimed(env: CliEnv, args: string[], stdin: Uint8Array | undefined, timeoutMs: number): TimedRun {
  const t0 = performance.now();
  const r = Bun.spawnSync([BINARY, ...args], { env: cliEnv(env), stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs, killSignal: "SIGKILL" });
  const ms = performance.now() - t0;
  return { code: r.exitCode ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString(), ms, timedOut: ms >= timeoutMs || r.signalCode === "SIGKILL" };
}

export function spawnTinydock(env: CliEnv, args: string[]) {
  return Bun.spawn([BINARY, ...args], { env: cliEnv(env), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
}
