// One unpacked layer per diff_id, shared by every image that has it. A layer becomes visible only
// by the rename of a complete, verified directory; a per-layer lock makes concurrent pulls of the
// same layer wait for each other instead of unpacking twice.
import fs from "node:fs";
import path from "node:path";
import { DataLossError, isKind } from "../errors.ts";
import { shortId } from "../image/digest.ts";
import { layerCompression, type Descriptor } from "../image/manifest.ts";
import { fsyncDir, fsyncDirAsync, readJson, writeFileAtomic, writeFileAtomicAsync } from "../atomic.ts";
import { hasBlob, Ingest } from "../store/content.ts";
import type { StoreLayout } from "../store/layout.ts";
import { acquireLock, type LockDeps } from "../store/lock.ts";
import type { Sys } from "../sys/sys.ts";

export interface LayerMeta {
  diffId: string;
  /** Name of the short link under l/ used in overlay's lowerdir. */
  link: string;
  unpackedSize: number;
  /** The chain id it is stored under when it holds copies of lower layers' files (see LayerRecord.key). */
  key?: string;
}

export type LayerPhase = "Waiting" | "Downloading" | "Verifying" | "Pull complete" | "Already exists";

export interface LayerProgress {
  id: string;
  phase: LayerPhase;
  current?: number;
  total?: number;
}

export interface LayerDeps extends LockDeps {
  sys: Sys;
  layout: StoreLayout;
  maxLayerBytes: number;
}

/**
 * Where a layer sits in its image: its chain id (OCI: the diff_ids up to it), and the unpacked
 * directories of the layers below it, topmost first, once they are complete.
 */
export interface LayerStack {
  chainId: string;
  lowers: () => Promise<string[]>;
}

/** The registry side of a layer: opens its blob from a byte offset (see RegistryClient.openBlob). */
export type OpenBlob = (desc: Descriptor, offset: number) => Promise<ReadableStream<Uint8Array>>;

/** The digest did not match after resuming a partial download: worth one attempt from zero. */
class ResumedBlobMismatch extends DataLossError {}

export function layerMeta(layout: StoreLayout, diffId: string): LayerMeta | undefined {
  return readJson<LayerMeta>(path.join(layout.layer(diffId), "meta.json"));
}

const LINK_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function newLinkName(layout: StoreLayout): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    const name = Array.from(bytes, (b) => LINK_CHARS[b % LINK_CHARS.length]).join("");
    if (!fs.existsSync(layout.link(name))) return name;
  }
}

function removeStaleTmps(layout: StoreLayout, diffId: string): void {
  const prefix = path.basename(layout.layerTmp(diffId, ""));
  for (const name of fs.readdirSync(layout.layersDir)) {
    if (name.startsWith(prefix)) fs.rmSync(path.join(layout.layersDir, name), { recursive: true, force: true });
  }
}

/**
 * Make sure the layer `diffId` is unpacked, fetching `desc` through `open` when it is not in the
 * store already. Returns its metadata. Safe against concurrent callers in other processes.
 */
export async function ensureLayer(
  deps: LayerDeps,
  diffId: string,
  desc: Descriptor,
  open: OpenBlob,
  progress: (p: LayerProgress) => void = () => {},
  stack?: LayerStack,
): Promise<LayerMeta> {
  const { layout } = deps;
  const id = shortId(desc.digest);
  // Under its diff_id a layer is the same on any base; one with cross-layer hard links is stored
  // under its chain id, valid on this base only.
  const find = () => layerMeta(layout, diffId) ?? (stack ? layerMeta(layout, stack.chainId) : undefined);
  const present = find();
  if (present) {
    progress({ id, phase: "Already exists" });
    return present;
  }
  progress({ id, phase: "Waiting" });
  const lock = await acquireLock(deps, layout.layerLock(diffId));
  try {
    const again = find();
    if (again) {
      progress({ id, phase: "Already exists" });
      return again;
    }
    removeStaleTmps(layout, diffId);
    try {
      return await unpackOnce(deps, diffId, desc, open, progress, stack);
    } catch (err) {
      // A partial left by an earlier process may hold bad bytes: one fresh attempt from zero.
      if (err instanceof ResumedBlobMismatch) return await unpackOnce(deps, diffId, desc, open, progress, stack);
      throw err;
    }
  } finally {
    lock.release();
  }
}

