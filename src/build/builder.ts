// `tinydock build`: Dockerfile → stages → steps → layers → an image record. Metadata steps change
// the config only; COPY/ADD/WORKDIR write a fresh upper directory; RUN runs a container on the
// intermediate image (lifecycle/build-step.ts) whose upper directory becomes the layer. Every
// filesystem step is cached under its chain key (cachekey.ts); the entry names the layer it made.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, InvalidArgumentError, isKind, NotFoundError, TinydockError } from "../errors.ts";
import { shortId } from "../image/digest.ts";
import type { ImageConfig } from "../image/manifest.ts";
import type { Platform } from "../image/platform.ts";
import { readJson, writeFileAtomic } from "../atomic.ts";
import { startLayer, writeLayer } from "../rootfs/writelayer.ts";
import { readBlob } from "../store/content.ts";
import { loadImage, resolveImage, type ImageRecord, type LayerRecord } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import type { StoreLayout } from "../store/layout.ts";
import { stepKey } from "./cachekey.ts";
import { assembleImageConfig, createdTime, scratchConfig, type BuildConfig, type HistoryEntry } from "./config.ts";
import { cleanSource, DigestCache, expandSource, hashSources, type ContextSource } from "./buildcontext.ts";
import { copySource, isDirInImage, openUpperDir, type CopyInto } from "./copy.ts";
import { parseDockerfile, type Instruction, type StageDef } from "./dockerfile.ts";
import { parseDockerignore, type IgnorePattern } from "./dockerignore.ts";
import { expandWord, lookupIn } from "./expand.ts";
import { argValue, planStep, splitArgInstruction, type StageScope, type Step } from "./steps.ts";
import { adoptBuiltLayer, layersPresent, saveBuiltImage, storeLayer, writeImageRecord } from "./imagestore.ts";

export interface BuildRequest {
  contextDir: string;
  dockerfile: { text: string; name: string };
  tags: string[];
  buildArgs: Record<string, string>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  labels: Record<string, string>;
  network: string;
  platform?: Platform;
  /** Progress lines (stderr, as BuildKit prints them; nothing with -q). */
  progress: (line: string) => void;
  /** Where RUN output goes. */
  stdout: number;
  stderr: number;
}

export interface BuildResult {
  id: string;
  record: ImageRecord;
  steps: number;
  cached: number;
}

/** A RUN whose command failed: Docker's message, exit code 1 for the build. */
export class BuildStepFailed extends TinydockError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super("FailedPrecondition", message);
  }
}

/** The build was interrupted (SIGINT/SIGTERM). */
export class BuildCancelled extends TinydockError {
  constructor(readonly signal: NodeJS.Signals) {
    super("Unavailable", `Cannot build: cancelled by ${signal}`);
  }
}

interface State {
  config: BuildConfig;
  platform: Platform;
  layers: LayerRecord[];
  history: HistoryEntry[];
  created: string;
  author?: string;
  /** The chain key of this state. */
  key: string;
}

interface CacheEntry {
  layer: LayerRecord | null;
  created: string;
}

/** Everything a build made that must go whatever happens: temp dirs, records, containers, mounts. */
class Scratch {
  private undo: (() => void | Promise<void>)[] = [];
  add(fn: () => void | Promise<void>): void {
    this.undo.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.undo.reverse()) {
      try {
        await fn();
      } catch {}
    }
    this.undo = [];
  }
}

