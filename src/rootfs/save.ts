// `save`: images of the store → one tar, streamed: a docker-archive (manifest.json, <config>.json,
// one uncompressed layer.tar per layer, repositories) as `docker save` writes it, or an OCI image
// layout (`--format oci-archive`, podman's name) with the stored blobs as they are.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { DataLossError, NotFoundError } from "../errors.ts";
import { digestHex } from "../image/digest.ts";
import { MediaType, layerCompression, parseManifest, type Compression } from "../image/manifest.ts";
import { familiarName, formatReference, parseReference } from "../image/reference.ts";
import { sha256Digest } from "../image/digest.ts";
import { hasBlob, readBlob } from "../store/content.ts";
import { readTags, resolveImage, tagsOf, type ImageRecord } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import type { StoreLayout } from "../store/layout.ts";
import { acquireLock } from "../store/lock.ts";
import { capped, decompress, zstdContentSize } from "./decompress.ts";
import { TAR_END, tarHeader, tarPadding } from "./tar-writer.ts";

export type ArchiveFormat = "docker-archive" | "oci-archive";

/** Where the archive's bytes go, in order; returns when they may be reused. */
export type ArchiveSink = (bytes: Uint8Array) => void | Promise<void>;

interface Picked {
  record: ImageRecord;
  /** Tags to write, familiar ("busybox:latest"), as the user named them or all the image has. */
  tags: string[];
  /** Fully qualified tags ("docker.io/library/busybox:latest"). */
  refs: string[];
}

function pick(layout: StoreLayout, names: readonly string[]): Picked[] {
  const out = new Map<string, Picked>();
  const all = readTags(layout);
  for (const name of names) {
    const { record, tag } = resolveImage(layout, name);
    const p = out.get(record.id) ?? { record, tags: [], refs: [] };
    // A name with a tag saves that tag; an id saves every tag the image has (Docker's rule).
    const keys = tag ? [tag] : name.includes("@") ? [] : tagsOf(all, record.id);
    for (const key of keys) {
      if (p.refs.includes(key)) continue;
      const ref = parseReference(key);
      p.refs.push(key);
      p.tags.push(`${familiarName(ref)}:${ref.tag}`);
    }
    out.set(record.id, p);
  }
  for (const p of out.values()) {
    for (const d of [p.record.id, p.record.manifestDigest, ...p.record.layers.map((l) => l.digest)]) {
      if (!hasBlob(layout, d)) throw new NotFoundError(`Cannot save image ${p.record.id.slice(7, 19)}: blob ${d} is not in the store (pull the image again)`);
    }
    // Config and manifest are small: checked before the first byte goes out. Layers are checked as
    // they stream (see `heldBack`).
    for (const d of [p.record.id, p.record.manifestDigest]) verifiedBlob(layout, d);
  }
  return [...out.values()];
}

function damaged(digest: string, actual: string): DataLossError {
  return new DataLossError(`Cannot save blob ${digest}: the store's copy hashes to ${actual} (damaged: remove the image and pull it again)`);
}

/** A small stored blob, checked against its name. */
function verifiedBlob(layout: StoreLayout, digest: string): Uint8Array {
  const bytes = readBlob(layout, digest);
  const actual = sha256Digest(bytes);
  if (actual !== digest) throw damaged(digest, actual);
  return bytes;
}

/**
 * A sink that keeps the last chunk back until `release`: when the content then proves not to be
 * what its name says, the entry stays short of its declared size, so the archive on STDOUT (which
 * cannot be taken back) is a truncated one every reader refuses, never one whose names lie.
 */
function heldBack(sink: ArchiveSink): { write: ArchiveSink; release: () => Promise<void> } {
  let held: Uint8Array | undefined;
  return {
    write: async (bytes) => {
      if (held) await sink(held);
      held = bytes;
    },
    release: async () => {
      if (held) await sink(held);
      held = undefined;
    },
  };
}

async function entry(sink: ArchiveSink, name: string, bytes: Uint8Array): Promise<void> {
  await sink(tarHeader(name, bytes.length));
  await sink(bytes);
  await sink(tarPadding(bytes.length));
}

/** A stored blob, as is, as one entry. */
async function blobEntry(sink: ArchiveSink, layout: StoreLayout, name: string, digest: string, size: number): Promise<void> {
  await sink(tarHeader(name, size));
  const out = heldBack(sink);
  const hasher = new Bun.CryptoHasher("sha256");
  let n = 0;
  for await (const chunk of Bun.file(layout.blob(digest)).stream()) {
    n += chunk.length;
    if (n > size) throw new DataLossError(`Cannot save blob ${digest}: the store holds more than its ${size} bytes`);
    hasher.update(chunk);
    await out.write(chunk);
  }
  if (n !== size) throw new DataLossError(`Cannot save blob ${digest}: the store holds ${n} of its ${size} bytes`);
  const actual = `sha256:${hasher.digest("hex")}`;
  if (actual !== digest) throw damaged(digest, actual);
  await out.release();
  await sink(tarPadding(size));
}

type Layer = ImageRecord["layers"][number];

/**
 * The size of a layer's uncompressed tar, which its entry's header must hold before the bytes. The
 * recorded size is taken when the blob agrees with it (a plain tar's own size; a gzip's ISIZE
 * trailer, the size modulo 2^32, of its last member; the content sizes a zstd's frames declare); else the blob is unpacked once to count it
 * (stores whose built layers recorded their files' size rather than the tar's still save). The
 * stream that follows is checked against the diff_id either way.
 */
