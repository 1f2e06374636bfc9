// `exec`: a command in a running container, through the monitor's exec mode (it joins the
// container's namespaces and cgroup, then runs the command with the container's ids, caps,
// no_new_privs and seccomp). The container's own saved plan supplies those; -e/-u/-w adjust them.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { FailedPreconditionError } from "../errors.ts";
import { capabilitiesForUser } from "../runtime/capabilities.ts";
import { decodePlan } from "../runtime/encode.ts";
import { mergeEnv } from "../runtime/env.ts";
import type { RunPlan } from "../runtime/plan.ts";
import { parseGroup, parsePasswd, resolveUser } from "../runtime/user.ts";
import { FileTooLargeError, IN_ROOT, MAX_ETC_FILE, NotRegularFileError, O_CLOEXEC, readFileAt } from "../rootfs/beneath.ts";
import { containerPaths, findContainer } from "../store/containers.ts";
import { readLive } from "./live.ts";
import { sameProcess, withProcess } from "./liveness.ts";
import { spawnInContainer, type Execed } from "./monitor.ts";
import { openTtySession, type TtyOptions, type TtySession } from "./tty.ts";
import { planFile } from "./run.ts";
import { checkTransition } from "./state.ts";

export interface ExecOptions {
  args: string[];
  env: string[];
  user?: string;
  workdir?: string;
  /** -t (what execPlan reads: TERM); `terminal` carries the streams the pty is copied to. */
  tty: boolean;
  detach: boolean;
  /** The command's stdin, stdout, stderr; with `terminal`, its terminal's instead. */
  stdio: [number, number, number];
  /** With tty: the terminal its init makes in the container's devpts (tty.ts), copied to and from these streams. */
  terminal?: TtyOptions;
}

/**
 * A file of the container's rootfs, through /proc/<pid>/root with every symlink resolved inside it
 * (openat2 RESOLVE_IN_ROOT): an image whose /etc/passwd links to /etc/shadow gets the container's,
 * never the host's. Only a regular file is opened, without blocking, and read up to a cap: a FIFO
 * there would hang exec, a huge sparse file fill its memory. "" when the container has none.
 */
function readInContainer(ctx: Ctx, id: string, pid: number, startTime: number | undefined, file: string): string {
  // Through the checked /proc directory of its PID 1 (liveness.ts openProcess): never the root of
  // a process that took its pid.
  const text = withProcess(pid, startTime, (dir) => {
    try {
      const root = fs.openSync(`${dir}/root`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
      try {
        return readFileAt(ctx.sys, root, file.replace(/^\/+/, ""), MAX_ETC_FILE, IN_ROOT) ?? "";
      } finally {
        fs.closeSync(root);
      }
    } catch (err) {
      if (err instanceof NotRegularFileError) throw new FailedPreconditionError(`Cannot read ${file} of container ${id}: it is ${err.what}, not a regular file`);
      if (err instanceof FileTooLargeError) throw new FailedPreconditionError(`Cannot read ${file} of container ${id}: larger than ${MAX_ETC_FILE} bytes`);
      return "";
    }
  });
  if (text === undefined) throw new FailedPreconditionError(`Container ${id} is not running`);
  return text;
}

/** The process part of the container's plan, with exec's overrides (-u resolved in the container's files). Pure. */
export function execPlan(base: RunPlan, files: { passwd: string; group: string }, o: ExecOptions): RunPlan {
  let { uid, gid, additionalGids, capabilities } = base;
  let home: string | undefined;
  if (o.user !== undefined) {
    const u = resolveUser(o.user, parsePasswd(files.passwd), parseGroup(files.group));
    ({ uid, gid } = u);
    additionalGids = u.additionalGids;
    home = u.home;
    // The container's capability set, as a process of that user gets it (root: all of it).
    capabilities = capabilitiesForUser(base.capabilities.bounding, uid);
  }
  const env = mergeEnv(base.env, home ? [`HOME=${home}`] : [], o.tty ? ["TERM=xterm"] : [], o.env);
  return { ...base, args: o.args, env, uid, gid, additionalGids, capabilities, cwd: o.workdir ?? base.cwd, init: false, oomScoreAdj: null };
}

export async function execCommand(ctx: Ctx, ref: string, o: ExecOptions): Promise<Execed & { tty?: TtySession }> {
  const rec = findContainer(ctx.root, ref);
  const live = readLive(ctx, rec);
  checkTransition(live.state.Paused ? "paused" : live.state.Status, "exec", rec.id);
  const pid = live.state.Pid;
  const start = live.state.pidStartTime;
  if (!pid || !sameProcess(pid, start)) throw new FailedPreconditionError(`Container ${rec.id} is not running`);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(planFile(containerPaths(ctx.root, rec.id).dir));
  } catch {
    throw new FailedPreconditionError(`Cannot exec in container ${rec.id}: it has no saved run plan`);
  }
  const files = o.user !== undefined ? { passwd: readInContainer(ctx, rec.id, pid, start, "/etc/passwd"), group: readInContainer(ctx, rec.id, pid, start, "/etc/group") } : { passwd: "", group: "" };
  const plan = execPlan(decodePlan(bytes), files, o);
  const tty = o.terminal ? openTtySession(ctx.sys, o.terminal) : undefined;
  try {
    const execed = await spawnInContainer(ctx, {
      targetPid: pid,
      // The monitor opens /proc/<pid> and checks this start time before it opens anything below it.
      ...(start ? { targetStartTime: start } : {}),
      plan: tty ? { ...plan, consoleSize: tty.size } : plan,
      stdio: tty ? [tty.console, -1, -1] : o.stdio,
      tty: o.tty,
      detach: o.detach,
    });
    return tty ? { ...execed, tty } : execed;
  } catch (err) {
    tty?.close();
    throw err;
  }
}
