// `load`: a docker-archive or an OCI image layout tar (plain, gzip or zstd) → the store. The
// archive is read once, its files spooled to a private directory under the root (entries may come
// in any order: docker-archive's manifest.json is often last), then every image is checked (each
// blob's digest and size, each layer's diff_id) and stored through Ingest → verify → rename and
// unpacked as a pull unpacks. Tags are written last, all at once: a refused archive tags nothing.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { DataLossError, errnoCode, InvalidArgumentError, UnavailableError } from "../errors.ts";
import { isDigest, sha256Digest } from "../image/digest.ts";
import {
  checkLayerCount,
  MAX_MANIFEST_BYTES,
  MediaType,
  parseImageConfig,
  parseManifest,
  pickPlatform,
  type Compression,
  type Descriptor,
  type ImageManifest,
} from "../image/manifest.ts";
import type { Platform } from "../image/platform.ts";
import { familiarString, formatReference, parseReference } from "../image/reference.ts";
import { hasBlob, Ingest, putBlob } from "../store/content.ts";
import { loadImage, readTags, saveImage, writeTags, type ImageRecord, type LayerRecord } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import type { StoreLayout } from "../store/layout.ts";
import { acquireLock, withLock } from "../store/lock.ts";
import { decompress } from "./decompress.ts";
import { ensureLayers } from "./pull.ts";
import { scratchDir } from "../store/scratch.ts";
import { TarReader } from "./tar.ts";

/** Entries of an archive that are read as JSON: never more than a manifest's cap. */
const JSON_NAMES = /(^|\/)(manifest\.json|index\.json|oci-layout|repositories|json|VERSION|[a-f0-9]{64}\.json)$/;
/** Symlinks followed inside the archive before giving up (old docker-archives link shared layers). */
const MAX_LINK_HOPS = 16;
/** Entries an archive may have: each is a file on disk while it loads. */
const MAX_ENTRIES = 100_000;

export interface LoadResult {
  /** "busybox:latest" for each tag, in archive order. */
  tags: string[];
  /** Image ids that came without a tag. */
  untagged: string[];
}

interface Spooled {
  file: string;
  size: number;
  digest: string;
}

type Entry = { kind: "file"; spooled: Spooled } | { kind: "link"; target: string };

function refuse(reason: string): never {
  throw new DataLossError(`Cannot load archive: ${reason}`);
}

