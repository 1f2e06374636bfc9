// WORKDIR: the directory is made in a layer of its own unless the image already has it.
import fs from "node:fs";
import { stepKey } from "./cachekey.ts";
import { isDirInLayers, resolveInLayers } from "../rootfs/layerpath.ts";
import { openUpperDir, type CopyInto } from "./copy.ts";
import { addEmptyStep, lowersOf, type State } from "./state.ts";
import { commitLayer, fromCache, type StepEnv } from "./step-env.ts";
import type { Step } from "./steps.ts";

export async function workdirStep(env: StepEnv, state: State, step: Extract<Step, { kind: "workdir" }>): Promise<void> {
  const { ctx, layout } = env;
  state.config = step.config;
  state.key = stepKey(state.key, step.createdBy);
  const lowers = lowersOf(layout, state);
  // Made where the image's links lead, inside the image (a link to the host's path is the image's path).
  const dir = `/${resolveInLayers(lowers, step.path, ctx.sys).join("/")}`;
  if (dir === "/" || isDirInLayers(lowers, dir, ctx.sys)) return addEmptyStep(state, step.createdBy);
  if (fromCache(env, state, step.createdBy)) return;
  const upper = env.tmpUpper();
  const c: CopyInto = { sys: ctx.sys, upper, lowers };
  fs.closeSync(openUpperDir(c, dir));
  commitLayer(env, state, await env.adoptDir(upper), step.createdBy);
}
