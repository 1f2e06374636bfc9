// The image a stage is building, step by step: config, layers, history and its chain key; and the
// records and configs made from it.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import type { ImageConfig } from "../image/manifest.ts";
import type { Platform } from "../image/platform.ts";
import { readBlob } from "../store/content.ts";
import { loadImage, type ImageRecord, type LayerRecord } from "../store/images.ts";
import type { StoreLayout } from "../store/layout.ts";
import { assembleImageConfig, type BuildConfig, type HistoryEntry } from "./config.ts";
import { writeImageRecord } from "./imagestore.ts";
import type { Scratch } from "./scratch.ts";

export interface State {
  config: BuildConfig;
  platform: Platform;
  layers: LayerRecord[];
  history: HistoryEntry[];
  created: string;
  author?: string;
  /** The chain key of this state. */
  key: string;
}

/** The overlay lower directories of a state, top first. */
export const lowersOf = (layout: StoreLayout, s: State): string[] => s.layers.map((l) => layout.layerDiff(l.key ?? l.diffId)).reverse();

export function imageConfigOf(s: State, extraLabels: Record<string, string> = {}): ImageConfig {
  const config = structuredClone(s.config);
  if (Object.keys(extraLabels).length) config.Labels = { ...(config.Labels ?? {}), ...extraLabels };
  return assembleImageConfig({ platform: s.platform, config, diffIds: s.layers.map((l) => l.diffId), history: s.history, created: s.created, ...(s.author ? { author: s.author } : {}) });
}

/** An untagged record of state `s`, removed when the build ends (unless it already existed). */
export function tempRecord(ctx: Ctx, layout: StoreLayout, scratch: Scratch, s: State): ImageRecord {
  const cfg = imageConfigOf(s);
  const bytes = new TextEncoder().encode(JSON.stringify(cfg));
  const id = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
  const existed = loadImage(layout, id) !== undefined;
  const rec = writeImageRecord(ctx, layout, cfg, s.layers);
  if (!existed) scratch.add(() => fs.rmSync(layout.image(rec.id), { force: true }));
  return rec;
}

export function stateOfImage(layout: StoreLayout, rec: ImageRecord): State {
  const cfg = JSON.parse(new TextDecoder().decode(readBlob(layout, rec.id))) as ImageConfig & { config?: BuildConfig };
  return {
    config: structuredClone(cfg.config ?? {}),
    platform: { os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) },
    layers: [...rec.layers],
    history: [...(cfg.history ?? [])],
    created: cfg.created ?? new Date(0).toISOString(),
    key: rec.id,
  };
}

/** Applies a layer (or none) made by a filesystem step to the state. */
export function addLayer(s: State, layer: LayerRecord | null, createdBy: string, created: string): void {
  if (layer) s.layers.push(layer);
  s.history.push({ created, created_by: createdBy, comment: "buildkit.dockerfile.v0", ...(layer ? {} : { empty_layer: true }) });
  s.created = created;
}

/** A step that changed the config only. */
export function addEmptyStep(s: State, createdBy: string): void {
  s.history.push({ created: s.created, created_by: createdBy, comment: "buildkit.dockerfile.v0", empty_layer: true });
}
