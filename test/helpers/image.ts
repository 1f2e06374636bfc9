// Builds OCI and Docker v2s2 images in memory and pushes them over the registry HTTP API, so every
// fixture's recipe is code beside the test that uses it. Deterministic: same spec, same digests.
import { sha256Digest } from "../../src/image/digest.ts";
import { MediaType } from "../../src/image/manifest.ts";
import { buildTar, type TarEntry } from "./tar.ts";

export type LayerCompression = "gzip" | "zstd" | "none";

export interface LayerSpec {
  entries?: TarEntry[];
  /** A ready-made tar, for hostile archives the entry builder cannot express. */
  tar?: Uint8Array;
  /** Default gzip. */
  compression?: LayerCompression;
  /** history[].created_by for this layer. */
  createdBy?: string;
}

export interface BuiltLayer {
  mediaType: string;
  digest: string;
  size: number;
  diffId: string;
  blob: Uint8Array;
}

export interface ImagePlatform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface BuiltImage {
  format: "oci" | "docker";
  manifest: Uint8Array;
  manifestDigest: string;
  manifestMediaType: string;
  config: Uint8Array;
  configDigest: string;
  layers: BuiltLayer[];
  platform: ImagePlatform;
}

export interface BuiltIndex {
  manifest: Uint8Array;
  manifestDigest: string;
  mediaType: string;
  images: BuiltImage[];
}

export interface ImageSpec {
  layers: LayerSpec[];
  format?: "oci" | "docker";
  /** The container config: Env, Cmd, Entrypoint, WorkingDir, ExposedPorts, Labels, User… */
  config?: Record<string, unknown>;
  platform?: ImagePlatform;
  /** The config's history, one entry per instruction; entries without empty_layer map to layers in order. */
  history?: { created_by: string; empty_layer?: boolean; comment?: string }[];
  /** The config's created time (FIXED_CREATED when unset): images that sort by age. */
  created?: string;
}

/** Every fixture carries the same timestamp so digests never depend on the clock. */
export const FIXED_CREATED = "2024-01-02T03:04:05Z";

const encoder = new TextEncoder();

export function compressLayer(tar: Uint8Array, compression: LayerCompression): Uint8Array {
  const input = tar as Uint8Array<ArrayBuffer>; // Bun's compressors do not take SharedArrayBuffer views
  switch (compression) {
    case "gzip":
      // Bun's gzip writes mtime 0 and no file name, so the output depends on the input only.
      return new Uint8Array(Bun.gzipSync(input));
    case "zstd":
      return new Uint8Array(Bun.zstdCompressSync(input));
    case "none":
      return tar;
  }
}

function layerMediaType(format: "oci" | "docker", compression: LayerCompression): string {
  if (format === "docker") {
    if (compression !== "gzip") throw new Error(`Cannot build Docker v2s2 layer "${compression}": Docker layers are gzip only`);
    return MediaType.DockerLayerGzip;
  }
  return { gzip: MediaType.OciLayerGzip, zstd: MediaType.OciLayerZstd, none: MediaType.OciLayer }[compression];
}

export async function buildLayer(spec: LayerSpec, format: "oci" | "docker" = "oci"): Promise<BuiltLayer> {
  const compression = spec.compression ?? "gzip";
  const tar = spec.tar ?? (await buildTar(spec.entries ?? []));
  const blob = compressLayer(tar, compression);
  return {
    mediaType: layerMediaType(format, compression),
    digest: sha256Digest(blob),
    size: blob.length,
    diffId: sha256Digest(tar),
    blob,
  };
}

