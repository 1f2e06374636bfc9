// `run`: image → container dir → cgroup → plan → launch → wait → record or remove.
// Everything this creates is undone on every failure path; with --rm also on success.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { encodePlan, withoutCallerFds, type EncodedPlan } from "../runtime/encode.ts";
import { launch, type Launched } from "../runtime/launch.ts";
import type { RunPlan } from "../runtime/plan.ts";
import { containerPaths, findContainer, saveContainer, type ContainerRecord } from "../store/containers.ts";
import { actorOf, appendEvent } from "./events.ts";
import { healthProbe } from "./health.ts";
import { processStartTime } from "./liveness.ts";
import { encodeMonitorProbes } from "./probes.ts";
import { DEFAULT_LOG_MAX_FILE, DEFAULT_LOG_MAX_SIZE, servicesHook, startedRunState, writeRunState, type Detached } from "./monitor.ts";
import { prepareContainer } from "./run/prepare.ts";
import type { HealthConfig } from "./run/healthcheck.ts";
import type { RunIo, RunRequest } from "./run/request.ts";
import { trashContainerDir } from "./trash.ts";
import { logDriverOf } from "./logdriver.ts";

export interface RunHooks {
  /** Called once the container exists, before it runs (--cidfile). */
  created?: (id: string) => void;
  /** Called once the container runs: wire signals, tty resize. */
  started?: (c: Launched) => void;
}

export interface RunOutcome {
  id: string;
  exitCode: number;
  oomKilled: boolean;
}

/** The cgroup files whose oom_kill counter says an OOM kill happened (v2 memory.events, v1 memory.oom_control). */
export function oomFilesOf(procsFiles: string[]): string[] {
  const out: string[] = [];
  for (const f of procsFiles) {
    const dir = path.dirname(f);
    for (const name of ["memory.events", "memory.oom_control"]) {
      if (fs.existsSync(path.join(dir, name))) {
        out.push(path.join(dir, name));
        break;
      }
    }
  }
  return out;
}

/** The tinydock binary (and its script, when not compiled) the monitor execs to clean up. */
export function selfArgv(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}

/** Where create saves the encoded plan that `start` hands to the monitor. */
export function planFile(dir: string): string {
  return path.join(dir, "plan.bin");
}

/** The plan as kept in planFile for `exec` and `start`: no fd of the caller's in it. */
export function storedPlan(plan: RunPlan): Uint8Array {
  return encodePlan({ ...plan, stdio: [-1, -1, -1], consoleSocket: -1 });
}

export async function runContainer(ctx: Ctx, req: RunRequest, io: RunIo, hooks: RunHooks = {}): Promise<RunOutcome> {
  const p = await prepareContainer(ctx, req, io, "foreground");
  const { id, paths, state, plan, cgroup, t } = p;
  try {
    hooks.created?.(id);
    const actor = actorOf(state);
    // For `exec` into it while it runs and `start` after it ended (no fsync: a page-cache write),
    // written while the container's process mounts; the create event too: the init waits for
    // nothing of either, only for its plan.
    const whileStarting = (encoded: EncodedPlan) => {
      appendEvent(ctx.root, "create", actor);
      fs.writeFileSync(planFile(paths.dir), withoutCallerFds(encoded), { mode: 0o600 });
    };
    const launched = await launch(ctx.sys, plan, p.early, whileStarting);
    t.mark("launch (compile, clone, mounts, exec)");
    const startedAt = new Date(ctx.clock()).toISOString();
    // Not saved to state.json: the live state is run.json's (two fsyncs less on every run).
    state.state = { ...state.state, status: "running", pid: launched.pid, startedAt };
    // This process supervises the container: run.json names it, as the monitor names itself.
    const run = startedRunState(launched.pid, processStartTime(launched.pid) ?? 0, process.pid, processStartTime(process.pid) ?? 0, startedAt);
    writeRunState(paths.dir, run);
    appendEvent(ctx.root, "start", actor);
    hooks.started?.(launched);
    const status = await launched.exited;
    t.mark("container ran");
    const oomKilled = cgroup.oomKilled();
    const exitCode = oomKilled && status.exitCode === 128 + 9 ? 137 : status.exitCode;
    const finishedAt = new Date(ctx.clock()).toISOString();
    state.state = { ...state.state, status: "exited", pid: 0, exitCode, oomKilled, finishedAt };
    if (oomKilled) appendEvent(ctx.root, "oom", actor);
    appendEvent(ctx.root, "die", actor, { exitCode: String(exitCode) });
    if (req.lifetime.rm) {
      // The directory leaves the listing in one rename; the early init deletes it while we exit
      // (the upper dir holds whatever the container wrote: deleting it took 2-4 ms for `true`).
      // Handed over first: it deletes while the cleanup below (cgroup, lock) runs.
      const trash = p.early ? trashContainerDir(ctx.root, id) : undefined;
      const handed = trash !== undefined && p.early!.discard(trash);
      p.cleanup();
      if (trash && !handed) fs.rmSync(trash, { recursive: true, force: true });
      appendEvent(ctx.root, "destroy", actor);
    } else {
      // Keep the container (stopped) as Docker does; the cgroup goes, the record stays.
      cgroup.destroy();
      if (state.ports?.length) {
        const { unpublishPortsSync } = await import("../network/ports.ts");
        unpublishPortsSync(ctx, id);
        delete state.ports;
      }
      if (p.network.mode !== "none" && p.network.mode !== "host") {
        // The address is released on stop, as Docker does.
        const { detachNetwork } = await import("../network/attach.ts");
        detachNetwork(ctx, id, p.network);
      }
      saveContainer(ctx.root, state);
      writeRunState(paths.dir, { ...run, status: "exited", pid: 0, pidStartTime: 0, finishedAt, exitCode, oomKilled });
      p.keep();
      // Its rootfs stays mounted in the namespace the early init holds until it is gone: `start`
      // run next could not mount the same upper and work directories again before that.
      await p.early?.ended;
    }
    t.mark("cleanup");
    t.report();
    return { id, exitCode, oomKilled };
  } catch (err) {
    p.cleanup();
    throw err;
  }
}

