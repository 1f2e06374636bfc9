// `tinydock build`: Dockerfile → stages → steps → layers → an image record. Metadata steps change
// the config only; COPY/ADD/WORKDIR write a fresh upper directory; RUN runs a container on the
// intermediate image whose upper directory becomes the layer (copy-step.ts, workdir-step.ts,
// run-step.ts). Every filesystem step is cached under its chain key (cache.ts); the entry names the
// layer it made. Stages are scheduled by stages.ts.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError, isKind, TinydockError } from "../errors.ts";
import { startLayer, writeLayer } from "../rootfs/writelayer.ts";
import { resolveImage, type ImageRecord, type LayerRecord } from "../store/images.ts";
import { scratchDir } from "../store/scratch.ts";
import { openStore } from "../store/init.ts";
import { DigestCache, type ContextSource } from "./buildcontext.ts";
import { BuildCache } from "./cache.ts";
import { stepKey } from "./cachekey.ts";
import { Cancellation } from "./cancellation.ts";
import { createdTime, platformArgs, scratchConfig } from "./config.ts";
import { parsePlatform, platformMatches } from "../image/platform.ts";
import { copyStep } from "./copy-step.ts";
import { parseDockerfile, type Instruction, type StageDef } from "./dockerfile.ts";
import { parseDockerignore, type IgnorePattern } from "./dockerignore.ts";
import { readContextFile } from "./inputs.ts";
import { expandWord, lookupIn } from "./expand.ts";
import { adoptBuiltLayer, saveBuiltImage, storeLayer } from "./imagestore.ts";
import { BuildCancelled, BuildStepFailed, type BuildRequest, type BuildResult } from "./request.ts";
import { runStep } from "./run-step.ts";
import { Scratch } from "./scratch.ts";
import { scheduleStages } from "./stages.ts";
import { addEmptyStep, imageConfigOf, stateOfImage, tempRecord, type State } from "./state.ts";
import type { StepEnv } from "./step-env.ts";
import { planStep, splitArgInstruction, type StageScope, type Step } from "./steps.ts";
import { workdirStep } from "./workdir-step.ts";