async function tarSizeOf(layout: StoreLayout, layer: Layer, compression: Compression, what: string, maxBytes: number): Promise<number> {
  const file = Bun.file(layout.blob(layer.digest));
  if (compression === "none") return file.size;
  if (compression === "gzip" && file.size >= 18) {
    const trailer = new DataView(await file.slice(file.size - 4).arrayBuffer());
    if (trailer.getUint32(0, true) === layer.unpackedSize % 2 ** 32) return layer.unpackedSize;
  } else if (compression === "zstd") {
    const fd = fs.openSync(layout.blob(layer.digest), "r");
    try {
      if (zstdContentSize(fd, file.size) === layer.unpackedSize) return layer.unpackedSize;
    } finally {
      fs.closeSync(fd);
    }
  }
  let n = 0;
  for await (const chunk of capped(decompress(file.stream(), compression, what), maxBytes, what)) n += chunk.length;
  return n;
}

/** A layer's uncompressed tar, checked against its diff_id as it streams. */
async function layerTar(sink: ArchiveSink, layout: StoreLayout, name: string, layer: Layer, maxBytes: number): Promise<void> {
  const what = `layer ${layer.digest}`;
  const compression = layerCompression(layer.mediaType, what);
  const size = await tarSizeOf(layout, layer, compression, what, maxBytes);
  await sink(tarHeader(name, size));
  const out = heldBack(sink);
  const hasher = new Bun.CryptoHasher("sha256");
  let n = 0;
  for await (const chunk of decompress(Bun.file(layout.blob(layer.digest)).stream(), compression, what)) {
    n += chunk.length;
    if (n > size) throw new DataLossError(`Cannot save ${what}: it unpacks to more than the ${size} bytes recorded`);
    hasher.update(chunk);
    await out.write(chunk);
  }
  const digest = `sha256:${hasher.digest("hex")}`;
  if (n !== size || digest !== layer.diffId) throw new DataLossError(`Cannot save ${what}: it unpacks to ${n} bytes hashing to ${digest}, not ${layer.diffId}`);
  await out.release();
  await sink(tarPadding(size));
}

export async function saveImages(ctx: Ctx, names: readonly string[], format: ArchiveFormat, sink: ArchiveSink): Promise<void> {
  const layout = openStore(ctx.root);
  // Shared gc.lock: an rmi elsewhere cannot collect blobs while they are being written.
  const gcShared = await acquireLock(ctx, layout.gcLock, { shared: true });
  try {
    const images = pick(layout, names);
    if (format === "oci-archive") await writeOci(sink, layout, images);
    else await writeDocker(sink, layout, images, ctx.config.maxLayerBytes);
    await sink(TAR_END);
  } finally {
    gcShared.release();
  }
}

async function writeDocker(sink: ArchiveSink, layout: StoreLayout, images: Picked[], maxLayerBytes: number): Promise<void> {
  const done = new Set<string>();
  const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { record, tags } of images) {
    const config = `${digestHex(record.id)}.json`;
    await entry(sink, config, verifiedBlob(layout, record.id));
    const layers: string[] = [];
    for (const l of record.layers) {
      const dir = digestHex(l.diffId);
      const name = `${dir}/layer.tar`;
      layers.push(name);
      if (done.has(name)) continue;
      done.add(name);
      await sink(tarHeader(`${dir}/`, 0, "directory"));
      await entry(sink, `${dir}/VERSION`, new TextEncoder().encode("1.0"));
      await layerTar(sink, layout, name, l, maxLayerBytes);
    }
    manifest.push({ Config: config, RepoTags: tags.length ? tags : null, Layers: layers });
    const top = record.layers.length ? digestHex(record.layers[record.layers.length - 1]!.diffId) : digestHex(record.id);
    for (const t of tags) {
      const colon = t.lastIndexOf(":");
      (repositories[t.slice(0, colon)] ??= {})[t.slice(colon + 1)] = top;
    }
  }
  await entry(sink, "manifest.json", new TextEncoder().encode(`${JSON.stringify(manifest)}\n`));
  await entry(sink, "repositories", new TextEncoder().encode(`${JSON.stringify(repositories)}\n`));
}

async function writeOci(sink: ArchiveSink, layout: StoreLayout, images: Picked[]): Promise<void> {
  const enc = new TextEncoder();
  await entry(sink, "oci-layout", enc.encode('{"imageLayoutVersion":"1.0.0"}'));
  await sink(tarHeader("blobs/", 0, "directory"));
  await sink(tarHeader("blobs/sha256/", 0, "directory"));
  const done = new Set<string>();
  const descriptors: unknown[] = [];
  for (const { record, refs } of images) {
    const manifestBody = verifiedBlob(layout, record.manifestDigest);
    const manifest = parseManifest(manifestBody, record.manifestMediaType, `manifest of image ${record.id.slice(7, 19)}`);
    if (manifest.kind !== "manifest") throw new DataLossError(`Cannot save image ${record.id.slice(7, 19)}: its manifest is an index`);
    for (const d of [...manifest.layers, manifest.config]) {
      if (done.has(d.digest)) continue;
      done.add(d.digest);
      await blobEntry(sink, layout, `blobs/sha256/${digestHex(d.digest)}`, d.digest, d.size);
    }
    if (!done.has(record.manifestDigest)) {
      done.add(record.manifestDigest);
      await entry(sink, `blobs/sha256/${digestHex(record.manifestDigest)}`, manifestBody);
    }
    const desc = { mediaType: manifest.mediaType, digest: record.manifestDigest, size: manifestBody.length };
    if (refs.length === 0) descriptors.push(desc);
    for (const r of refs) {
      const ref = parseReference(r);
      descriptors.push({
        ...desc,
        annotations: { "io.containerd.image.name": formatReference(ref), "org.opencontainers.image.ref.name": `${familiarName(ref)}:${ref.tag}` },
      });
    }
  }
  const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: descriptors };
  await entry(sink, "index.json", enc.encode(`${JSON.stringify(index)}\n`));
}