/** An entry name as a clean relative path, or a refusal naming it. */
export function cleanEntryName(name: string): string {
  const shown = JSON.stringify(name.slice(0, 200));
  if (name.includes("\0")) refuse(`entry ${shown} has a NUL in its name`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (name.startsWith("/") || parts.includes("..")) refuse(`entry ${shown} leads outside the archive`);
  return parts.join("/");
}

/** The first chunk decides: gzip (1f 8b), zstd (28 b5 2f fd), else a plain tar. */
export function sniffCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/** `input`'s bytes, gunzipped or un-zstded when its first bytes say so. */
export async function* decompressed(input: ReadableStream<Uint8Array>, what = "archive"): AsyncGenerator<Uint8Array> {
  const reader = input.getReader();
  let head: Uint8Array | undefined;
  const first = await reader.read();
  if (first.done) throw new DataLossError(`Cannot load ${what}: it is empty`);
  head = first.value;
  const rest = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (head) {
        c.enqueue(head);
        head = undefined;
        return;
      }
      const r = await reader.read();
      if (r.done) c.close();
      else c.enqueue(r.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  yield* decompress(rest, sniffCompression(first.value), what);
}

/** Reads the whole archive into `dir`, one file per regular entry, hashed as it lands. */
async function spool(ctx: Ctx, input: ReadableStream<Uint8Array>, dir: string): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>();
  const tar = new TarReader(decompressed(input)[Symbol.asyncIterator](), "archive");
  for (let n = 0; ; n++) {
    const h = await tar.next();
    if (!h) break;
    if (n >= MAX_ENTRIES) refuse(`more than ${MAX_ENTRIES} entries`);
    const name = cleanEntryName(h.name);
    if (h.type === "directory") continue;
    if (name === "") refuse("an entry names the archive's root");
    if (entries.has(name)) refuse(`entry ${JSON.stringify(name)} appears twice`);
    if (h.type === "symlink" || h.type === "hardlink") {
      const target = h.type === "hardlink" ? cleanEntryName(h.linkname) : cleanEntryName(path.posix.join(path.posix.dirname(name), h.linkname));
      entries.set(name, { kind: "link", target });
      continue;
    }
    if (h.type !== "file") refuse(`entry ${JSON.stringify(name)} is a ${h.type}, not a file`);
    const max = JSON_NAMES.test(name) ? MAX_MANIFEST_BYTES : ctx.config.maxLayerBytes;
    if (h.size > max) refuse(`entry ${JSON.stringify(name)} declares ${h.size} bytes, more than the ${max} allowed`);
    const file = path.join(dir, String(n));
    const hasher = new Bun.CryptoHasher("sha256");
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, "wx", 0o600);
      await tar.body((bytes) => {
        hasher.update(bytes);
        let off = 0;
        while (off < bytes.length) off += fs.writeSync(fd!, bytes, off, bytes.length - off);
      });
    } catch (err) {
      const code = errnoCode(err);
      if (!code) throw err; // the tar reader's own, already one line
      // A full disk, a quota: say what was being written, not only "ENOSPC: …, write".
      throw new UnavailableError(`Cannot load archive: spooling entry ${JSON.stringify(name.slice(0, 200))} into ${dir}: ${code}`, { cause: err });
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
    entries.set(name, { kind: "file", spooled: { file, size: h.size, digest: `sha256:${hasher.digest("hex")}` } });
  }
  return entries;
}

class Archive {
  constructor(private readonly entries: Map<string, Entry>) {}

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The file an archive path names, symlinks followed inside the archive. */
  get(name: string, what: string): Spooled {
    let at = cleanEntryName(name);
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const e = this.entries.get(at);
      if (!e) refuse(`${what} names ${JSON.stringify(name.slice(0, 200))}, which the archive does not have`);
      if (e.kind === "file") return e.spooled;
      at = e.target;
    }
    refuse(`${what}: ${JSON.stringify(name)} is a loop of links`);
  }

  /** A blob of an OCI layout, checked against its descriptor. */
  blob(desc: Descriptor, what: string): Spooled {
    if (!isDigest(desc.digest)) refuse(`${what} has a malformed digest`);
    const s = this.get(`blobs/sha256/${desc.digest.slice(7)}`, what);
    if (s.digest !== desc.digest) refuse(`${what} ${desc.digest} hashes to ${s.digest}`);
    if (s.size !== desc.size) refuse(`${what} ${desc.digest} has ${s.size} bytes, its descriptor says ${desc.size}`);
    return s;
  }

  json(s: Spooled, what: string): Uint8Array {
    if (s.size > MAX_MANIFEST_BYTES) refuse(`${what} is larger than ${MAX_MANIFEST_BYTES} bytes`);
    return new Uint8Array(fs.readFileSync(s.file));
  }
}

/** One image found in the archive, its blobs located and checked, ready to store. */
interface Found {
  manifest: ImageManifest;
  manifestBody: Uint8Array;
  configBody: Uint8Array;
  /** Layer blobs in manifest order. */
  layers: Spooled[];
  /** Fully qualified tags. */
  tags: string[];
}

function compressionOf(s: Spooled): Compression {
  const fd = fs.openSync(s.file, "r");
  try {
    const head = new Uint8Array(4);
    fs.readSync(fd, head, 0, 4, 0);
    return sniffCompression(head);
  } finally {
    fs.closeSync(fd);
  }
}

const LAYER_TYPES: Record<Compression, string> = { none: MediaType.OciLayer, gzip: MediaType.OciLayerGzip, zstd: MediaType.OciLayerZstd };

