// OCI and Docker v2 schema 2 manifests, indexes and configs: media types, validation, platform
// pick. Everything that comes from a registry passes through here before it is trusted. Pure.
import { DataLossError, FailedPreconditionError, NotFoundError } from "../errors.ts";
import { checkConfigShape } from "./config-shape.ts";
import { isDigest } from "./digest.ts";
import { formatPlatform, platformMatches, type Platform } from "./platform.ts";

export const MediaType = {
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  OciIndex: "application/vnd.oci.image.index.v1+json",
  OciConfig: "application/vnd.oci.image.config.v1+json",
  OciLayer: "application/vnd.oci.image.layer.v1.tar",
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  OciLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  OciLayerNondistGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  DockerManifestV1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

/** The Accept header for manifest requests: indexes first so the platform pick is ours. */
export const MANIFEST_ACCEPT = [
  MediaType.OciIndex,
  MediaType.DockerManifestList,
  MediaType.OciManifest,
  MediaType.DockerManifest,
].join(", ");

/** Hard cap on manifests, indexes and configs: a hostile registry cannot make us buffer more. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * Layers an image may have, as Docker's layer store allows (moby layer.maxLayerDepth): beyond it
 * overlay's options no longer fit one page, and a manifest of thousands of tiny layers would have
 * each fetched and unpacked before the first run failed.
 */
export const MAX_IMAGE_LAYERS = 125;

/** Refuses an image deeper than MAX_IMAGE_LAYERS before anything of it is fetched or stored. */
export function checkLayerCount(n: number, what: string): void {
  if (n > MAX_IMAGE_LAYERS) {
    throw new FailedPreconditionError(`Cannot use ${what}: it has ${n} layers, more than the ${MAX_IMAGE_LAYERS} an image may have (max depth exceeded)`);
  }
}

export type Compression = "gzip" | "zstd" | "none";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ImageManifest {
  kind: "manifest";
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  kind: "index";
  mediaType: string;
  manifests: Descriptor[];
}

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ContainerConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
}

export interface ContainerConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
}

function corrupt(what: string, reason: string): never {
  throw new DataLossError(`Cannot use ${what}: ${reason}`);
}

/** Go's encoding/json refuses deeper nesting: Docker never holds such a document, and ours would overflow the stack of every later JSON.stringify (inspect). */
export const MAX_JSON_DEPTH = 10_000;

/** Whether the JSON text nests arrays and objects deeper than `max`, strings skipped. */
export function jsonTooDeep(body: Uint8Array, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** A capped JSON object from a registry: anything else is corrupt content. */
function jsonObject(body: Uint8Array, what: string): Record<string, unknown> {
  if (body.length > MAX_MANIFEST_BYTES) corrupt(what, `larger than ${MAX_MANIFEST_BYTES} bytes`);
  if (jsonTooDeep(body)) corrupt(what, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(body));
  } catch {
    corrupt(what, "not valid JSON");
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) corrupt(what, "not a JSON object");
  return raw as Record<string, unknown>;
}

function descriptor(raw: unknown, what: string): Descriptor {
  if (!raw || typeof raw !== "object") corrupt(what, "descriptor is not an object");
  const d = raw as Record<string, unknown>;
  if (typeof d.mediaType !== "string") corrupt(what, "descriptor has no mediaType");
  if (!isDigest(d.digest)) corrupt(what, `descriptor digest ${JSON.stringify(d.digest)} is not sha256:<64 hex>`);
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) corrupt(what, "descriptor size is not a non-negative integer");
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform && typeof d.platform === "object") {
    const p = d.platform as Record<string, unknown>;
    if (typeof p.os === "string" && typeof p.architecture === "string") {
      out.platform = { os: p.os, architecture: p.architecture };
      if (typeof p.variant === "string") out.platform.variant = p.variant;
    }
  }
  if (d.annotations !== undefined && d.annotations !== null) {
    const a = d.annotations;
    // Read as names and tags (load's ref.name): a value of another type is corrupt, as in Go's map[string]string.
    if (typeof a !== "object" || Array.isArray(a) || !Object.values(a).every((v) => typeof v === "string")) {
      corrupt(what, "descriptor annotations are not an object of strings");
    }
    out.annotations = a as Record<string, string>;
  }
  if (Array.isArray(d.urls)) out.urls = d.urls.filter((u): u is string => typeof u === "string");
  return out;
}

