// What the filesystem step executors (WORKDIR, COPY/ADD, RUN) share with the builder: the request,
// the store, the cache and the build's scratch space, counters and cancellation.
import type { Ctx } from "../context.ts";
import type { LayerRecord } from "../store/images.ts";
import type { StoreLayout } from "../store/layout.ts";
import type { ContextSource, DigestCache } from "./buildcontext.ts";
import type { BuildCache } from "./cache.ts";
import type { Cancellation } from "./cancellation.ts";
import type { BuildRequest } from "./request.ts";
import type { Scratch } from "./scratch.ts";
import { addLayer, type State } from "./state.ts";

export interface StepEnv {
  ctx: Ctx;
  req: BuildRequest;
  layout: StoreLayout;
  scratch: Scratch;
  cache: BuildCache;
  cancel: Cancellation;
  context: ContextSource;
  digests: DigestCache;
  /** Steps in the build, and those done and taken from the cache so far. */
  total: number;
  counts: { step: number; cached: number };
  tmpUpper(): string;
  /** A COPY's or WORKDIR's own upper dir: hashed, then renamed into the store as the layer. */
  adoptDir(dir: string): Promise<LayerRecord | null>;
  /** A RUN's upper dir, written out as a layer. */
  layerFromDir(s: State, dir: string): Promise<LayerRecord | null>;
  nowCreated(): string;
  /** A read-only mount of a stage's result or an image, for COPY --from. */
  sourceRootOf(from: string, before: number): Promise<string>;
}

/** Takes the step at `state.key` from the cache when it is there. */
export function fromCache(env: StepEnv, state: State, createdBy: string): boolean {
  const hit = env.cache.read(state.key);
  if (!hit) return false;
  env.counts.cached++;
  env.req.progress(" ---> Using cache");
  addLayer(state, hit.layer, createdBy, hit.created);
  return true;
}

/** Records a layer a step made, in the cache and the state. */
export function commitLayer(env: StepEnv, state: State, layer: LayerRecord | null, createdBy: string): void {
  const created = env.nowCreated();
  env.cache.write(state.key, { layer, created });
  addLayer(state, layer, createdBy, created);
}