function qualify(tag: string, what: string): string {
  try {
    const ref = parseReference(tag);
    if (ref.digest) refuse(`${what} tag ${JSON.stringify(tag)} has a digest`);
    return formatReference(ref);
  } catch (err) {
    if (err instanceof DataLossError) throw err;
    refuse(`${what} has a malformed tag ${JSON.stringify(tag.slice(0, 200))}`);
  }
}

function dockerImages(archive: Archive): Found[] {
  const list = JSON.parse(new TextDecoder().decode(archive.json(archive.get("manifest.json", "manifest.json"), "manifest.json"))) as unknown;
  if (!Array.isArray(list) || list.length === 0) refuse("manifest.json is not a list of images");
  return list.map((raw, i) => {
    const what = `manifest.json[${i}]`;
    const m = (raw ?? {}) as { Config?: unknown; RepoTags?: unknown; Layers?: unknown };
    if (typeof m.Config !== "string" || !Array.isArray(m.Layers) || !m.Layers.every((l) => typeof l === "string")) {
      refuse(`${what} lacks Config or Layers`);
    }
    const configS = archive.get(m.Config, what);
    const hex = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(m.Config);
    if (hex && `sha256:${hex[1]}` !== configS.digest) refuse(`${what} config ${m.Config} hashes to ${configS.digest}`);
    const configBody = archive.json(configS, `${what} config`);
    const layers = (m.Layers as string[]).map((l) => archive.get(l, what));
    const manifestObj = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configS.digest, size: configS.size },
      layers: layers.map((s) => ({ mediaType: LAYER_TYPES[compressionOf(s)], digest: s.digest, size: s.size })),
    };
    const manifestBody = new TextEncoder().encode(JSON.stringify(manifestObj));
    const manifest = parseManifest(manifestBody, null, what) as ImageManifest;
    const tags = Array.isArray(m.RepoTags) ? m.RepoTags.map((t) => (typeof t === "string" ? qualify(t, what) : refuse(`${what} has a non-string tag`))) : [];
    return { manifest, manifestBody, configBody, layers, tags };
  });
}

function ociImages(archive: Archive, platform: Platform): Found[] {
  const indexBody = archive.json(archive.get("index.json", "index.json"), "index.json");
  const index = parseManifest(indexBody, null, "index.json");
  if (index.kind !== "index") refuse("index.json is not an image index");
  const out: Found[] = [];
  for (const [i, top] of index.manifests.entries()) {
    const what = `index.json manifests[${i}]`;
    let desc = top;
    let body = archive.json(archive.blob(desc, what), what);
    let parsed = parseManifest(body, desc.mediaType, what);
    if (parsed.kind === "index") {
      desc = pickPlatform(parsed, platform, what);
      body = archive.json(archive.blob(desc, what), what);
      parsed = parseManifest(body, desc.mediaType, what);
      if (parsed.kind !== "manifest") refuse(`${what} nests indexes deeper than one level`);
    }
    const configBody = archive.json(archive.blob(parsed.config, `${what} config`), `${what} config`);
    const layers = parsed.layers.map((l, j) => archive.blob(l, `${what} layer ${j}`));
    const name = top.annotations?.["io.containerd.image.name"] ?? top.annotations?.["org.opencontainers.image.ref.name"];
    // A bare tag ("latest") names no repository: the image loads by id, as podman does then.
    const tags = name && (name.includes("/") || name.includes(":")) ? [qualify(name, what)] : [];
    out.push({ manifest: parsed, manifestBody: body, configBody, layers, tags });
  }
  return out;
}

/** A spooled file into the blob store through Ingest (hashed again, verified, fsynced, renamed). */
async function ingest(layout: StoreLayout, s: Spooled): Promise<void> {
  if (hasBlob(layout, s.digest)) return;
  const ing = new Ingest(layout, s.digest, s.size);
  try {
    const fd = fs.openSync(s.file, "r");
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        ing.write(new Uint8Array(buf.buffer, buf.byteOffset, n));
      }
    } finally {
      fs.closeSync(fd);
    }
    await ing.commit(layout);
  } catch (err) {
    await ing.discard();
    const code = errnoCode(err);
    if (code) throw new UnavailableError(`Cannot load archive: storing blob ${s.digest}: ${code}`, { cause: err });
    throw err;
  }
}

