// Image records (by image id = config digest) and tags (name:tag → image id), as Docker keeps them.
// Callers hold the metadata lock around read-modify-write sequences.
import fs from "node:fs";
import path from "node:path";
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from "../errors.ts";
import { isDigest } from "../image/digest.ts";
import type { Platform } from "../image/platform.ts";
import { familiarString, formatReference, parseReference, repositoryName, type Reference } from "../image/reference.ts";
import { dirNames, readJson, writeFileAtomic } from "../atomic.ts";
import type { StoreLayout } from "./layout.ts";

export interface LayerRecord {
  diffId: string;
  /** Compressed blob as the registry served it. */
  digest: string;
  mediaType: string;
  size: number;
  unpackedSize: number;
  /**
   * Where the layer is unpacked when that is not under its diff_id: a layer with hard links to
   * files of the layers below holds copies of them, so it is stored under its chain id.
   */
  key?: string;
}

/** The store key of a layer's unpacked directory: its chain id when it depends on its lowers. */
export function layerKey(l: { diffId: string; key?: string }): string {
  return l.key ?? l.diffId;
}

export interface ImageRecord {
  id: string;
  manifestDigest: string;
  manifestMediaType: string;
  indexDigest?: string;
  layers: LayerRecord[];
  platform: Platform;
  created?: string;
  pulledAt: string;
  /** "docker.io/library/busybox@sha256:…" */
  repoDigests: string[];
}

interface Repositories {
  /** "docker.io/library/busybox:latest" → image id */
  tags: Record<string, string>;
}

export function readTags(layout: StoreLayout): Record<string, string> {
  return readJson<Repositories>(layout.repositoriesFile)?.tags ?? {};
}

export function writeTags(layout: StoreLayout, tags: Record<string, string>): void {
  const sorted = Object.fromEntries(Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)));
  writeFileAtomic(layout.repositoriesFile, `${JSON.stringify({ tags: sorted }, null, 2)}\n`);
}

export function loadImage(layout: StoreLayout, id: string): ImageRecord | undefined {
  return readJson<ImageRecord>(layout.image(id));
}

/**
 * Where a record goes when `rmi -f` deletes an image that stopped containers still use: out of every
 * listing and lookup by name or id, as Docker deletes it, but readable by those containers (start,
 * inspect, commit, cp), and its layers and blobs kept by the garbage collector until none is left.
 */
function retiredPath(layout: StoreLayout, id: string): string {
  return path.join(layout.imagesDir, "retired", path.basename(layout.image(id)));
}

/** Deletes the record of image `id` as Docker's `rmi -f` does while stopped containers use it. */
export function retireImage(layout: StoreLayout, id: string): void {
  fs.mkdirSync(path.dirname(retiredPath(layout, id)), { recursive: true, mode: 0o700 });
  fs.renameSync(layout.image(id), retiredPath(layout, id));
}

/** The image a container was made from: its record, or the retired one an `rmi -f` left for it. */
export function loadContainerImage(layout: StoreLayout, id: string): ImageRecord | undefined {
  return loadImage(layout, id) ?? readJson<ImageRecord>(retiredPath(layout, id));
}

/** Whether image `id` is retired (deleted by `rmi -f`, kept for its stopped containers). */
export function isRetired(layout: StoreLayout, id: string): boolean {
  // A pod's infra has no image (""), a test's record may name none: no digest, nothing retired.
  return /^(sha256:)?[a-f0-9]{64}$/.test(id) && fs.existsSync(retiredPath(layout, id));
}

/** Retired records, with the file each is read from (the collector removes it once no container uses it). */
export function listRetiredImages(layout: StoreLayout): { record: ImageRecord; file: string }[] {
  const dir = path.join(layout.imagesDir, "retired");
  const out: { record: ImageRecord; file: string }[] = [];
  for (const n of dirNames(dir)) {
    const record = /^[a-f0-9]{64}\.json$/.test(n) ? readJson<ImageRecord>(path.join(dir, n)) : undefined;
    if (record) out.push({ record, file: path.join(dir, n) });
  }
  return out;
}