/**
 * Parse a manifest or index body. `contentType` is the registry's header; the body's own
 * mediaType wins when present (OCI allows it to be omitted, Docker always sets it).
 */
export function parseManifest(body: Uint8Array, contentType: string | null, what: string): ImageManifest | ImageIndex {
  const m = jsonObject(body, what);
  const header = contentType?.split(";")[0]?.trim();
  let mediaType = typeof m.mediaType === "string" ? m.mediaType : header || "";
  if (!mediaType || mediaType === "application/json" || mediaType === "text/plain") {
    mediaType = Array.isArray(m.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
  }
  if (mediaType === MediaType.DockerManifestV1Signed || m.schemaVersion === 1) {
    throw new FailedPreconditionError(`Cannot use ${what}: Docker schema 1 manifests are deprecated and not supported`);
  }
  if (m.schemaVersion !== 2) corrupt(what, `schemaVersion ${JSON.stringify(m.schemaVersion)} is not 2`);
  if (mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList) {
    if (!Array.isArray(m.manifests)) corrupt(what, "index has no manifests list");
    return { kind: "index", mediaType, manifests: m.manifests.map((d, i) => descriptor(d, `${what} manifests[${i}]`)) };
  }
  if (mediaType === MediaType.OciManifest || mediaType === MediaType.DockerManifest) {
    if (!Array.isArray(m.layers)) corrupt(what, "manifest has no layers list");
    const config = descriptor(m.config, `${what} config`);
    if (config.mediaType !== MediaType.OciConfig && config.mediaType !== MediaType.DockerConfig) {
      throw new FailedPreconditionError(`Cannot use ${what}: unsupported config media type "${config.mediaType}" (not a container image)`);
    }
    const layers = m.layers.map((d, i) => descriptor(d, `${what} layers[${i}]`));
    for (const l of layers) layerCompression(l.mediaType, what);
    return { kind: "manifest", mediaType, config, layers };
  }
  throw new FailedPreconditionError(`Cannot use ${what}: unsupported manifest media type "${mediaType}"`);
}

/** How a layer blob is compressed, from its media type; unknown types are refused by name. */
export function layerCompression(mediaType: string, what = "layer"): Compression {
  switch (mediaType) {
    case MediaType.OciLayerGzip:
    case MediaType.DockerLayerGzip:
    case MediaType.OciLayerNondistGzip:
    case MediaType.DockerForeignLayerGzip:
      return "gzip";
    case MediaType.OciLayerZstd:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":
      return "zstd";
    case MediaType.OciLayer:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar":
      return "none";
    default:
      throw new FailedPreconditionError(`Cannot use ${what}: unsupported layer media type "${mediaType}"`);
  }
}

export function parseImageConfig(body: Uint8Array, what: string): ImageConfig {
  const c = jsonObject(body, what);
  const rootfs = c.rootfs as Record<string, unknown> | undefined;
  if (!rootfs || rootfs.type !== "layers" || !Array.isArray(rootfs.diff_ids)) corrupt(what, "rootfs.diff_ids missing");
  for (const id of rootfs.diff_ids as unknown[]) {
    if (!isDigest(id)) corrupt(what, `diff_id ${JSON.stringify(id)} is not sha256:<64 hex>`);
  }
  if (typeof c.architecture !== "string" || typeof c.os !== "string") corrupt(what, "architecture or os missing");
  checkConfigShape(c, what);
  return c as unknown as ImageConfig;
}

/** The manifest descriptor of an index that fits the platform; attestations are skipped. */
export function pickPlatform(index: ImageIndex, want: Platform, what: string): Descriptor {
  const candidates = index.manifests.filter(
    (d) => d.platform && d.platform.os !== "unknown" && d.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest",
  );
  const hit = candidates.find((d) => platformMatches(d.platform!, want));
  if (hit) return hit;
  const have = candidates.map((d) => formatPlatform(d.platform!)).join(", ") || "none";
  throw new NotFoundError(`Cannot find ${formatPlatform(want)} in ${what}: it has ${have}`);
}