async function unpackOnce(
  deps: LayerDeps,
  diffId: string,
  desc: Descriptor,
  open: OpenBlob,
  progress: (p: LayerProgress) => void,
  stack: LayerStack | undefined,
): Promise<LayerMeta> {
  const { layout } = deps;
  const id = shortId(desc.digest);
  const compression = layerCompression(desc.mediaType, `layer ${desc.digest}`);
  const tmp = layout.layerTmp(diffId, `${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  fs.mkdirSync(path.join(tmp, "diff"), { recursive: true, mode: 0o755 });
  let ingest: Ingest | undefined;
  let resumedFrom = 0;
  let input: ReadableStream<Uint8Array>;
  if (hasBlob(layout, desc.digest)) {
    input = Bun.file(layout.blob(desc.digest)).stream();
  } else {
    const ing = new Ingest(layout, desc.digest, desc.size);
    ingest = ing;
    const resumeAt = ing.resumable;
    resumedFrom = resumeAt;
    let last = 0;
    const report = (n: number) => {
      if (n === desc.size || n - last >= 256 * 1024) {
        last = n;
        progress({ id, phase: "Downloading", current: n, total: desc.size });
      }
    };
    input = (ReadableStream as unknown as { from(it: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> }).from(
      (async function* () {
        yield* ing.replay();
        report(ing.size);
        const net = await open(desc, resumeAt);
        for await (const chunk of net) {
          await ing.append(chunk);
          report(ing.size);
          yield chunk;
        }
      })(),
    );
  }
  try {
    let result;
    try {
      // The tar reader and layer writer load with the first layer to unpack: a run or inspect of
      // a pulled image only reads layer metadata from this module.
      const { unpackLayer } = await import("./unpack.ts");
      result = await unpackLayer(input, compression, path.join(tmp, "diff"), {
        sys: deps.sys,
        maxBytes: deps.maxLayerBytes,
        what: `layer ${desc.digest}`,
        // The base layer has nothing below it (its chain id is its diff_id).
        ...(stack && stack.chainId !== diffId ? { lowers: stack.lowers } : {}),
      });
    } catch (err) {
      // A hostile or corrupt archive: its bytes are worth nothing for a resume.
      if (isKind(err, "DataLoss")) await ingest?.discard();
      throw err;
    }
    progress({ id, phase: "Verifying" });
    try {
      // The compressed blob is kept (as containerd keeps it): `push` sends these exact bytes, so
      // the manifest's digests still hold, and `save` decompresses them to the tar the diff_id names.
      await ingest?.verify();
    } catch (err) {
      if (resumedFrom > 0 && isKind(err, "DataLoss")) throw new ResumedBlobMismatch((err as Error).message, { cause: err });
      throw err;
    }
    if (result.diffId !== diffId) {
      throw new DataLossError(`Cannot verify layer ${desc.digest}: its content hashes to ${result.diffId}, the image config says ${diffId}`);
    }
    const meta: LayerMeta = { diffId, link: newLinkName(layout), unpackedSize: result.size };
    if (result.crossLayerLinks > 0 && stack) meta.key = stack.chainId;
    const key = meta.key ?? diffId;
    // The fsyncs on the thread pool: other layers go on unpacking on this thread meanwhile.
    await writeFileAtomicAsync(path.join(tmp, "meta.json"), JSON.stringify(meta), 0o600);
    // The link may dangle for a moment; it never points at an incomplete layer.
    fs.symlinkSync(path.join("..", "layers", path.basename(layout.layer(key)), "diff"), layout.link(meta.link));
    fs.renameSync(tmp, layout.layer(key));
    await fsyncDirAsync(layout.layersDir);
    await ingest?.commit(layout);
    progress({ id, phase: "Pull complete" });
    return meta;
  } catch (err) {
    await ingest?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A directory already in overlay's lower-layer form (a build step's upper dir: whiteouts as 0:0
 * devices, opaque marks as xattrs) made the layer `diffId` by rename, without unpacking its tar
 * again; it must be on the store's filesystem. When the layer is there already the directory is
 * removed. Same lock, meta.json and link as ensureLayer.
 */
export async function adoptLayerDir(deps: LayerDeps, diffId: string, dir: string, unpackedSize: number): Promise<LayerMeta> {
  const { layout } = deps;
  const lock = await acquireLock(deps, layout.layerLock(diffId));
  try {
    const present = layerMeta(layout, diffId);
    if (present) {
      fs.rmSync(dir, { recursive: true, force: true });
      return present;
    }
    removeStaleTmps(layout, diffId);
    const tmp = layout.layerTmp(diffId, `${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    fs.mkdirSync(tmp, { mode: 0o755 });
    try {
      fs.renameSync(dir, path.join(tmp, "diff"));
      const meta: LayerMeta = { diffId, link: newLinkName(layout), unpackedSize };
      writeFileAtomic(path.join(tmp, "meta.json"), JSON.stringify(meta), 0o600);
      fs.symlinkSync(path.join("..", "layers", path.basename(layout.layer(diffId)), "diff"), layout.link(meta.link));
      fs.renameSync(tmp, layout.layer(diffId));
      fsyncDir(layout.layersDir);
      return meta;
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  } finally {
    lock.release();
  }
}