/** `create`: the container's directory, state.json, cgroup and plan.bin; nothing runs. */
export async function createContainer(ctx: Ctx, req: RunRequest, io: RunIo): Promise<{ id: string }> {
  const p = await prepareContainer(ctx, req, { ...io, stdin: -1, stdout: -1, stderr: -1, consoleSocket: -1 }, "create");
  try {
    fs.writeFileSync(planFile(p.paths.dir), encodePlan(p.plan), { mode: 0o600 });
    p.keep();
    appendEvent(ctx.root, "create", actorOf(p.state));
    return { id: p.id };
  } catch (err) {
    p.cleanup();
    throw err;
  }
}

/** `run -d`: create, then a monitor starts and supervises it. Resolves once the command runs. */
export async function runDetached(ctx: Ctx, req: RunRequest, io: RunIo): Promise<{ id: string } & Detached> {
  const p = await prepareContainer(ctx, req, { ...io, stdin: -1, stdout: -1, stderr: -1, consoleSocket: -1 }, "detached");
  try {
    fs.writeFileSync(planFile(p.paths.dir), encodePlan(p.plan), { mode: 0o600 });
    appendEvent(ctx.root, "create", actorOf(p.state));
    const { startDetached } = await import("./monitor.ts");
    const d = await startDetached(ctx, detachedRequest(ctx, p.state, p.paths.dir, p.plan, p.cgroup.procsFiles));
    p.keep();
    p.t.mark("monitor started");
    p.t.report();
    return { id: p.id, ...d };
  } catch (err) {
    p.cleanup();
    throw err;
  }
}

/** What the monitor needs, from the container's record and plan (a pod's: the Services hook too). */
export function detachedRequest(ctx: Pick<Ctx, "root" | "execRoot" | "configPath">, rec: ContainerRecord, dir: string, plan: RunPlan, procsFiles: string[]) {
  return {
    id: rec.id,
    dir,
    plan,
    // --log-driver none: no file ("" tells the monitor to keep none); its output is still drained.
    log: { path: logDriverOf(rec) === "none" ? "" : path.join(dir, `${rec.id}-json.log`), maxSize: rec.logConfig?.maxSize ?? DEFAULT_LOG_MAX_SIZE, maxFile: rec.logConfig?.maxFile ?? DEFAULT_LOG_MAX_FILE },
    restart: rec.restartPolicy ?? { name: "no" as const, maximumRetryCount: 0 },
    oomFiles: oomFilesOf(procsFiles),
    cleanupArgv: [...selfArgv(), "container", "cleanup", rec.id],
    tty: rec.config?.Tty === true,
    interactive: rec.config?.OpenStdin === true,
    actor: actorOf(rec),
    ...healthProbe(rec.config?.Healthcheck as HealthConfig | undefined, plan),
    ...(rec.probes?.length ? { probes: encodeMonitorProbes(rec.probes, plan) } : {}),
    ...(rec.pod ? { servicesHook: servicesHook(ctx, selfArgv()) } : {}),
    ...linkChecks(ctx, rec),
  };
}

/** HostConfig.Links ("/b:/a/b") as the monitor checks them before a restart: the dir of each linked container, Docker's error. */
function linkChecks(ctx: Pick<Ctx, "root">, rec: ContainerRecord): { links?: { dir: string; message: string }[] } {
  const specs = (rec.hostConfig?.Links as string[] | undefined) ?? [];
  const links: { dir: string; message: string }[] = [];
  for (const spec of specs) {
    const i = spec.indexOf(":");
    const name = spec.slice(0, i);
    let target: ContainerRecord;
    try {
      target = findContainer(ctx.root, name.replace(/^\//, ""));
    } catch {
      continue; // gone since: the start that is under way has already told
    }
    links.push({ dir: containerPaths(ctx.root, target.id).dir, message: `Cannot link to a non running container: ${name} AS ${spec.slice(i + 1)}` });
  }
  return links.length ? { links } : {};
}
