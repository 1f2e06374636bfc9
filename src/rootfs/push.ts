// `push`: an image of the store → a registry repository. Its blobs go first (each one checked,
// mounted from a repository of the same registry that had it, or uploaded from the store), the
// manifest's exact stored bytes last, so the digest is the one the image was pulled or built with.
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, NotFoundError } from "../errors.ts";
import { shortId } from "../image/digest.ts";
import { parseManifest, type Descriptor, type ImageManifest } from "../image/manifest.ts";
import { familiarName, formatReference, parseReference, repositoryName, type Reference } from "../image/reference.ts";
import { RegistryUploader } from "../registry/upload.ts";
import { hasBlob, readBlob } from "../store/content.ts";
import { loadImage, resolveImage, saveImage, type ImageRecord } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import type { StoreLayout } from "../store/layout.ts";
import { acquireLock, withLock } from "../store/lock.ts";
import { runLimited } from "./pull.ts";

export type PushPhase = "Preparing" | "Waiting" | "Pushing" | "Pushed" | "Layer already exists" | `Mounted from ${string}`;

export interface PushProgress {
  /** The layer's diff_id, short, as Docker shows it. */
  id: string;
  phase: PushPhase;
  current?: number;
  total?: number;
}

export interface PushOptions {
  onLayers?: (ids: string[]) => void;
  onProgress?: (p: PushProgress) => void;
}

export interface PushResult {
  ref: Reference;
  /** What the tag now names: the index's digest when one was pushed, else the manifest's. */
  digest: string;
  /** Bytes of that manifest or index. */
  size: number;
}

/** Docker's max-concurrent-uploads. */
const CONCURRENT_UPLOADS = 5;
/** Blobs up to this size are sent in turns apart from the large ones (see pushImage). */
const SMALL_BLOB = 1024 * 1024;

/** The repositories of `registry` the image is known in ("library/busybox"), from its repo digests. */
export function mountSources(record: ImageRecord, registry: string): string[] {
  const out = new Set<string>();
  for (const rd of record.repoDigests) {
    const at = rd.indexOf("@");
    const name = at < 0 ? rd : rd.slice(0, at);
    const slash = name.indexOf("/");
    if (slash > 0 && name.slice(0, slash) === registry) out.add(name.slice(slash + 1));
  }
  return [...out];
}

/** The order blobs are sent in (indices into `blobs`): the large ones, largest first; the small ones apart. */
export function uploadQueues(blobs: readonly { size: number }[]): [number[], number[]] {
  const largestFirst = blobs.map((_, i) => i).sort((a, b) => blobs[b]!.size - blobs[a]!.size || a - b);
  return [largestFirst.filter((i) => blobs[i]!.size > SMALL_BLOB), largestFirst.filter((i) => blobs[i]!.size <= SMALL_BLOB)];
}

/** The index to push with the image: the stored one when it names no manifest but the image's. */
function pushableIndex(layout: StoreLayout, record: ImageRecord): { body: Uint8Array; mediaType: string } | undefined {
  if (!record.indexDigest || !hasBlob(layout, record.indexDigest)) return undefined;
  const body = readBlob(layout, record.indexDigest);
  const index = parseManifest(body, null, `index ${record.indexDigest}`);
  if (index.kind !== "index" || !index.manifests.every((m) => m.digest === record.manifestDigest)) return undefined;
  return { body, mediaType: index.mediaType };
}

export async function pushImage(ctx: Ctx, refText: string, opts: PushOptions = {}): Promise<PushResult> {
  const ref = parseReference(refText);
  if (ref.digest) throw new FailedPreconditionError(`Cannot push "${refText}": push takes a tag, not a digest`);
  const layout = openStore(ctx.root);
  let record: ImageRecord;
  try {
    record = resolveImage(layout, formatReference(ref)).record;
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarName(ref)}`, { cause: err });
    throw err;
  }
  const name = familiarName(ref);
  // Shared gc.lock: an rmi elsewhere cannot collect the blobs while they are being sent.
  const gcShared = await acquireLock(ctx, layout.gcLock, { shared: true });
  try {
    if (!hasBlob(layout, record.manifestDigest)) {
      throw new NotFoundError(`Cannot push ${name}: its manifest ${record.manifestDigest} is not in the store`);
    }
    const manifestBody = readBlob(layout, record.manifestDigest);
    const parsed = parseManifest(manifestBody, record.manifestMediaType, `manifest of ${name}`);
    if (parsed.kind !== "manifest") throw new FailedPreconditionError(`Cannot push ${name}: its record names an index as its manifest`);
    const manifest: ImageManifest = parsed;
    const uploader = new RegistryUploader(ctx, ref, mountSources(record, ref.registry));
    const mountFrom = mountSources(record, ref.registry);

    const ids = manifest.layers.map((l, i) => shortId(record.layers[i]?.diffId ?? l.digest));
    opts.onLayers?.(ids);
    // Layers and the config, a few at a time, then the manifest, which the registry accepts only
    // once every blob it names is there. Whether the registry has each blob, and the mount or
    // upload it opens for one it lacks, are asked of all at once: they carry no bytes, and a blob
    // waiting for its turn finds its upload open (each opening costs the registry a few small
    // fsyncs, ~0.1-0.4 s on a busy disk). The largest go first: a large one left for last would be
    // sent alone at the end (Docker goes bottom first; the result lines come in any order either
    // way). Small blobs (the config, tiny layers) cost round trips, not bandwidth: they take turns
    // of their own instead of waiting behind the large ones.
    const blobs = [...manifest.layers, manifest.config];
    const begun = blobs.map((desc) => uploader.begin(desc, { mountFrom }));
    for (const b of begun) b.catch(() => {}); // a failure is thrown where it is awaited
    const send = async (desc: Descriptor, i: number): Promise<void> => {
      const id = ids[i] ?? null;
      const file = layout.blob(desc.digest);
      const report = (p: PushProgress) => {
        if (id) opts.onProgress?.(p);
      };
      const outcome = await uploader.pushBlob(desc, file, {
        begun: begun[i],
        onProgress: (current, total) => report({ id: id ?? "", phase: "Pushing", current, total }),
      });
      const phase: PushPhase =
        outcome.kind === "exists" ? "Layer already exists" : outcome.kind === "mounted" ? `Mounted from ${outcome.from}` : "Pushed";
      report({ id: id ?? "", phase });
    };
    const sent = await Promise.allSettled(uploadQueues(blobs).map((q) => runLimited(q, CONCURRENT_UPLOADS, (i) => send(blobs[i]!, i))));
    for (const r of sent) if (r.status === "rejected") throw r.reason;

    const tag = ref.tag ?? "latest";
    const index = pushableIndex(layout, record);
    let digest: string;
    let size: number;
    if (index) {
      await uploader.putManifest(record.manifestDigest, manifestBody, manifest.mediaType);
      digest = await uploader.putManifest(tag, index.body, index.mediaType);
      size = index.body.length;
    } else {
      digest = await uploader.putManifest(tag, manifestBody, manifest.mediaType);
      size = manifestBody.length;
    }
    // Docker records the pushed digest: `images --digests` shows it, and later pushes of these
    // blobs to this registry can mount them from here.
    await withLock(ctx, layout.metadataLock, () => {
      const now = loadImage(layout, record.id);
      if (!now) return;
      const rd = `${repositoryName(ref)}@${digest}`;
      if (!now.repoDigests.includes(rd)) {
        now.repoDigests = [...now.repoDigests, rd];
        saveImage(layout, now);
      }
    });
    return { ref, digest, size };
  } finally {
    gcShared.release();
  }
}
