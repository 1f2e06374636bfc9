// The bench's children, each in its own process group so that stopping one (hyperfine, and the
// podman or umoci it is timing) reaches all of it, and only what the bench started.
import fs from "node:fs";
import path from "node:path";
import type { Subprocess } from "bun";
import { CACHE_ROOT } from "./image.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Children {
  private readonly live = new Set<Subprocess>();
  private stopped = false;

  /** Runs argv to completion; output is captured unless `inherit`. Throws once stopAll was called. */
  async run(argv: string[], env: Record<string, string>, opts: { inherit?: boolean } = {}): Promise<RunResult> {
    if (this.stopped) throw new Error(`Cannot run ${argv[0]}: the bench is stopping`);
    const io = opts.inherit ? "inherit" : "pipe";
    const proc = Bun.spawn(argv, { env, stdin: "ignore", stdout: io, stderr: io, detached: true });
    this.live.add(proc);
    try {
      const [stdout, stderr] = await Promise.all([
        proc.stdout instanceof ReadableStream ? new Response(proc.stdout).text() : "",
        proc.stderr instanceof ReadableStream ? new Response(proc.stderr).text() : "",
      ]);
      const code = await proc.exited;
      return { code: code ?? 128, stdout, stderr };
    } finally {
      this.live.delete(proc);
    }
  }

  /** SIGTERM to every live group, SIGKILL to those still there after `graceMs`; no new ones after. */
  async stopAll(graceMs = 5000): Promise<void> {
    this.stopped = true;
    const procs = [...this.live];
    for (const p of procs) signalGroup(p.pid, "SIGTERM");
    const all = Promise.all(procs.map((p) => p.exited));
    const done = await Promise.race([all.then(() => true), Bun.sleep(graceMs).then(() => false)]);
    if (!done) for (const p of procs) signalGroup(p.pid, "SIGKILL");
    await all;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** Mount points at or below `dir`, deepest first, from /proc/self/mountinfo. */
export function mountsUnder(dir: string): string[] {
  const root = path.resolve(dir);
  const points = fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => Boolean(p))
    .map((p) => p.replace(/\\(\d{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((p) => p === root || p.startsWith(`${root}/`));
  return points.sort((a, b) => b.length - a.length);
}

/** Unmounts whatever a tool left mounted under `dir`, then removes `dir`. */
export async function removeTree(children: Children, dir: string): Promise<void> {
  if (!fs.existsSync(dir)) return;
  for (const point of mountsUnder(dir)) {
    const r = await children.run(["umount", point], { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" });
    if (r.code !== 0) await children.run(["umount", "-l", point], { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" });
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A bench's entry point: runs `main`, and on exit, failure, SIGINT or SIGTERM stops every child and
 * runs the cleanup `main` registered, once. Exits with main's status (130/143 on a signal).
 */
export async function runBench(
  main: (children: Children, onCleanup: (fn: (children: Children) => Promise<void>) => void) => Promise<number>,
): Promise<never> {
  const children = new Children();
  let cleanup: ((children: Children) => Promise<void>) | undefined;
  let cleaning: Promise<void> | undefined;
  let interrupted = false;
  const cleanUp = (): Promise<void> => {
    cleaning ??= (async () => {
      await children.stopAll();
      await cleanup?.(new Children());
    })();
    return cleaning;
  };
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\n# ${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(code));
    });
  }
  let status = 1;
  try {
    status = await main(children, (fn) => {
      cleanup = fn;
    });
  } catch (err) {
    if (!interrupted) console.error(`bench failed: ${(err as Error).message}`);
  } finally {
    await cleanUp();
  }
  if (interrupted) await new Promise(() => {});
  process.exit(status);
}

/** A positive integer from the environment (BENCH_*_RUNS), or the default. */
export function positiveEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`Cannot parse ${name} "${v}": not a positive integer`);
  return n;
}

export const log = (line: string): void => console.log(`# ${line}`);
/** Single-quoted for sh. */
export const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
export const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** The binary a bench measures (TINYDOCK_BIN or ./tinydock), or undefined after saying what is missing. */
export function benchBinary(tools: string[], pathEnv: string): string | undefined {
  const binary = path.resolve(process.env.TINYDOCK_BIN || path.join(import.meta.dir, "..", "tinydock"));
  if (!fs.existsSync(binary)) {
    console.error(`Cannot run the bench: ${binary} does not exist (run make first)`);
    return undefined;
  }
  const missing = tools.filter((t) => !Bun.which(t, { PATH: pathEnv }));
  if (missing.length > 0) {
    console.error(`Cannot run the bench: ${missing.join(", ")} not installed (make deps)`);
    return undefined;
  }
  return binary;
}

/** What runBinaryBench gives a bench of the binary. */
export interface BinaryBench {
  children: Children;
  /** Takes what undoes main's work; it runs with its own Children, after `children` stopped. */
  onCleanup: (fn: (children: Children) => Promise<void>) => void;
  binary: string;
  /** Fresh, on disk under CACHE_ROOT, like /var/lib: /tmp may be a tmpfs, which would hide the cost of writing. */
  workdir: string;
}

/**
 * runBench for a bench of the binary: `main` runs once the binary and `tools` are there, in a new
 * work directory named `prefix`…; the bench then says how long it took.
 */
export function runBinaryBench(tools: string[], pathEnv: string, prefix: string, main: (b: BinaryBench) => Promise<number>): Promise<never> {
  return runBench(async (children, onCleanup) => {
    const started = performance.now();
    const binary = benchBinary(tools, pathEnv);
    if (!binary) return 1;
    fs.mkdirSync(CACHE_ROOT, { recursive: true });
    const status = await main({ children, onCleanup, binary, workdir: fs.mkdtempSync(path.join(CACHE_ROOT, prefix)) });
    log(`bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return status;
  });
}

/** The bench `script` again, inside a network namespace made for it; the namespace goes afterwards, with what is in it. */
export async function inOwnNetns(script: string): Promise<number> {
  const ns = `tinydock-bench-${process.pid}`;
  const ip = (...args: string[]) => Bun.spawnSync(["ip", ...args], { stdout: "ignore", stderr: "inherit" }).exitCode;
  if (ip("netns", "add", ns) !== 0) return 1;
  try {
    if (ip("-n", ns, "link", "set", "lo", "up") !== 0) return 1;
    const child = Bun.spawn(["nsenter", `--net=/run/netns/${ns}`, process.execPath, script], {
      env: { ...process.env, TINYDOCK_BENCH_NETNS: ns },
      stdio: ["ignore", "inherit", "inherit"],
    });
    // Ctrl-C reaches the bench in its process group (it cleans up); this process outlives it to
    // delete the namespace. A SIGTERM sent here alone is passed on.
    const handlers = [["SIGINT", () => {}], ["SIGTERM", () => child.kill("SIGTERM")]] as const;
    for (const [sig, fn] of handlers) process.on(sig, fn);
    try {
      return await child.exited;
    } finally {
      for (const [sig, fn] of handlers) process.off(sig, fn);
    }
  } finally {
    ip("netns", "del", ns);
  }
}

/** Pss in KiB of one process, or undefined when it is gone. */
export function pssKiB(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export const mib = (kib: number): string => (kib / 1024).toFixed(2);
