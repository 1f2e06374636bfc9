// RUN: a container on the intermediate image (lifecycle/build-step.ts) whose upper directory,
// less the mount points the runtime made, becomes the layer.
import fs from "node:fs";
import path from "node:path";
import { madeMountpoint, MOUNTPOINT_FILES } from "../rootfs/changes.ts";
import { entryInLayers } from "../rootfs/layerpath.ts";
import { stepKey } from "./cachekey.ts";
import type { Instruction } from "./dockerfile.ts";
import { BuildStepFailed } from "./request.ts";
import { lowersOf, tempRecord, type State } from "./state.ts";
import { commitLayer, fromCache, type StepEnv } from "./step-env.ts";
import { HEREDOC_SCRIPT_DIR, type Step } from "./steps.ts";
import type { VolumeSpec } from "../runtime/volumes.ts";
import type { Sys } from "../sys/sys.ts";

export async function runStep(env: StepEnv, state: State, step: Extract<Step, { kind: "run" }>, ins: Instruction): Promise<void> {
  const { ctx, req, layout, cancel } = env;
  state.key = stepKey(state.key, step.createdBy, { env: JSON.stringify(step.env), user: step.user ?? "", workdir: step.workdir, shell: JSON.stringify(state.config.Shell ?? []), ...(step.script ? { script: step.script.content } : {}) });
  if (fromCache(env, state, step.createdBy)) return;
  let mounts: VolumeSpec[] = [];
  if (step.script) {
    // A here-document with #!: an executable file, mounted read-only where the command names it.
    const dir = env.tmpUpper();
    fs.writeFileSync(path.join(dir, step.script.name), step.script.content, { mode: 0o755 });
    mounts = [{ type: "bind", source: dir, target: HEREDOC_SCRIPT_DIR, readonly: true }];
  }
  const rec = tempRecord(ctx, layout, env.scratch, state);
  const { runBuildStep } = await import("../lifecycle/build-step.ts");
  const at = env.counts.step;
  let myKill: ((s: NodeJS.Signals) => void) | undefined;
  const r = await runBuildStep(ctx, {
    image: rec.id,
    argv: step.argv,
    env: step.env,
    ...(step.user ? { user: step.user } : {}),
    workdir: step.workdir,
    mounts,
    network: req.network,
    stdout: req.stdout,
    stderr: req.stderr,
    started: (kill) => {
      myKill = kill;
      cancel.kills.add(kill);
      if (cancel.stopped) kill("SIGKILL");
    },
  });
  if (myKill) cancel.kills.delete(myKill);
  try {
    cancel.check();
    if (r.exitCode !== 0) {
      const shown = ins.json ? JSON.stringify(step.argv) : step.argv.join(" ");
      throw new BuildStepFailed(`failed to solve: step ${at}/${env.total} (${req.dockerfile.name}:${ins.line}) RUN: process "${shown}" did not complete successfully: exit code: ${r.exitCode}`, r.exitCode);
    }
    pruneMountpoints(ctx.sys, r.upper, lowersOf(layout, state));
    commitLayer(env, state, await env.layerFromDir(state, r.upper), step.createdBy);
  } finally {
    await r.remove();
    req.progress(`Removing intermediate container ${r.id.slice(0, 12)}`);
  }
}

/**
 * The mount points a RUN's container got made in its upper dir are not the step's changes: empty
 * ones the image did not have go (and /etc with them when nothing else is in it), as BuildKit
 * removes its own.
 */
export function pruneMountpoints(sys: Sys, upper: string, lowers: readonly string[]): void {
  for (const rel of MOUNTPOINT_FILES) {
    const file = madeMountpoint(sys, upper, rel, lowers);
    if (file !== undefined) fs.unlinkSync(file);
  }
  const etc = entryInLayers([upper], ["etc"], sys);
  if (etc.kind === "found" && etc.st.isDirectory() && fs.readdirSync(etc.file).length === 0 && entryInLayers(lowers, ["etc"], sys).kind !== "found") fs.rmdirSync(etc.file);
}