export async function buildImage(ctx: Ctx, req: BuildRequest): Promise<BuildResult> {
  const layout = openStore(ctx.root);
  const df = parseDockerfile(req.dockerfile.text, req.dockerfile.name);
  const cacheDir = path.join(layout.root, "build-cache");
  fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const digests = new DigestCache(path.join(cacheDir, "digests.json"));
  let ignore: IgnorePattern[] = [];
  try {
    ignore = parseDockerignore(fs.readFileSync(path.join(req.contextDir, ".dockerignore"), "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const context: ContextSource = { root: req.contextDir, ignore };
  const sourceDateEpoch = process.env.SOURCE_DATE_EPOCH;
  const epoch = sourceDateEpoch !== undefined && /^\d+$/.test(sourceDateEpoch) ? Number(sourceDateEpoch) : undefined;

  // ARGs before FROM.
  const metaArgs = new Map<string, string | undefined>();
  for (const ins of df.metaArgs.flatMap((i) => splitArgInstruction(i, df.escape))) {
    const eq = ins.args.indexOf("=");
    const name = eq < 0 ? ins.args.trim() : ins.args.slice(0, eq);
    const dflt = eq < 0 ? undefined : expandWord(ins.args.slice(eq + 1), lookupIn(new Map([...metaArgs].filter((e): e is [string, string] => e[1] !== undefined))), df.escape);
    metaArgs.set(name, Object.hasOwn(req.buildArgs, name) ? req.buildArgs[name] : dflt);
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
  let stepNo = 0;
  let cachedSteps = 0;

  const scratch = new Scratch();
  // As a pull does: a garbage collection elsewhere must not take the layers this build made before
  // its image record exists (nor the intermediate records' layers).
  const { acquireLock } = await import("../store/lock.ts");
  const gcShared = await acquireLock(ctx, layout.gcLock, { shared: true });
  scratch.add(() => gcShared.release());
  let cancelled: NodeJS.Signals | undefined;
  /** A stage failed: stages running beside it stop at their next step. */
  let failed = false;
  const kills = new Set<(s: NodeJS.Signals) => void>();
  const onSignal = (sig: NodeJS.Signals) => () => {
    cancelled = sig;
    for (const k of kills) k("SIGKILL");
  };
  const handlers: [NodeJS.Signals, () => void][] = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)]);
  for (const [s, fn] of handlers) process.on(s, fn);
  const checkCancelled = () => {
    if (cancelled) throw new BuildCancelled(cancelled);
    if (failed) throw new BuildCancelled("SIGTERM");
  };

  const results = new Map<number, State>();
  const mounted = new Map<number, string>();

  const tmpUpper = (): string => {
    fs.mkdirSync(layout.tmpDir, { recursive: true, mode: 0o700 });
    const dir = fs.mkdtempSync(path.join(layout.tmpDir, "build-"));
    scratch.add(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.chmodSync(dir, 0o755);
    return dir;
  };
  const lowersOf = (s: State) => s.layers.map((l) => layout.layerDiff(l.key ?? l.diffId)).reverse();
  const imageConfigOf = (s: State, extraLabels: Record<string, string> = {}): ImageConfig => {
    const config = structuredClone(s.config);
    if (Object.keys(extraLabels).length) config.Labels = { ...(config.Labels ?? {}), ...extraLabels };
    return assembleImageConfig({ platform: s.platform, config, diffIds: s.layers.map((l) => l.diffId), history: s.history, created: s.created, ...(s.author ? { author: s.author } : {}) });
  };
  /** An untagged record of state `s`, removed when the build ends (unless it already existed). */
  const tempRecord = (s: State): ImageRecord => {
    const cfg = imageConfigOf(s);
    const bytes = new TextEncoder().encode(JSON.stringify(cfg));
    const id = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
    const existed = loadImage(layout, id) !== undefined;
    const rec = writeImageRecord(ctx, layout, cfg, s.layers);
    if (!existed) scratch.add(() => fs.rmSync(layout.image(rec.id), { force: true }));
    return rec;
  };
  const baseImage = async (ref: string): Promise<ImageRecord> => {
    if (!req.pull) {
      try {
        return resolveImage(layout, ref).record;
      } catch (err) {
        if (!isKind(err, "NotFound")) throw err;
      }
    }
    const { pullImage } = await import("../rootfs/pull.ts");
    return (await pullImage(ctx, ref, req.platform ? { platform: req.platform } : {})).record;
  };
  const stateOfImage = (rec: ImageRecord): State => {
    const cfg = JSON.parse(new TextDecoder().decode(readBlob(layout, rec.id))) as ImageConfig & { config?: BuildConfig };
    return {
      config: structuredClone(cfg.config ?? {}),
      platform: { os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) },
      layers: [...rec.layers],
      history: [...(cfg.history ?? [])],
      created: cfg.created ?? new Date(0).toISOString(),
      key: rec.id,
    };
  };
  /** A read-only mount of a stage's result or an image, for COPY --from. */
  const sourceRootOf = async (from: string, before: number): Promise<string> => {
    const idx = stageByRef(from, before);
    const { mountImage, unmountImage } = await import("../rootfs/images.ts");
    if (idx !== undefined) {
      const have = mounted.get(idx);
      if (have) return have;
      const rec = tempRecord(results.get(idx)!);
      const p = mountImage(ctx, rec.id);
      scratch.add(() => void unmountImage(ctx, rec.id));
      mounted.set(idx, p);
      return p;
    }
    const rec = await baseImage(from);
    const p = mountImage(ctx, rec.id);
    scratch.add(() => void unmountImage(ctx, rec.id));
    return p;
  };
  const readCache = (key: string): CacheEntry | undefined => {
    if (req.noCache) return undefined;
    const e = readJson<CacheEntry>(path.join(cacheDir, `${key.slice(7)}.json`));
    if (!e) return undefined;
    if (e.layer && !layersPresent(layout, [e.layer])) return undefined;
    return e;
  };
  /** Background gzips of adopted layers; the cache entries and the image wait for them. */
  const blobs: Promise<void>[] = [];
  const pendingBlob = new Map<LayerRecord, Promise<void>>();
  const writeCache = (key: string, e: CacheEntry) => {
    const write = () => writeFileAtomic(path.join(cacheDir, `${key.slice(7)}.json`), JSON.stringify(e), 0o600);
    const p = e.layer ? pendingBlob.get(e.layer) : undefined;
    if (p) blobs.push(p.then(write));
    else write();
  };
  scratch.add(async () => {
    await Promise.allSettled(blobs);
  });
  const nowCreated = () => createdTime(ctx.clock(), sourceDateEpoch);
  /** Applies a layer (or none) made by a filesystem step to the state. */
  const addLayer = (s: State, layer: LayerRecord | null, createdBy: string, created: string) => {
    if (layer) s.layers.push(layer);
    s.history.push({ created, created_by: createdBy, comment: "buildkit.dockerfile.v0", ...(layer ? {} : { empty_layer: true }) });
    s.created = created;
  };
  /** A COPY's or WORKDIR's own upper dir: hashed, then renamed into the store as the layer. */
  const adoptDir = async (dir: string): Promise<LayerRecord | null> => {
    if (fs.readdirSync(dir).length === 0) return null;
    const started = startLayer(dir, layout.tmpDir, { sys: ctx.sys, ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}) });
    scratch.add(async () => {
      const b = await started.blob.catch(() => undefined);
      if (b) fs.rmSync(b.file, { force: true });
    });
    const { layer, blob } = await adoptBuiltLayer(ctx, layout, dir, started);
    blobs.push(blob);
    pendingBlob.set(layer, blob);
    return layer;
  };
  const layerFromDir = async (s: State, dir: string): Promise<LayerRecord | null> => {
    if (fs.readdirSync(dir).length === 0) return null;
    const w = await writeLayer(dir, layout.tmpDir, { sys: ctx.sys, ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}) });
    scratch.add(() => fs.rmSync(w.file, { force: true }));
    return await storeLayer(ctx, layout, w, s.layers);
  };

  const buildStage = async (stage: StageDef): Promise<State> => {
    const fromRef = expandWord(stage.from, metaLookup, df.escape);
    stepNo++;
    req.progress(`Step ${stepNo}/${total} : FROM ${fromRef}${stage.name ? ` AS ${stage.name}` : ""}`);
    let state: State;
    const prior = stageByRef(fromRef, stage.index);
    if (prior !== undefined && stages[prior]!.name === fromRef.toLowerCase()) {
      const p = results.get(prior)!;
      state = { ...structuredClone(p), key: p.key };
    } else if (fromRef.toLowerCase() === "scratch") {
      state = { config: scratchConfig(), platform: req.platform ?? ctx.platform, layers: [], history: [], created: new Date(0).toISOString(), key: "sha256:scratch" };
    } else {
      state = stateOfImage(await baseImage(fromRef));
    }
    const scope: StageScope = { config: state.config, args: new Map(), buildArgs: req.buildArgs, metaArgs, escape: df.escape, cmdSet: false, source: req.dockerfile.name };
    let instructions: Instruction[] = stage.instructions;
    if (state.config.OnBuild?.length) {
      const triggers = state.config.OnBuild.flatMap((t) => parseDockerfile(`FROM scratch\n${t}\n`, `${req.dockerfile.name} (ONBUILD of ${fromRef})`).stages[0]!.instructions.map((i) => ({ ...i, line: stage.line })));
      instructions = [...triggers, ...instructions];
      state.config.OnBuild = null;
    }
    for (const ins0 of instructions) {
      for (const ins of splitArgInstruction(ins0, df.escape)) {
        checkCancelled();
        scope.config = state.config;
        const step: Step = planStep(ins, scope);
        stepNo++;
        req.progress(`Step ${stepNo}/${total} : ${ins.keyword} ${Object.entries(ins.flags).map(([k, v]) => `--${k}=${v} `).join("")}${ins.args}`);
        switch (step.kind) {
          case "arg":
            scope.args.set(step.name, step.value);
            break;
          case "meta":
            state.config = step.config;
            if (step.cmdSet) scope.cmdSet = true;
            if (ins.keyword === "MAINTAINER") state.author = ins.args;
            state.history.push({ created: state.created, created_by: step.createdBy, comment: "buildkit.dockerfile.v0", empty_layer: true });
            state.key = stepKey(state.key, step.createdBy);
            break;
          case "workdir": {
            state.config = step.config;
            state.key = stepKey(state.key, step.createdBy);
            const exists = state.layers.length > 0 && isDirInImage({ sys: ctx.sys, upper: "/nonexistent", lowers: lowersOf(state) }, step.path);
            if (exists || step.path === "/") {
              state.history.push({ created: state.created, created_by: step.createdBy, comment: "buildkit.dockerfile.v0", empty_layer: true });
              break;
            }
            const hit = readCache(state.key);
            if (hit) {
              cachedSteps++;
              req.progress(" ---> Using cache");
              addLayer(state, hit.layer, step.createdBy, hit.created);
              break;
            }
            const upper = tmpUpper();
            const c: CopyInto = { sys: ctx.sys, upper, lowers: lowersOf(state) };
            fs.closeSync(openUpperDir(c, step.path));
            const layer = await adoptDir(upper);
            const created = nowCreated();
            writeCache(state.key, { layer, created });
            addLayer(state, layer, step.createdBy, created);
            break;
          }
          case "copy": {
            const spec = step.copy;
            const { IN_ROOT, BENEATH } = await import("./copy.ts");
            // Each source with the root it is read from: the context, another stage or image, or a download.
            const sources: { src: ContextSource; rel: string; keepOwner: boolean; resolve: number; archive: boolean }[] = [];
            for (const s of spec.sources) {
              if (spec.add && /^https?:\/\//.test(s)) {
                const dl = tmpUpper();
                const name = await download(ctx, s, dl, spec.checksum);
                sources.push({ src: { root: dl, ignore: [] }, rel: name, keepOwner: false, resolve: BENEATH, archive: false });
              } else if (spec.from !== undefined) {
                sources.push({ src: { root: await sourceRootOf(spec.from, stage.index), ignore: [] }, rel: cleanSource(s), keepOwner: true, resolve: IN_ROOT, archive: false });
              } else {
                for (const rel of expandSource(context, s)) sources.push({ src: context, rel, keepOwner: false, resolve: BENEATH, archive: spec.add && isArchive(path.join(context.root, rel)) });
              }
            }
            if (spec.checksum !== undefined && !spec.sources.every((s) => /^https?:\/\//.test(s))) throw new InvalidArgumentError(`Cannot build: ADD --checksum takes an http(s) source only (line ${ins.line})`);
            const contentHash = sources.map((x) => hashSources(x.src, [x.rel], digests)).join(",");
            state.key = stepKey(state.key, step.createdBy, { content: contentHash });
            const hit = readCache(state.key);
            if (hit) {
              cachedSteps++;
              req.progress(" ---> Using cache");
              addLayer(state, hit.layer, step.createdBy, hit.created);
              break;
            }
            const upper = tmpUpper();
            let owner: [number, number] | undefined;
            if (spec.chown !== undefined) owner = await resolveChown(ctx, layout, state, spec.chown);
            const c: CopyInto = { sys: ctx.sys, upper, lowers: lowersOf(state), ...(owner ? { owner } : {}), ...(spec.chmod !== undefined ? { chmod: spec.chmod } : {}) };
            const dest = path.posix.normalize(spec.dest.startsWith("/") ? spec.dest : path.posix.join(spec.workdir, spec.dest));
            const intoDir = spec.dest.endsWith("/") || sources.length > 1 || isDirInImage(c, dest);
            for (const x of sources) {
              let root = x.src.root;
              let rel = x.rel;
              let keepOwner = x.keepOwner;
              if (x.archive) {
                // ADD of a local tar archive: its entries, owners kept, under the destination directory.
                const out = tmpUpper();
                const { unpackLayer } = await import("../rootfs/unpack.ts");
                const file = path.join(root, rel);
                const head = new Uint8Array(fs.readFileSync(file).subarray(0, 2));
                await unpackLayer(Bun.file(file).stream(), head[0] === 0x1f && head[1] === 0x8b ? "gzip" : "none", out, { sys: ctx.sys, maxBytes: ctx.config.maxLayerBytes, what: `ADD ${rel}` });
                root = out;
                rel = ".";
                keepOwner = true;
              }
              const rootFd = fs.openSync(root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
              try {
                copySource(c, rootFd, rel, dest, x.archive || intoDir, x.src.ignore, keepOwner, x.resolve);
              } finally {
                fs.closeSync(rootFd);
              }
            }
            const layer = await adoptDir(upper);
            const created = nowCreated();
            writeCache(state.key, { layer, created });
            addLayer(state, layer, step.createdBy, created);
            break;
          }
          case "run": {
            state.key = stepKey(state.key, step.createdBy, { env: JSON.stringify(step.env), user: step.user ?? "", workdir: step.workdir, shell: JSON.stringify(state.config.Shell ?? []) });
            const hit = readCache(state.key);
            if (hit) {
              cachedSteps++;
              req.progress(" ---> Using cache");
              addLayer(state, hit.layer, step.createdBy, hit.created);
              break;
            }
            const rec = tempRecord(state);
            const { runBuildStep } = await import("../lifecycle/build-step.ts");
            const at = stepNo;
            let myKill: ((s: NodeJS.Signals) => void) | undefined;
            const r = await runBuildStep(ctx, {
              image: rec.id,
              argv: step.argv,
              env: step.env,
              ...(step.user ? { user: step.user } : {}),
              workdir: step.workdir,
              network: req.network,
              stdout: req.stdout,
              stderr: req.stderr,
              started: (kill) => {
                myKill = kill;
                kills.add(kill);
                if (cancelled || failed) kill("SIGKILL");
              },
            });
            if (myKill) kills.delete(myKill);
            try {
              checkCancelled();
              if (r.exitCode !== 0) {
                const shown = ins.json ? JSON.stringify(step.argv) : step.argv.join(" ");
                throw new BuildStepFailed(`failed to solve: step ${at}/${total} (${req.dockerfile.name}:${ins.line}) RUN: process "${shown}" did not complete successfully: exit code: ${r.exitCode}`, r.exitCode);
              }
              pruneMountpoints(r.upper, lowersOf(state));
              const layer = await layerFromDir(state, r.upper);
              const created = nowCreated();
              writeCache(state.key, { layer, created });
              addLayer(state, layer, step.createdBy, created);
            } finally {
              await r.remove();
              req.progress(`Removing intermediate container ${r.id.slice(0, 12)}`);
            }
            break;
          }
        }
      }
    }
    return state;
  };

  try {
    // Each needed stage starts once the stages it uses are built: independent ones run side by side.
    const stageOf = (ref: string, before: number) => stageByRef(expandWord(ref, metaLookup, df.escape), before);
    const needed = neededStages(stages, targetIndex, stageOf);
    const started = new Map<number, Promise<void>>();
    const run = (i: number): Promise<void> => {
      let p = started.get(i);
      if (!p) {
        const deps = [...stageDeps(stages[i]!, stageOf)];
        p = (async () => {
          await Promise.all(deps.map(run));
          results.set(i, await buildStage(stages[i]!));
        })();
        p.catch(() => {
          failed = true;
          for (const k of kills) k("SIGKILL");
        });
        started.set(i, p);
      }
      return p;
    };
    const all = [...needed].sort((a, b) => a - b).map(run);
    const settled = await Promise.allSettled(all);
    const firstError = settled.find((r): r is PromiseRejectedResult => r.status === "rejected" && !(r.reason instanceof BuildCancelled && !cancelled));
    if (firstError) throw firstError.reason;
    const anyError = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (anyError) throw anyError.reason;
    await Promise.all(blobs);
    checkCancelled();
    const final = results.get(targetIndex)!;
    const config = imageConfigOf(final, req.labels);
    const record = await saveBuiltImage(ctx, layout, config, final.layers, req.tags);
    digests.save();
    return { id: record.id, record, steps: stepNo, cached: cachedSteps };
  } finally {
    for (const [s, fn] of handlers) process.off(s, fn);
    await scratch.run();
  }
}

/** The files the runtime bind-mounts over (and made, empty, in the upper dir when the image lacked them). */
const MOUNTPOINT_FILES = ["etc/hostname", "etc/hosts", "etc/resolv.conf"];

/**
 * The mount points a RUN's container got made in its upper dir are not the step's changes: empty
 * ones the image did not have go (and /etc with them when nothing else is in it), as BuildKit
 * removes its own.
 */
export function pruneMountpoints(upper: string, lowers: readonly string[]): void {
  for (const rel of MOUNTPOINT_FILES) {
    const st = fs.lstatSync(path.join(upper, rel), { throwIfNoEntry: false });
    if (!st?.isFile() || st.size !== 0) continue;
    if (lowers.some((l) => fs.lstatSync(path.join(l, rel), { throwIfNoEntry: false }))) continue;
    fs.unlinkSync(path.join(upper, rel));
  }
  const etc = path.join(upper, "etc");
  if (fs.lstatSync(etc, { throwIfNoEntry: false })?.isDirectory() && fs.readdirSync(etc).length === 0 && !lowers.some((l) => fs.existsSync(path.join(l, "etc")))) fs.rmdirSync(etc);
}

/** The earlier stages a stage uses: its FROM stage and its COPY --from stages. */
export function stageDeps(s: StageDef, stageOf: (ref: string, before: number) => number | undefined): Set<number> {
  const deps = new Set<number>();
  const base = stageOf(s.from, s.index);
  if (base !== undefined) deps.add(base);
  for (const ins of s.instructions) {
    if (ins.keyword === "COPY" && ins.flags.from !== undefined) {
      const dep = stageOf(ins.flags.from, s.index);
      if (dep !== undefined) deps.add(dep);
    }
  }
  return deps;
}

/** The stages the target needs: itself, its FROM stage and every COPY --from stage, transitively. */
export function neededStages(stages: readonly StageDef[], target: number, stageOf: (ref: string, before: number) => number | undefined): Set<number> {
  const need = new Set<number>();
  const visit = (i: number) => {
    if (need.has(i)) return;
    need.add(i);
    const s = stages[i]!;
    const base = stageOf(s.from, i);
    if (base !== undefined) visit(base);
    for (const ins of s.instructions) {
      if (ins.keyword === "COPY" && ins.flags.from !== undefined) {
        const dep = stageOf(ins.flags.from, i);
        if (dep !== undefined) visit(dep);
      }
    }
  };
  visit(target);
  return need;
}

/** A local file ADD extracts: a gzip stream or an uncompressed tar (ustar magic). */
export function isArchive(file: string): boolean {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st?.isFile() || st.size < 2) return false;
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const b = Buffer.alloc(263);
    const n = fs.readSync(fd, b, 0, 263, 0);
    if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true;
    return n >= 262 && b.subarray(257, 262).toString("latin1") === "ustar";
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * ADD's http(s) source into `dir`, as Docker saves it: the URL's last path name, mode 0600, its
 * Last-Modified as mtime; --checksum (sha256) checked before anything is copied.
 */
async function download(ctx: Ctx, url: string, dir: string, checksum?: string): Promise<string> {
  let res: Response;
  try {
    res = await ctx.fetch(url, { redirect: "follow" });
  } catch (err) {
    throw new FailedPreconditionError(`Cannot download "${url}": ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok) throw new FailedPreconditionError(`Cannot download "${url}": HTTP ${res.status}`);
  const body = new Uint8Array(await res.arrayBuffer());
  const digest = `sha256:${new Bun.CryptoHasher("sha256").update(body).digest("hex")}`;
  if (checksum !== undefined && digest !== checksum) throw new FailedPreconditionError(`Cannot download "${url}": digest mismatch ${digest}: expected ${checksum}`);
  const name = path.posix.basename(new URL(url).pathname) || "index.html";
  const file = path.join(dir, name);
  fs.writeFileSync(file, body, { mode: 0o600 });
  const lm = res.headers.get("last-modified");
  if (lm && !Number.isNaN(Date.parse(lm))) fs.utimesSync(file, new Date(lm), new Date(lm));
  return name;
}

/** --chown user[:group] against the image's /etc/passwd and /etc/group (numbers taken as they are). */
async function resolveChown(ctx: Ctx, layout: StoreLayout, s: State, spec: string): Promise<[number, number]> {
  const [u = "", g] = spec.split(":");
  const lowers = s.layers.map((l) => layout.layerDiff(l.key ?? l.diffId)).reverse();
  const read = (file: string): string[][] => {
    for (const dir of lowers) {
      const p = path.join(dir, file);
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (st?.isFile()) return fs.readFileSync(p, "utf8").split("\n").filter(Boolean).map((l) => l.split(":"));
      if (st) break;
    }
    return [];
  };
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    gid = g === undefined ? uid : -1;
  } else {
    const e = read("etc/passwd").find((f) => f[0] === u);
    if (!e) throw new NotFoundError(`Cannot resolve --chown "${spec}": unable to find user ${u}: no matching entries in passwd file`);
    uid = Number(e[2]);
    gid = Number(e[3]);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const e = read("etc/group").find((f) => f[0] === g);
      if (!e) throw new NotFoundError(`Cannot resolve --chown "${spec}": unable to find group ${g}: no matching entries in group file`);
      gid = Number(e[2]);
    }
  }
  void ctx;
  if (gid < 0) throw new FailedPreconditionError(`Cannot resolve --chown "${spec}"`);
  return [uid, gid];
}

export { shortId };
