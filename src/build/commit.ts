// `tinydock commit`: a container's upper directory becomes one more layer on its image, with the
// image's config changed by the run's command and any --change lines (the metadata instructions
// Docker accepts there), saved as an ordinary image record.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { ImageConfig } from "../image/manifest.ts";
import { writeLayer } from "../rootfs/writelayer.ts";
import { readBlob } from "../store/content.ts";
import { containerPaths, findContainer } from "../store/containers.ts";
import { loadContainerImage } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import { assembleImageConfig, createdTime, type BuildConfig, type HistoryEntry } from "./config.ts";
import { parseDockerfile } from "./dockerfile.ts";
import { planStep } from "./steps.ts";
import { saveBuiltImage, storeLayer } from "./imagestore.ts";

export interface CommitRequest {
  container: string;
  target?: string;
  changes: string[];
  message?: string;
  author?: string;
  pause: boolean;
}

const CHANGE_KEYWORDS = new Set(["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "WORKDIR", "VOLUME", "STOPSIGNAL", "ONBUILD"]);

/** --change lines applied to a config, as Docker's commit does. Pure. */
export function applyChanges(config: BuildConfig, changes: readonly string[]): BuildConfig {
  let c = structuredClone(config);
  let cmdSet = false;
  for (const text of changes) {
    const df = parseDockerfile(`FROM scratch\n${text}\n`, "--change");
    for (const ins of df.stages[0]!.instructions) {
      if (!CHANGE_KEYWORDS.has(ins.keyword)) throw new InvalidArgumentError(`${ins.keyword} is not a valid change command`);
      const step = planStep(ins, { config: c, args: new Map(), buildArgs: {}, metaArgs: new Map(), escape: df.escape, cmdSet, source: "--change" });
      if (step.kind === "meta" || step.kind === "workdir") c = step.config;
      if (ins.keyword === "CMD") cmdSet = true;
    }
  }
  return c;
}

export async function commitContainer(ctx: Ctx, req: CommitRequest): Promise<string> {
  const layout = openStore(ctx.root);
  const rec = findContainer(ctx.root, req.container);
  const image = loadContainerImage(layout, rec.imageId);
  if (!image) throw new InvalidArgumentError(`Cannot commit "${req.container}": its image ${rec.imageId} is no longer in the store`);
  const base = JSON.parse(new TextDecoder().decode(readBlob(layout, image.id))) as ImageConfig & { config?: BuildConfig };
  let config: BuildConfig = structuredClone(base.config ?? {});
  if (rec.args.length) config.Cmd = rec.args;
  if (rec.config?.Labels) config.Labels = { ...(config.Labels ?? {}), ...rec.config.Labels };
  config = applyChanges(config, req.changes);
  const paths = containerPaths(ctx.root, rec.id);
  let live: { resume(): void } | undefined;
  if (req.pause && rec.state.status === "running") {
    const { readLive } = await import("../lifecycle/live.ts");
    const { pauseContainer, unpauseContainer } = await import("../lifecycle/pause.ts");
    const c = readLive(ctx, rec);
    if (c.state.Running && !c.state.Paused) {
      await pauseContainer(ctx, c);
      live = { resume: () => void unpauseContainer(ctx, readLive(ctx, rec)) };
    }
  }
  let layers = [...image.layers];
  try {
    if (fs.existsSync(paths.upper) && fs.readdirSync(paths.upper).length) {
      const epoch = process.env.SOURCE_DATE_EPOCH;
      const w = await writeLayer(paths.upper, layout.tmpDir, { sys: ctx.sys, ...(epoch && /^\d+$/.test(epoch) ? { sourceDateEpoch: Number(epoch) } : {}) });
      try {
        layers = [...layers, await storeLayer(ctx, layout, w, image.layers)];
      } finally {
        fs.rmSync(w.file, { force: true });
      }
    }
  } finally {
    live?.resume();
  }
  const created = createdTime(ctx.clock(), process.env.SOURCE_DATE_EPOCH);
  const history: HistoryEntry[] = [
    ...(base.history ?? []),
    {
      created,
      created_by: rec.args.join(" "),
      ...(req.message ? { comment: req.message } : {}),
      ...(layers.length === image.layers.length ? { empty_layer: true } : {}),
    },
  ];
  const cfg = assembleImageConfig({
    platform: { os: base.os, architecture: base.architecture, ...(base.variant ? { variant: base.variant } : {}) },
    config,
    diffIds: layers.map((l) => l.diffId),
    history,
    created,
    ...(req.author ? { author: req.author } : {}),
  });
  const saved = await saveBuiltImage(ctx, layout, cfg, layers, req.target ? [req.target] : []);
  void path;
  return saved.id;
}