export function saveImage(layout: StoreLayout, record: ImageRecord): void {
  writeFileAtomic(layout.image(record.id), `${JSON.stringify(record, null, 2)}\n`);
}

export function listImages(layout: StoreLayout): ImageRecord[] {
  const names = dirNames(layout.imagesDir);
  const out: ImageRecord[] = [];
  for (const n of names) {
    if (!/^[a-f0-9]{64}\.json$/.test(n)) continue;
    const rec = loadImage(layout, `sha256:${n.slice(0, 64)}`);
    if (rec) out.push(rec);
  }
  return out;
}

export function tagsOf(tags: Record<string, string>, id: string): string[] {
  return Object.entries(tags)
    .filter(([, v]) => v === id)
    .map(([k]) => k);
}

export interface Resolved {
  record: ImageRecord;
  /** The tag key when the user named a tag ("docker.io/library/busybox:latest"). */
  tag?: string;
}

/**
 * What Docker accepts for an image: a name[:tag], name@digest, a full "sha256:<id>", or a unique
 * prefix of the id.
 */
export function resolveImage(layout: StoreLayout, text: string): Resolved {
  const tags = readTags(layout);
  const hexPrefix = text.startsWith("sha256:") ? text.slice(7) : text;
  if (/^[a-f0-9]{1,64}$/.test(hexPrefix)) {
    const matches = listImages(layout).filter((r) => r.id.slice(7).startsWith(hexPrefix));
    if (matches.length === 1) return { record: matches[0]! };
    if (matches.length > 1 && hexPrefix.length < 64) {
      throw new FailedPreconditionError(`Cannot resolve image "${text}": ambiguous id prefix, matches ${matches.length} images`);
    }
    if (text.startsWith("sha256:") || hexPrefix.length === 64) throw new NotFoundError(`No such image: ${text}`);
  }
  let ref: Reference;
  try {
    ref = parseReference(text);
  } catch {
    throw new NotFoundError(`No such image: ${text}`);
  }
  if (ref.digest) {
    const want = `${repositoryName(ref)}@${ref.digest}`;
    const rec = listImages(layout).find((r) => r.repoDigests.includes(want) || r.indexDigest === ref.digest && r.repoDigests.some((d) => d.startsWith(`${repositoryName(ref)}@`)));
    if (rec) return { record: rec };
    throw new NotFoundError(`No such image: ${familiarString(ref)}`);
  }
  const key = formatReference(ref);
  const id = tags[key];
  const record = id ? loadImage(layout, id) : undefined;
  if (!record) throw new NotFoundError(`No such image: ${familiarString(ref)}`);
  return { record, tag: key };
}

export function addTag(layout: StoreLayout, target: string, id: string): void {
  const ref = parseReference(target);
  if (ref.digest) throw new AlreadyExistsError(`Cannot tag "${target}": a reference with a digest cannot be a tag`);
  const tags = readTags(layout);
  tags[formatReference(ref)] = id;
  writeTags(layout, tags);
}

/**
 * Removes `names` (each must be a tag of image `id`), or every tag of it when none is given; the
 * image itself stays, dangling when it has no tag left.
 */
export function removeTags(layout: StoreLayout, id: string, names: readonly string[]): void {
  const tags = readTags(layout);
  const keys = names.length === 0 ? tagsOf(tags, id) : names.map((n) => formatReference(parseReference(n)));
  keys.forEach((key, i) => {
    if (tags[key] !== id) throw new NotFoundError(`Cannot untag "${names[i] ?? key}": not a name of image ${id.slice(7, 19)}`);
  });
  for (const key of keys) delete tags[key];
  writeTags(layout, tags);
}

export function isImageId(text: string): boolean {
  return isDigest(text);
}