export async function buildImage(ctx: Ctx, req: BuildRequest): Promise<BuildResult> {
  const layout = openStore(ctx.root);
  const df = parseDockerfile(req.dockerfile.text, req.dockerfile.name);
  const cacheDir = path.join(layout.root, "build-cache");
  fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const digests = new DigestCache(path.join(cacheDir, "digests.json"));
  const ignoreText = readContextFile(ctx.sys, req.contextDir, ".dockerignore");
  const ignore: IgnorePattern[] = ignoreText === undefined ? [] : parseDockerignore(ignoreText);
  const context: ContextSource = { root: req.contextDir, ignore };
  const sourceDateEpoch = process.env.SOURCE_DATE_EPOCH;
  const epoch = sourceDateEpoch !== undefined && /^\d+$/.test(sourceDateEpoch) ? Number(sourceDateEpoch) : undefined;

  // ARGs before FROM, BuildKit's platform ARGs among them (a bare `ARG TARGETARCH` keeps its value).
  const metaArgs = platformArgs(req.platform ?? ctx.platform, ctx.platform);
  for (const ins of df.metaArgs.flatMap((i) => splitArgInstruction(i, df.escape))) {
    const eq = ins.args.indexOf("=");
    const name = eq < 0 ? ins.args.trim() : ins.args.slice(0, eq);
    const dflt = eq < 0 ? undefined : expandWord(ins.args.slice(eq + 1), lookupIn(new Map([...metaArgs].filter((e): e is [string, string] => e[1] !== undefined))), df.escape);
    metaArgs.set(name, Object.hasOwn(req.buildArgs, name) ? req.buildArgs[name] : (dflt ?? metaArgs.get(name)));
  }
  const metaLookup = (n: string) => metaArgs.get(n);

  const stages = df.stages;
  let targetIndex = stages.length - 1;
  if (req.target !== undefined) {
    targetIndex = stages.findIndex((s) => s.name === req.target!.toLowerCase());
    if (targetIndex < 0) throw new InvalidArgumentError(`Cannot build: target stage "${req.target}" could not be found`);
  }
  const stageByRef = (ref: string, before: number): number | undefined => {
    const lower = ref.toLowerCase();
    const byName = stages.findIndex((s, i) => i < before && s.name === lower);
    if (byName >= 0) return byName;
    if (/^\d+$/.test(ref) && Number(ref) < before) return Number(ref);
    return undefined;
  };
  const total = stages.slice(0, targetIndex + 1).reduce((n, s) => n + 1 + s.instructions.length, 0);

  const scratch = new Scratch();
  // As a pull does: a garbage collection elsewhere must not take the layers this build made before
  // its image record exists (nor the intermediate records' layers).
  const { acquireLock } = await import("../store/lock.ts");
  const gcShared = await acquireLock(ctx, layout.gcLock, { shared: true });
  scratch.add(() => gcShared.release());
  const cancel = new Cancellation();
  cancel.listen();

  const results = new Map<number, State>();
  const mounted = new Map<number, string>();
  const cache = new BuildCache(cacheDir, layout, req.noCache);
  scratch.add(async () => {
    await Promise.allSettled(cache.blobs);
  });

  // The image of a FROM (its --platform, else --platform's): the local one when its platform is
  // the one wanted, else pulled for that platform.
  const baseImage = async (ref: string, platform = req.platform): Promise<ImageRecord> => {
    if (!req.pull) {
      try {
        const local = resolveImage(layout, ref).record;
        if (!platform || platformMatches(local.platform, platform)) return local;
      } catch (err) {
        if (!isKind(err, "NotFound")) throw err;
      }
    }
    const { pullImage } = await import("../rootfs/pull.ts");
    return (await pullImage(ctx, ref, platform ? { platform } : {})).record;
  };
  const layerOptions = { sys: ctx.sys, ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}) };
  const env: StepEnv = {
    ctx,
    req,
    layout,
    scratch,
    cache,
    cancel,
    context,
    digests,
    total,
    counts: { step: 0, cached: 0 },
    tmpUpper: () => {
      const dir = scratchDir(layout.tmpDir, "build");
      scratch.add(() => fs.rmSync(dir, { recursive: true, force: true }));
      fs.chmodSync(dir, 0o755);
      return dir;
    },
    adoptDir: async (dir: string): Promise<LayerRecord | null> => {
      if (fs.readdirSync(dir).length === 0) return null;
      const started = startLayer(dir, layout.tmpDir, layerOptions);
      scratch.add(async () => {
        const b = await started.blob.catch(() => undefined);
        if (b) fs.rmSync(b.file, { force: true });
      });
      const { layer, blob } = await adoptBuiltLayer(ctx, layout, dir, started);
      cache.pending(layer, blob);
      return layer;
    },
    layerFromDir: async (s: State, dir: string): Promise<LayerRecord | null> => {
      if (fs.readdirSync(dir).length === 0) return null;
      const w = await writeLayer(dir, layout.tmpDir, layerOptions);
      scratch.add(() => fs.rmSync(w.file, { force: true }));
      return await storeLayer(ctx, layout, w, s.layers);
    },
    nowCreated: () => createdTime(ctx.clock(), sourceDateEpoch),
    sourceRootOf: async (from: string, before: number): Promise<string> => {
      const idx = stageByRef(from, before);
      const { mountImage, unmountImage } = await import("../rootfs/images.ts");
      if (idx !== undefined) {
        const have = mounted.get(idx);
        if (have) return have;
        const rec = tempRecord(ctx, layout, scratch, results.get(idx)!);
        const p = mountImage(ctx, rec.id);
        scratch.add(() => void unmountImage(ctx, rec.id));
        mounted.set(idx, p);
        return p;
      }
      const rec = await baseImage(from);
      const p = mountImage(ctx, rec.id);
      scratch.add(() => void unmountImage(ctx, rec.id));
      return p;
    },
  };

  const buildStage = async (stage: StageDef): Promise<State> => {
    const fromRef = expandWord(stage.from, metaLookup, df.escape);
    env.counts.step++;
    req.progress(`Step ${env.counts.step}/${total} : FROM ${fromRef}${stage.name ? ` AS ${stage.name}` : ""}`);
    let state: State;
    const prior = stageByRef(fromRef, stage.index);
    if (prior !== undefined && stages[prior]!.name === fromRef.toLowerCase()) {
      const p = results.get(prior)!;
      state = { ...structuredClone(p), key: p.key };
    } else if (fromRef.toLowerCase() === "scratch") {
      state = { config: scratchConfig(), platform: req.platform ?? ctx.platform, layers: [], history: [], created: new Date(0).toISOString(), key: "sha256:scratch" };
    } else {
      const platform = stage.platform === undefined ? undefined : parsePlatform(expandWord(stage.platform, metaLookup, df.escape), ctx.platform);
      state = stateOfImage(layout, await baseImage(fromRef, platform ?? req.platform));
    }
    const scope: StageScope = { config: state.config, args: new Map(), buildArgs: req.buildArgs, metaArgs, escape: df.escape, cmdSet: false, source: req.dockerfile.name };
    let instructions: Instruction[] = stage.instructions;
    // The base's ONBUILD triggers run as part of its FROM step, as Docker runs and counts them.
    let triggers = 0;
    if (state.config.OnBuild?.length) {
      const parsed = state.config.OnBuild.flatMap((t) => parseDockerfile(`FROM scratch\n${t}\n`, `${req.dockerfile.name} (ONBUILD of ${fromRef})`).stages[0]!.instructions.map((i) => ({ ...i, line: stage.line })));
      triggers = parsed.length;
      req.progress(`# Executing ${triggers} build trigger${triggers > 1 ? "s" : ""}`);
      instructions = [...parsed, ...instructions];
      state.config.OnBuild = null;
    }
    for (const [idx, ins0] of instructions.entries()) {
      for (const ins of splitArgInstruction(ins0, df.escape)) {
        cancel.check();
        scope.config = state.config;
        const step: Step = planStep(ins, scope);
        if (idx >= triggers) {
          env.counts.step++;
          req.progress(`Step ${env.counts.step}/${total} : ${ins.keyword} ${Object.entries(ins.flags).map(([k, v]) => `--${k}=${v} `).join("")}${ins.args}`);
        }
        switch (step.kind) {
          case "arg":
            scope.args.set(step.name, step.value);
            break;
          case "meta":
            state.config = step.config;
            if (step.cmdSet) scope.cmdSet = true;
            if (ins.keyword === "MAINTAINER") state.author = ins.args;
            addEmptyStep(state, step.createdBy);
            state.key = stepKey(state.key, step.createdBy);
            break;
          case "workdir":
          case "copy":
          case "run":
            await fsStep(env, state, step, ins, stage.index).catch((err: unknown) => {
              throw stepFailure(err, `step ${env.counts.step}/${total} (${req.dockerfile.name}:${ins.line}) ${ins.keyword}`);
            });
            break;
        }
      }
    }
    return state;
  };

  try {
    const stageOf = (ref: string, before: number) => stageByRef(expandWord(ref, metaLookup, df.escape), before);
    await scheduleStages(
      stages,
      targetIndex,
      stageOf,
      async (i) => void results.set(i, await buildStage(stages[i]!)),
      () => cancel.fail(),
      () => cancel.signal !== undefined,
    );
    await Promise.all(cache.blobs);
    cancel.check();
    const final = results.get(targetIndex)!;
    const config = imageConfigOf(final, req.labels);
    const record = await saveBuiltImage(ctx, layout, config, final.layers, req.tags);
    digests.save();
    return { id: record.id, record, steps: env.counts.step, cached: env.counts.cached };
  } finally {
    cancel.unlisten();
    await scratch.run();
  }
}

function fsStep(env: StepEnv, state: State, step: Extract<Step, { kind: "workdir" | "copy" | "run" }>, ins: Instruction, stageIndex: number): Promise<void> {
  if (step.kind === "workdir") return workdirStep(env, state, step);
  if (step.kind === "copy") return copyStep(env, state, step, ins, stageIndex);
  return runStep(env, state, step, ins);
}

/** A step's error, its kind kept, naming the step and its line (a failed RUN names them already). */
function stepFailure(err: unknown, where: string): unknown {
  if (!(err instanceof TinydockError) || err instanceof BuildStepFailed || err instanceof BuildCancelled) return err;
  return new TinydockError(err.kind, `failed to solve: ${where}: ${err.message}`, { cause: err });
}