function json(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export async function buildImage(spec: ImageSpec): Promise<BuiltImage> {
  const format = spec.format ?? "oci";
  const platform = spec.platform ?? { os: "linux", architecture: "amd64" };
  const layers: BuiltLayer[] = [];
  for (const l of spec.layers) layers.push(await buildLayer(l, format));

  if (spec.history && spec.history.filter((h) => !h.empty_layer).length !== layers.length) {
    throw new Error(`Cannot build image: history has ${spec.history.filter((h) => !h.empty_layer).length} layer entries for ${layers.length} layers`);
  }
  const history = spec.history
    ? spec.history.map((h) => ({ created: spec.created ?? FIXED_CREATED, ...h }))
    : spec.layers.map((l, i) => ({ created: spec.created ?? FIXED_CREATED, created_by: l.createdBy ?? `tinydock test layer ${i}` }));
  const configObject: Record<string, unknown> = {
    created: spec.created ?? FIXED_CREATED,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: spec.config ?? {},
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history,
  };
  const config = json(configObject);
  const configDigest = sha256Digest(config);
  const manifestMediaType = format === "docker" ? MediaType.DockerManifest : MediaType.OciManifest;
  const manifest = json({
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: {
      mediaType: format === "docker" ? MediaType.DockerConfig : MediaType.OciConfig,
      digest: configDigest,
      size: config.length,
    },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  });
  return {
    format,
    manifest,
    manifestDigest: sha256Digest(manifest),
    manifestMediaType,
    config,
    configDigest,
    layers,
    platform,
  };
}

export function buildIndex(images: BuiltImage[], format: "oci" | "docker" = "oci"): BuiltIndex {
  const mediaType = format === "docker" ? MediaType.DockerManifestList : MediaType.OciIndex;
  const manifest = json({
    schemaVersion: 2,
    mediaType,
    manifests: images.map((img) => ({
      mediaType: img.manifestMediaType,
      digest: img.manifestDigest,
      size: img.manifest.length,
      platform: img.platform,
    })),
  });
  return { manifest, manifestDigest: sha256Digest(manifest), mediaType, images };
}

export interface PushAuth {
  user: string;
  password: string;
}

function isIndex(image: BuiltImage | BuiltIndex): image is BuiltIndex {
  return "images" in image;
}

/** Pushes blobs (skipping those already there), child manifests by digest, then the tag. */
export async function pushImage(
  registry: { url: string },
  repo: string,
  tag: string,
  image: BuiltImage | BuiltIndex,
  auth?: PushAuth,
): Promise<void> {
  const client = new PushClient(registry.url, repo, auth);
  if (isIndex(image)) {
    for (const child of image.images) await client.pushManifestAndBlobs(child, child.manifestDigest);
    await client.putManifest(tag, image.manifest, image.mediaType);
  } else {
    await client.pushManifestAndBlobs(image, tag);
  }
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

class PushClient {
  private readonly headers: Record<string, string>;

  constructor(
    private readonly base: string,
    private readonly repo: string,
    auth?: PushAuth,
  ) {
    this.headers = auth ? { Authorization: `Basic ${btoa(`${auth.user}:${auth.password}`)}` } : {};
  }

  async pushManifestAndBlobs(image: BuiltImage, ref: string): Promise<void> {
    for (const layer of image.layers) await this.putBlob(layer.blob, layer.digest);
    await this.putBlob(image.config, image.configDigest);
    await this.putManifest(ref, image.manifest, image.manifestMediaType);
  }

  async putBlob(blob: Uint8Array, digest: string): Promise<void> {
    const head = await this.request("HEAD", `/v2/${this.repo}/blobs/${digest}`);
    if (head.status === 200) return;
    const start = await this.request("POST", `/v2/${this.repo}/blobs/uploads/`);
    const location = start.headers.get("location");
    if (start.status !== 202 || !location) {
      throw new Error(`Cannot start upload of ${digest} to ${this.repo}: HTTP ${start.status} ${start.text}`);
    }
    const url = new URL(location, this.base);
    url.searchParams.set("digest", digest);
    const put = await this.request("PUT", url.toString(), blob, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(blob.length),
    });
    if (put.status !== 201) throw new Error(`Cannot upload ${digest} to ${this.repo}: HTTP ${put.status} ${put.text}`);
  }

  async putManifest(ref: string, body: Uint8Array, mediaType: string): Promise<void> {
    const res = await this.request("PUT", `/v2/${this.repo}/manifests/${ref}`, body, { "Content-Type": mediaType });
    if (res.status !== 201) {
      throw new Error(`Cannot put manifest ${this.repo}:${ref}: HTTP ${res.status} ${res.text}`);
    }
  }

  /** The body is always read, so the connection goes back to the pool. */
  private async request(method: string, pathOrUrl: string, body?: Uint8Array, extra: Record<string, string> = {}): Promise<Answer> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${this.base}${pathOrUrl}`;
    const res = await fetch(url, { method, body: body as Uint8Array<ArrayBuffer> | undefined, headers: { ...this.headers, ...extra } });
    const text = await res.text();
    if (res.status === 401) throw new Error(`Cannot ${method} ${url}: HTTP 401 unauthorized`);
    return { status: res.status, headers: res.headers, text };
  }
}
