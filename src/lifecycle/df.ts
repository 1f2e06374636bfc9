// `system df`: what images, containers and volumes hold on disk and what removing the unused ones
// would give back. The sums are pure (summarizeUsage); gatherUsage reads the store.
import type { Ctx } from "../context.ts";
import { listImages, layerKey, type ImageRecord } from "../store/images.ts";
import { storeLayout } from "../store/layout.ts";
import { containerPaths } from "../store/containers.ts";
import { listVolumes, treeSize, volumeUsers, type Volume } from "../store/volumes.ts";
import { listLive, type LiveContainer } from "./live.ts";

export interface ImageUsage {
  record: ImageRecord;
  /** Containers (any state) made from it. */
  containers: number;
  size: number;
  /** Bytes of its layers that another image has too. */
  sharedSize: number;
}

export interface ContainerUsage {
  live: LiveContainer;
  /** The writable layer. */
  sizeRw: number;
}

export interface VolumeUsage {
  volume: Volume;
  /** Containers naming it. */
  links: number;
  size: number;
}

export interface UsageFacts {
  images: ImageUsage[];
  containers: ContainerUsage[];
  volumes: VolumeUsage[];
}

export interface UsageLine {
  type: "Images" | "Containers" | "Local Volumes" | "Build Cache";
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/**
 * Docker's four lines. Images: layers counted once however many images share them; reclaimable is
 * what no image in use holds. Containers: writable layers; reclaimable those not running.
 * Volumes: reclaimable those no container names.
 */
export function summarizeUsage(f: UsageFacts): UsageLine[] {
  const layerSize = new Map<string, number>();
  const usedLayers = new Set<string>();
  for (const i of f.images) {
    for (const l of i.record.layers) {
      layerSize.set(layerKey(l), l.unpackedSize);
      if (i.containers > 0) usedLayers.add(layerKey(l));
    }
  }
  let imagesSize = 0;
  let imagesUsed = 0;
  for (const [k, n] of layerSize) {
    imagesSize += n;
    if (usedLayers.has(k)) imagesUsed += n;
  }
  const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
  const stopped = f.containers.filter((c) => !c.live.state.Running);
  const unusedVolumes = f.volumes.filter((v) => v.links === 0);
  return [
    { type: "Images", total: f.images.length, active: f.images.filter((i) => i.containers > 0).length, size: imagesSize, reclaimable: imagesSize - imagesUsed },
    { type: "Containers", total: f.containers.length, active: f.containers.length - stopped.length, size: sum(f.containers, (c) => c.sizeRw), reclaimable: sum(stopped, (c) => c.sizeRw) },
    { type: "Local Volumes", total: f.volumes.length, active: f.volumes.length - unusedVolumes.length, size: sum(f.volumes, (v) => v.size), reclaimable: sum(unusedVolumes, (v) => v.size) },
    { type: "Build Cache", total: 0, active: 0, size: 0, reclaimable: 0 },
  ];
}

/** Per image: its size and the part of it other images share. */
export function imageUsage(images: ImageRecord[], containersByImage: Map<string, number>): ImageUsage[] {
  const holders = new Map<string, number>();
  for (const r of images) for (const k of new Set(r.layers.map(layerKey))) holders.set(k, (holders.get(k) ?? 0) + 1);
  return images.map((record) => {
    let size = 0;
    let sharedSize = 0;
    for (const l of record.layers) {
      size += l.unpackedSize;
      if ((holders.get(layerKey(l)) ?? 0) > 1) sharedSize += l.unpackedSize;
    }
    return { record, containers: containersByImage.get(record.id) ?? 0, size, sharedSize };
  });
}

export function gatherUsage(ctx: Ctx): UsageFacts {
  const live = listLive(ctx);
  const byImage = new Map<string, number>();
  for (const c of live) byImage.set(c.record.imageId, (byImage.get(c.record.imageId) ?? 0) + 1);
  const images = imageUsage(listImages(storeLayout(ctx.root)), byImage);
  const containers = live.map((c) => ({ live: c, sizeRw: treeSize(containerPaths(ctx.root, c.record.id).upper) }));
  const vols = listVolumes(ctx.root);
  const users = volumeUsers(
    live.map((c) => c.record),
    vols,
  );
  const volumes = vols.map((volume) => ({ volume, links: users.get(volume.Name)?.length ?? 0, size: treeSize(volume.Mountpoint) }));
  return { images, containers, volumes };
}
