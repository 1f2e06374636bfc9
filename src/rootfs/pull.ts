// `pull`: reference → registry → content store → unpacked layers → image record and tag.
// Layers are fetched, decompressed and unpacked concurrently, each into its own directory
// (overlay lowers are independent, so order does not matter until mount time).
import type { Ctx } from "../context.ts";
import { DataLossError, NotFoundError } from "../errors.ts";
import {
  checkLayerCount,
  MAX_MANIFEST_BYTES,
  parseImageConfig,
  parseManifest,
  pickPlatform,
  type ImageManifest,
} from "../image/manifest.ts";
import { sha256Digest } from "../image/digest.ts";
import { formatPlatform, platformMatches, type Platform } from "../image/platform.ts";
import { familiarString, formatReference, parseReference, repositoryName, type Reference } from "../image/reference.ts";
import { RegistryClient } from "../registry/client.ts";
import { hasBlob, putBlob, readBlob } from "../store/content.ts";
import { loadImage, readTags, saveImage, writeTags, type ImageRecord, type LayerRecord } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import { acquireLock, withLock } from "../store/lock.ts";
import type { StoreLayout } from "../store/layout.ts";
import type { Descriptor } from "../image/manifest.ts";
import { ensureLayer, type LayerProgress, type OpenBlob } from "./layers.ts";

export interface PullOptions {
  /** Wanted platform; the host's when absent. */
  platform?: Platform;
  onProgress?: (p: LayerProgress) => void;
  /** Called once the manifest is known, with the layer short ids in order. */
  onLayers?: (ids: string[]) => void;
}

export interface PullResult {
  ref: Reference;
  record: ImageRecord;
  /** The digest the user can pull by: the index's when there is one, else the manifest's. */
  digest: string;
  /** false when the tag already pointed at this image. */
  changed: boolean;
}

export async function runLimited<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

/** OCI chain ids: the first layer's diff_id, then sha256 of "<chain id below> <diff_id>". */
/**
 * Every layer of a manifest unpacked (or found) in the store, at most maxConcurrentDownloads at once,
 * as the image's layer records. A layer's hard links to files below it wait for those layers'
 * directories; workers take layers bottom first, so what a layer waits for has started.
 */
export async function ensureLayers(
  ctx: Ctx,
  layout: StoreLayout,
  descs: Descriptor[],
  diffIds: readonly string[],
  open: OpenBlob,
  onProgress?: (p: LayerProgress) => void,
): Promise<LayerRecord[]> {
  const layers: LayerRecord[] = new Array(descs.length);
  const chainIds = chainIdsOf(diffIds);
  const unpacked = descs.map(() => Promise.withResolvers<string>());
  for (const u of unpacked) u.promise.catch(() => {});
  await runLimited(descs, ctx.config.maxConcurrentDownloads, async (desc, i) => {
    try {
      const meta = await ensureLayer({ sys: ctx.sys, sleep: ctx.sleep, layout, maxLayerBytes: ctx.config.maxLayerBytes }, diffIds[i]!, desc, open, onProgress, {
        chainId: chainIds[i]!,
        lowers: async () => (await Promise.all(unpacked.slice(0, i).map((u) => u.promise))).reverse(),
      });
      layers[i] = { diffId: diffIds[i]!, digest: desc.digest, mediaType: desc.mediaType, size: desc.size, unpackedSize: meta.unpackedSize };
      if (meta.key) layers[i]!.key = meta.key;
      unpacked[i]!.resolve(layout.layerDiff(meta.key ?? diffIds[i]!));
    } catch (err) {
      unpacked[i]!.reject(err);
      throw err;
    }
  });
  return layers;
}

export function chainIdsOf(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256Digest(`${out[out.length - 1]} ${d}`));
  return out;
}

