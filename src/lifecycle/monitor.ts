// The monitor of detached containers (conmon's role) and of `exec`: src/sys/monitor.c, a static C
// program built at `make` time, embedded here and executed from a memfd. This module starts it,
// reads its start report, and owns the format of run.json (the live state the supervisor writes).
//
// Why a C program and not a Bun process per container: an idle compiled Bun process costs ~23 MiB
// PSS (4 MiB each among ten), the monitor a fraction of conmon's 0.45 MiB (figure in
// test/e2e/detached.test.ts).
import fs from "node:fs";
import path from "node:path";
import { readJson } from "../atomic.ts";
import type { Ctx } from "../context.ts";
import { InternalError } from "../errors.ts";
import { decodePlan, encodePlan } from "../runtime/encode.ts";
import { initError, type ExitStatus } from "../runtime/launch.ts";
import type { RunPlan } from "../runtime/plan.ts";
import { dupFdAbove2, errnoName, memfdExecutable } from "../sys/ffi.ts";
import { parseStartReport } from "../sys/protocol.ts";
import { spawnReported } from "../sys/reported.ts";
import { backoffArg, SCHEDULES, type BackoffName } from "./backoff.ts";
import { eventsFile } from "./events.ts";
import { probePlanFile, type HealthProbe } from "./health.ts";
import { ZERO_TIME, type RunRecord } from "./state.ts";

export type RestartPolicyName = "no" | "always" | "on-failure" | "unless-stopped";

export interface RestartPolicy {
  name: RestartPolicyName;
  /** on-failure only: 0 = no limit. */
  maximumRetryCount: number;
  /** The waits between restarts (backoff.ts); absent = Docker's. */
  backoff?: BackoffName;
}

export interface LogOptions {
  /** containers/<id>/<id>-json.log, or "" for none (--log-driver none) */
  path: string;
  /** Rotate at this many bytes (0 = never). */
  maxSize: number;
  /** Keep this many files, the live one included. */
  maxFile: number;
}

/** Docker's "10m" (go-units FromHumanSize is decimal). */
export const DEFAULT_LOG_MAX_SIZE = 10_000_000;
export const DEFAULT_LOG_MAX_FILE = 3;

export interface DetachedRequest {
  id: string;
  /** containers/<id>: run.json and the `stopping` marker live here. */
  dir: string;
  /** Its stdio and consoleSocket are ignored: the monitor gives the container pipes (or a pty with tty). */
  plan: RunPlan;
  log: LogOptions;
  restart: RestartPolicy;
  /** v1 memory.oom_control / v2 memory.events: their oom_kill counter tells an OOM kill. */
  oomFiles: string[];
  /** Exec'd by the monitor when the container is done for good (`tinydock container cleanup <id>`). */
  cleanupArgv: string[];
  /** Give the container a pseudo-terminal (run -d -t); its output is logged as stdout. */
  tty?: boolean;
  /** -i without -t: stdin is DIR/stdin, a FIFO the monitor holds open, which `attach` writes to. */
  interactive?: boolean;
  /** Name and image the monitor's events carry. */
  actor?: { name: string; image: string; labels?: Record<string, string> };
  /** Config.Healthcheck's probe, run by the monitor. */
  health?: HealthProbe;
  /** Kubernetes probes, as DIR/probes.bin's bytes (lifecycle/probes.ts). */
  probes?: Uint8Array;
  /** A pod's container: what the monitor runs when it starts, ends or its readiness flips. */
  servicesHook?: ServicesHook;
  /** --link's containers: a restart while one is not running fails with `message`, as Docker's. */
  links?: { dir: string; message: string }[];
}

/** monitor/hook.c's -S, -V, -W: an argv and the whole environment, never a shell's. */
export interface ServicesHook {
  argv: string[];
  env: string[];
  /** The root's kube/services: while it is empty the hook does not run. */
  watch: string;
}

