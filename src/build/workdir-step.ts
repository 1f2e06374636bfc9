// WORKDIR: the directory is made in a layer of its own unless the image already has it.
import fs from "node:fs";
import { stepKey } from "./cachekey.ts";
import { isDirInImage, openUpperDir, type CopyInto } from "./copy.ts";
import { addEmptyStep, lowersOf, type State } from "./state.ts";
import { commitLayer, fromCache, type StepEnv } from "./step-env.ts";
import type { Step } from "./steps.ts";

export async function workdirStep(env: StepEnv, state: State, step: Extract<Step, { kind: "workdir" }>): Promise<void> {
  const { ctx, layout } = env;
  state.config = step.config;
  state.key = stepKey(state.key, step.createdBy);
  const exists = state.layers.length > 0 && isDirInImage({ sys: ctx.sys, upper: "/nonexistent", lowers: lowersOf(layout, state) }, step.path);
  if (exists || step.path === "/") return addEmptyStep(state, step.createdBy);
  if (fromCache(env, state, step.createdBy)) return;
  const upper = env.tmpUpper();
  const c: CopyInto = { sys: ctx.sys, upper, lowers: lowersOf(layout, state) };
  fs.closeSync(openUpperDir(c, step.path));
  commitLayer(env, state, await env.adoptDir(upper), step.createdBy);
}