async function storeImage(ctx: Ctx, layout: StoreLayout, f: Found): Promise<ImageRecord> {
  const what = `image ${f.manifest.config.digest.slice(7, 19)}`;
  const config = parseImageConfig(f.configBody, `config of ${what}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== f.manifest.layers.length) refuse(`${what} has ${f.manifest.layers.length} layers, its config ${diffIds.length} diff_ids`);
  for (const s of f.layers) await ingest(layout, s);
  const open = async () => refuse(`${what}: a layer blob vanished from the store`);
  const layers = await ensureLayers(ctx, layout, f.manifest.layers, diffIds, open);
  const platform: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) platform.variant = config.variant;
  const manifestDigest = sha256Digest(f.manifestBody);
  const record: ImageRecord = {
    id: f.manifest.config.digest,
    manifestDigest,
    manifestMediaType: f.manifest.mediaType,
    layers,
    platform,
    pulledAt: new Date(ctx.clock()).toISOString(),
    repoDigests: [],
  };
  if (config.created) record.created = config.created;
  putBlob(layout, f.manifest.config.digest, f.configBody);
  putBlob(layout, manifestDigest, f.manifestBody);
  return record;
}

export async function loadArchive(ctx: Ctx, input: ReadableStream<Uint8Array>): Promise<LoadResult> {
  const layout = openStore(ctx.root);
  const dir = scratchDir(layout.tmpDir, "load");
  const gcShared = await acquireLock(ctx, layout.gcLock, { shared: true });
  try {
    const archive = new Archive(await spool(ctx, input, dir));
    let found: Found[];
    if (archive.has("manifest.json")) found = dockerImages(archive);
    else if (archive.has("index.json")) found = ociImages(archive, ctx.platform);
    else refuse("neither manifest.json (docker-archive) nor index.json (OCI layout) in it");
    if (found.length === 0) refuse("it holds no image");
    for (const f of found) checkLayerCount(f.manifest.layers.length, `image ${f.manifest.config.digest.slice(7, 19)}`);
    const records: ImageRecord[] = [];
    for (const f of found) records.push(await storeImage(ctx, layout, f));
    const result: LoadResult = { tags: [], untagged: [] };
    await withLock(ctx, layout.metadataLock, () => {
      const tags = readTags(layout);
      for (const [i, record] of records.entries()) {
        const prior = loadImage(layout, record.id);
        if (prior) {
          record.repoDigests = prior.repoDigests;
          record.pulledAt = prior.pulledAt;
          if (prior.indexDigest) record.indexDigest = prior.indexDigest;
          // The prior record's manifest may be the registry's; keep it (its blobs are the pushed ones).
          record.manifestDigest = prior.manifestDigest;
          record.manifestMediaType = prior.manifestMediaType;
          record.layers = prior.layers;
        }
        saveImage(layout, record);
        for (const t of found[i]!.tags) {
          tags[t] = record.id;
          result.tags.push(familiarString(parseReference(t)));
        }
        if (found[i]!.tags.length === 0) result.untagged.push(record.id);
      }
      writeTags(layout, tags);
    });
    return result;
  } finally {
    gcShared.release();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `-i FILE`: the file must exist and be readable; stdin otherwise, but not a terminal (a person typing is no archive). */
export function archiveInput(file: string | undefined, stdinIsTerminal: () => boolean): ReadableStream<Uint8Array> {
  if (file === undefined) {
    // Docker's words: waiting for a tar from the keyboard would only hang.
    if (stdinIsTerminal()) throw new InvalidArgumentError("requested load from stdin, but stdin is empty");
    return Bun.stdin.stream();
  }
  if (!fs.existsSync(file)) throw new InvalidArgumentError(`Cannot load archive "${file}": no such file`);
  return Bun.file(file).stream();
}