/**
 * The hidden `kube sync-services` of this executable (`self`: its path as the kernel resolved it at
 * start, process.execPath), with the root, exec root and config passed explicitly, so that the
 * Services the monitor's container belongs to follow it without a daemon.
 */
export function servicesHook(ctx: Pick<Ctx, "root" | "execRoot" | "configPath">, self: string[]): ServicesHook {
  // Loaded here, for a pod's container only: every run and start imports this module.
  const { SYSTEM_PATH } = require("../network/firewall.ts") as typeof import("../network/firewall.ts");
  const { servicesDir } = require("../network/service-rules.ts") as typeof import("../network/service-rules.ts");
  return {
    argv: [...self, "kube", "sync-services"],
    env: [`TINYDOCK_ROOT=${ctx.root}`, `TINYDOCK_EXEC_ROOT=${ctx.execRoot}`, `TINYDOCK_CONFIG=${ctx.configPath}`, `PATH=${SYSTEM_PATH}`],
    watch: servicesDir(ctx.root),
  };
}

export interface Detached {
  monitorPid: number;
  /** The container's PID 1 as the host sees it. */
  pid: number;
}

/** run.json as its writers (the monitor, a foreground `run`) write it: every field but those of a restart's wait (state.ts reads it as RunRecord). */
export type RunState = Required<Omit<RunRecord, "restartAt" | "restartDelay">>;

export { ZERO_TIME };

/** The encoded plan a container was created with (run.ts planFile): what a failed restart is named from. */
const PLAN_FILE = "plan.bin";
/** Where the monitor reads a container's Kubernetes probes (monitor/probe.c probes_load). */
const PROBES_FILE = "probes.bin";

export function runStatePath(dir: string): string {
  return path.join(dir, "run.json");
}

export function stoppingMarker(dir: string): string {
  return path.join(dir, "stopping");
}

/** `update --restart` on a container with a monitor: "NAME MAX\n", read at each end (monitor/run.c reload_policy). */
export function restartPolicyFile(dir: string): string {
  return path.join(dir, "restart-policy");
}

export function writeRestartPolicy(dir: string, p: RestartPolicy): void {
  const file = restartPolicyFile(dir);
  fs.writeFileSync(`${file}.tmp`, `${p.name} ${p.maximumRetryCount}\n`, { mode: 0o644 });
  fs.renameSync(`${file}.tmp`, file);
}

export function readRunState(dir: string): RunState | undefined {
  return readJson<RunState>(runStatePath(dir));
}

/**
 * Temp file + rename, as the monitor does it, without fsync: a reader never sees a torn file, and
 * after a power loss every container is gone anyway, so durability would buy nothing but the
 * fsyncs' milliseconds on every foreground run.
 */
/** The run record of a process just started: `pid` watched by `monitorPid`, no restart yet. */
export function startedRunState(pid: number, pidStartTime: number, monitorPid: number, monitorStartTime: number, startedAt: string): RunState {
  return { status: "running", pid, pidStartTime, monitorPid, monitorStartTime, startedAt, finishedAt: ZERO_TIME, exitCode: 0, oomKilled: false, restartCount: 0, error: "" };
}

