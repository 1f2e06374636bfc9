// Where everything lives under the storage root. Path math only: nothing here touches the disk,
// and every digest is validated before it becomes part of a path.
import path from "node:path";
import { digestHex } from "../image/digest.ts";

export interface StoreLayout {
  root: string;
  /** Content-addressed blobs: manifests, configs, compressed layers. */
  blobsDir: string;
  blob(digest: string): string;
  /** Partial downloads, kept across processes so a killed pull resumes. */
  ingestDir: string;
  ingest(digest: string): string;
  /** Unpacked layers, one per diff_id: layers/<hex>/{diff,link}. */
  layersDir: string;
  layer(diffId: string): string;
  layerDiff(diffId: string): string;
  /** A layer being unpacked; renamed to layer(diffId) only when complete and verified. */
  layerTmp(diffId: string, unique: string): string;
  /** Short symlinks l/<id> → ../layers/<hex>/diff keep overlay's lowerdir under one page. */
  linksDir: string;
  link(shortId: string): string;
  /** Image records by image id (config digest). */
  imagesDir: string;
  image(imageId: string): string;
  /** Tag → image id. */
  repositoriesFile: string;
  locksDir: string;
  layerLock(diffId: string): string;
  /** Guards repositories.json, image records and garbage collection. */
  metadataLock: string;
  /** Read-only image mounts: mounts/<image hex>. */
  mountsDir: string;
  imageMount(imageId: string): string;
  tmpDir: string;
  /** An empty directory: the bottom lower of a one-layer read-only overlay (overlay wants two). */
  emptyDir: string;
  /** Pulls hold it shared while they run; garbage collection needs it exclusive. */
  gcLock: string;
}

export function storeLayout(root: string): StoreLayout {
  const blobsDir = path.join(root, "blobs", "sha256");
  const ingestDir = path.join(root, "ingest");
  const layersDir = path.join(root, "layers");
  const linksDir = path.join(root, "l");
  const imagesDir = path.join(root, "images");
  const locksDir = path.join(root, "locks");
  const mountsDir = path.join(root, "mounts");
  return {
    root,
    blobsDir,
    blob: (d) => path.join(blobsDir, digestHex(d)),
    ingestDir,
    ingest: (d) => path.join(ingestDir, `${digestHex(d)}.partial`),
    layersDir,
    layer: (d) => path.join(layersDir, digestHex(d)),
    layerDiff: (d) => path.join(layersDir, digestHex(d), "diff"),
    layerTmp: (d, unique) => path.join(layersDir, `.tmp-${digestHex(d)}-${unique}`),
    linksDir,
    link: (id) => path.join(linksDir, id),
    imagesDir,
    image: (id) => path.join(imagesDir, `${digestHex(id)}.json`),
    repositoriesFile: path.join(root, "repositories.json"),
    locksDir,
    layerLock: (d) => path.join(locksDir, `layer-${digestHex(d)}.lock`),
    metadataLock: path.join(locksDir, "metadata.lock"),
    mountsDir,
    imageMount: (id) => path.join(mountsDir, digestHex(id)),
    tmpDir: path.join(root, "tmp"),
    emptyDir: path.join(root, "empty"),
    gcLock: path.join(locksDir, "gc.lock"),
  };
}