export async function pullImage(ctx: Ctx, refText: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(refText);
  const layout = openStore(ctx.root);
  const want = opts.platform ?? ctx.platform;
  const client = new RegistryClient(ctx, ref);
  const name = familiarString(ref);

  // Hold gc.lock shared for the whole pull: an rmi elsewhere cannot collect layers we unpacked
  // before our image record exists.
  const gcShared = await acquireLock(ctx, layout.gcLock, { shared: true });
  try {
    const top = await client.getManifest(ref.digest ?? ref.tag!);
    const blobs: [string, Uint8Array][] = [[top.digest, top.body]];
    let parsed = parseManifest(top.body, top.contentType, `manifest of ${name}`);
    let indexDigest: string | undefined;
    let manifestDigest = top.digest;
    if (parsed.kind === "index") {
      indexDigest = top.digest;
      const desc = pickPlatform(parsed, want, `the index of ${name}`);
      const inner = await client.getManifest(desc.digest);
      manifestDigest = inner.digest;
      parsed = parseManifest(inner.body, inner.contentType, `manifest ${desc.digest} of ${name}`);
      if (parsed.kind !== "manifest") throw new DataLossError(`Cannot use ${name}: its index points at another index`);
      blobs.push([inner.digest, inner.body]);
    }
    const manifest: ImageManifest = parsed;
    checkLayerCount(manifest.layers.length, name);
    const configBytes = hasBlob(layout, manifest.config.digest)
      ? readBlob(layout, manifest.config.digest)
      : await client.getBlob(manifest.config, MAX_MANIFEST_BYTES);
    const config = parseImageConfig(configBytes, `config of ${name}`);
    const have: Platform = { os: config.os, architecture: config.architecture };
    if (config.variant) have.variant = config.variant;
    if (!indexDigest && !platformMatches(have, want)) {
      if (opts.platform) {
        throw new NotFoundError(`Cannot pull ${name}: image is ${formatPlatform(have)}, not the requested ${formatPlatform(want)}`);
      }
      ctx.log.warn(`The requested image's platform (${formatPlatform(have)}) does not match the host's (${formatPlatform(want)})`);
    }
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new DataLossError(`Cannot use ${name}: the manifest has ${manifest.layers.length} layers, the config ${diffIds.length} diff_ids`);
    }
    blobs.push([manifest.config.digest, configBytes]);

    opts.onLayers?.(manifest.layers.map((l) => l.digest.slice(7, 19)));
    const open = (desc: Parameters<RegistryClient["openBlob"]>[0], offset: number) => client.openBlob(desc, offset);
    const layers = await ensureLayers(ctx, layout, manifest.layers, diffIds, open, opts.onProgress);

    const record: ImageRecord = {
      id: manifest.config.digest,
      manifestDigest,
      manifestMediaType: manifest.mediaType,
      layers,
      platform: have,
      pulledAt: new Date(ctx.clock()).toISOString(),
      repoDigests: [`${repositoryName(ref)}@${indexDigest ?? manifestDigest}`],
    };
    if (indexDigest) record.indexDigest = indexDigest;
    if (config.created) record.created = config.created;

    // Manifests and config land only now: a pull that failed on a layer leaves no trace of them.
    for (const [digest, body] of blobs) putBlob(layout, digest, body);
    let changed = true;
    await withLock(ctx, layout.metadataLock, () => {
      const tags = readTags(layout);
      // Keep repo digests from earlier pulls of the same image under other names.
      const prior = loadImage(layout, record.id);
      if (prior) {
        const old = prior;
        record.repoDigests = [...new Set([...old.repoDigests, ...record.repoDigests])];
        record.pulledAt = old.pulledAt;
      }
      saveImage(layout, record);
      if (ref.tag && !ref.digest) {
        const key = formatReference(ref);
        changed = tags[key] !== record.id;
        tags[key] = record.id;
        writeTags(layout, tags);
      } else {
        changed = !prior;
      }
    });
    return { ref, record, digest: indexDigest ?? manifestDigest, changed };
  } finally {
    gcShared.release();
  }
}
