// A built layer into the store (its gzip blob into the content store, unpacked beside the pulled
// layers through ensureLayer, so mounting it is no different), and a built image as an ordinary
// image record: config and OCI manifest blobs, the record, its tags.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { sha256Digest } from "../image/digest.ts";
import { MediaType, type ImageConfig } from "../image/manifest.ts";
import { adoptLayerDir, ensureLayer } from "../rootfs/layers.ts";
import { chainIdsOf } from "../rootfs/pull.ts";
import type { StartedLayer, WrittenLayer } from "../rootfs/writelayer.ts";
import { hasBlob, putBlob } from "../store/content.ts";
import { addTag, saveImage, type ImageRecord, type LayerRecord } from "../store/images.ts";
import type { StoreLayout } from "../store/layout.ts";
import { withLock } from "../store/lock.ts";
import { FailedPreconditionError } from "../errors.ts";

/** The written layer's blob moved into the content store and unpacked; its record. */
export async function storeLayer(ctx: Ctx, layout: StoreLayout, w: WrittenLayer, below: readonly LayerRecord[]): Promise<LayerRecord> {
  const added = !hasBlob(layout, w.digest);
  if (added) {
    fs.renameSync(w.file, layout.blob(w.digest));
  } else {
    fs.rmSync(w.file, { force: true });
  }
  const desc = { mediaType: MediaType.OciLayerGzip, digest: w.digest, size: w.size };
  const diffIds = [...below.map((l) => l.diffId), w.diffId];
  const chainId = chainIdsOf(diffIds).at(-1)!;
  // A blob that does not unpack (an import of something that is not a tar) is not kept.
  const meta = await ensureLayer(
    { sys: ctx.sys, sleep: ctx.sleep, layout, maxLayerBytes: ctx.config.maxLayerBytes },
    w.diffId,
    desc,
    async () => {
      throw new FailedPreconditionError(`Cannot unpack built layer ${w.digest}: its blob is not in the store`);
    },
    () => {},
    { chainId, lowers: async () => below.map((l) => layout.layerDiff(l.key ?? l.diffId)).reverse() },
  ).catch((err) => {
    if (added) fs.rmSync(layout.blob(w.digest), { force: true });
    throw err;
  });
  const rec: LayerRecord = { diffId: w.diffId, digest: w.digest, mediaType: desc.mediaType, size: w.size, unpackedSize: meta.unpackedSize };
  if (meta.key) rec.key = meta.key;
  return rec;
}

/**
 * A step's own upper dir (COPY, WORKDIR: no container, no overlay xattrs) made the layer by rename;
 * its record's blob digest and size are filled in when the background gzip ends (`blob`).
 */
export async function adoptBuiltLayer(ctx: Ctx, layout: StoreLayout, dir: string, started: StartedLayer): Promise<{ layer: LayerRecord; blob: Promise<void> }> {
  const meta = await adoptLayerDir({ sys: ctx.sys, sleep: ctx.sleep, layout, maxLayerBytes: ctx.config.maxLayerBytes }, started.diffId, dir, started.unpackedSize);
  const layer: LayerRecord = { diffId: started.diffId, digest: "", mediaType: MediaType.OciLayerGzip, size: 0, unpackedSize: meta.unpackedSize };
  const blob = started.blob.then((b) => {
    if (!hasBlob(layout, b.digest)) fs.renameSync(b.file, layout.blob(b.digest));
    else fs.rmSync(b.file, { force: true });
    layer.digest = b.digest;
    layer.size = b.size;
  });
  return { layer, blob };
}

/** Whether every layer of a state is still in the store (a cache entry may outlive an rmi's gc). */
export function layersPresent(layout: StoreLayout, layers: readonly LayerRecord[]): boolean {
  return layers.every((l) => fs.existsSync(layout.layerDiff(l.key ?? l.diffId)));
}

/** Config and manifest blobs and the image record; the record is not tagged. */
export function writeImageRecord(ctx: Ctx, layout: StoreLayout, config: ImageConfig, layers: readonly LayerRecord[]): ImageRecord {
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const id = sha256Digest(configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: id, size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
  const manifestDigest = sha256Digest(manifestBytes);
  putBlob(layout, id, configBytes);
  putBlob(layout, manifestDigest, manifestBytes);
  const record: ImageRecord = {
    id,
    manifestDigest,
    manifestMediaType: MediaType.OciManifest,
    layers: [...layers],
    platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) },
    pulledAt: new Date(ctx.clock()).toISOString(),
    repoDigests: [],
  };
  if (config.created) record.created = config.created;
  saveImage(layout, record);
  return record;
}

/** The final image: its record and tags, under the metadata lock. */
export async function saveBuiltImage(ctx: Ctx, layout: StoreLayout, config: ImageConfig, layers: readonly LayerRecord[], tags: readonly string[]): Promise<ImageRecord> {
  return await withLock(ctx, layout.metadataLock, () => {
    const record = writeImageRecord(ctx, layout, config, layers);
    for (const t of tags) addTag(layout, t, record.id);
    return record;
  });
}