export function writeRunState(dir: string, s: RunState): void {
  const file = runStatePath(dir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(s)}\n`, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/** The path execve takes for the embedded monitor (a sealed memfd of this process). */
export async function monitorExecutable(): Promise<string> {
  const { default: monitorBin } = await import("./monitor-binary.ts");
  return memfdExecutable("tinydock-monitor", fs.readFileSync(monitorBin));
}

/** The monitor's report on its fd 1 (src/sys/protocol.ts decodes it). */
export { parseStartReport };

/** run.json's record of a restart the init could not complete: what the init reported. */
export interface RecordedInitFailure {
  stage: number;
  errno: number;
  index: number;
  detail: string;
}

/**
 * The message of a restart that failed, named by operation from the plan the container was started
 * with (containers/<id>/plan.bin), as launch() names a first start's: `mount … on /data (…): ENOENT`.
 */
export function restartFailureMessage(plan: RunPlan, f: RecordedInitFailure): string {
  return initError(plan, { ...f, code: errnoName(f.errno) }).message;
}

/**
 * run.json as the monitor wrote it, its `error` named by operation when it recorded a failed restart
 * (`initFailure`) and the saved plan is there to name it from; else as written.
 */
export function withRestartError<T extends { error?: string }>(dir: string, run: T | undefined): T | undefined {
  const f = (run as { initFailure?: RecordedInitFailure } | undefined)?.initFailure;
  if (!run || !f) return run;
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path.join(dir, PLAN_FILE));
  } catch {
    return run;
  }
  try {
    return { ...run, error: restartFailureMessage(decodePlan(bytes), f) };
  } catch {
    return run; // a plan this version cannot read: the monitor's own words stay
  }
}

/** The labels for the monitor's events, as JSON members ("-A" '"k":"v",'); none past 2 KiB, as the monitor's line has room for. */
function labelMembers(labels: Record<string, string> | undefined): string[] {
  let text = "";
  for (const [k, v] of Object.entries(labels ?? {})) if (k !== "image" && k !== "name" && k !== "exitCode") text += `${JSON.stringify(k)}:${JSON.stringify(v)},`;
  return text && Buffer.byteLength(text) <= 2048 ? ["-A", text] : [];
}

export function monitorArgs(req: DetachedRequest & { events?: string }): string[] {
  const args = ["tinydock-monitor", "run", "-d", req.dir, "-l", req.log.path, "-s", String(req.log.maxSize), "-n", String(req.log.maxFile)];
  args.push("-r", req.restart.name, "-R", String(req.restart.maximumRetryCount), "-B", backoffArg(SCHEDULES[req.restart.backoff ?? "docker"]));
  for (const f of req.oomFiles) args.push("-o", f);
  if (req.tty) args.push("-t");
  if (req.interactive) args.push("-i");
  if (req.health) args.push("-H", req.health.spec, "-P", probePlanFile(req.dir));
  if (req.events) args.push("-E", req.events);
  if (req.actor) args.push("-N", req.actor.name, "-I", req.actor.image, ...labelMembers(req.actor.labels));
  if (req.servicesHook) {
    for (const a of req.servicesHook.argv) args.push("-S", a);
    for (const v of req.servicesHook.env) args.push("-V", v);
    args.push("-W", req.servicesHook.watch);
  }
  for (const l of req.links ?? []) args.push("-K", l.dir, "-k", l.message);
  args.push("--", ...req.cleanupArgv);
  return args;
}

/**
 * Starts the monitor, which starts the container. Resolves once the command has exec'd (run.json
 * says running by then); rejects with launch()'s typed errors (ExecError 126/127, SyscallError)
 * when the init could not get there — the monitor has then exited and started nothing.
 */
export async function startDetached(ctx: Ctx, req: DetachedRequest): Promise<Detached> {
  const plan = encodePlan({ ...req.plan, stdio: [-1, -1, -1], consoleSocket: -1 });
  if (req.health) fs.writeFileSync(probePlanFile(req.dir), encodePlan(req.health.plan), { mode: 0o600 });
  else fs.rmSync(probePlanFile(req.dir), { force: true });
  if (req.probes) fs.writeFileSync(path.join(req.dir, PROBES_FILE), req.probes, { mode: 0o600 });
  else fs.rmSync(path.join(req.dir, PROBES_FILE), { force: true });
  // argv[0] reads "tinydock-monitor" in ps; the executable is the memfd.
  const exe = await monitorExecutable();
  const started = spawnReported([exe, ...monitorArgs({ ...req, events: eventsFile(ctx.root) }).slice(1)], { argv0: "tinydock-monitor", input: plan, env: process.env });
  const proc = started.proc;
  const report = parseStartReport(started.report);
  if (report && "pid" in report) {
    proc.unref();
    ctx.log.debug(`monitor ${proc.pid} started container ${req.id.slice(0, 12)} as pid ${report.pid}`);
    return { monitorPid: proc.pid, pid: report.pid };
  }
  const code = await proc.exited;
  if (report) throw initError(req.plan, report.failure);
  throw new InternalError(`Cannot start container ${req.id.slice(0, 12)}: the monitor exited with code ${code} before starting it`);
}

export interface ExecRequest {
  /** The container's PID 1 (host pid): its namespaces are joined. */
  targetPid: number;
  /** Its start time (field 22 of /proc/<pid>/stat): a recycled pid is refused. */
  targetStartTime?: number;
  /** Only args, env, cwd, uid/gid/groups, capabilities, noNewPrivileges, seccomp, cgroupProcs matter. */
  plan: RunPlan;
  /** Fds of this process for the command's stdin, stdout, stderr (-1 = /dev/null). */
  stdio: [number, number, number];
  /** stdio[0] is a console socket (tty.ts): the command gets a terminal of the container's devpts, its master sent there. */
  tty: boolean;
  /** Detached (exec -d): do not wait for the command. */
  detach?: boolean;
}

export interface Execed {
  pid: number;
  monitorPid: number;
  exited: Promise<ExitStatus>;
  /** Sends a signal to the monitor, which passes it on to the command. */
  kill(signal: number | NodeJS.Signals): void;
}

/** Runs the command in the container and resolves to how it ended. */
export async function execInContainer(ctx: Ctx, req: ExecRequest): Promise<ExitStatus> {
  return await (await spawnInContainer(ctx, req)).exited;
}

/**
 * `exec`: the monitor joins the container's namespaces and cgroup and runs the command with the
 * container's privileges. Resolves once the command has exec'd; `exited` gives its exit code.
 */
export async function spawnInContainer(ctx: Ctx, req: ExecRequest): Promise<Execed> {
  // The monitor's fds 3, 4, 5 are the command's stdio (or /dev/null); fd 0 carries the plan.
  const planned: RunPlan = {
    ...req.plan,
    stdio: [req.stdio[0] < 0 ? -1 : 3, req.stdio[1] < 0 ? -1 : 4, req.stdio[2] < 0 ? -1 : 5],
    consoleSocket: req.tty ? 3 : -1,
  };
  // Bun.spawn passes no fd 0 among the extra fds: a duplicate numbered 3 or more goes instead.
  const dups: number[] = [];
  const fd = (n: number): number | "ignore" => {
    if (n < 0) return "ignore";
    if (n > 0) return n;
    dups.push(dupFdAbove2(n));
    return dups.at(-1)!;
  };
  const exe = await monitorExecutable();
  let started;
  try {
    started = spawnReported([exe, "exec", String(req.targetPid), ...(req.targetStartTime ? [String(req.targetStartTime)] : [])], {
      argv0: "tinydock-monitor",
      input: encodePlan(planned),
      fds: [fd(req.stdio[0]), fd(req.stdio[1]), fd(req.stdio[2])],
      env: process.env,
      ...(req.detach ? { detached: true } : {}),
    });
  } finally {
    for (const d of dups) fs.closeSync(d);
  }
  const { proc } = started;
  const report = parseStartReport(started.report);
  if (report && "pid" in report) {
    if (req.detach) proc.unref();
    ctx.log.debug(`exec monitor ${proc.pid} runs pid ${report.pid} in container pid ${req.targetPid}`);
    return {
      pid: report.pid,
      monitorPid: proc.pid,
      exited: proc.exited.then((code) => (code > 128 ? { exitCode: code, signal: code - 128 } : { exitCode: code })),
      kill: (signal) => proc.kill(signal),
    };
  }
  const code = await proc.exited;
  if (report) throw initError(req.plan, report.failure);
  throw new InternalError(`Cannot exec in container process ${req.targetPid}: the monitor exited with code ${code} before starting the command`);
}
