// Image operations above the store: read-only mounts, removal (untag, delete, collect) and prune.
// Removal refuses while an image is mounted; callers in later stages add their own "in use" test.
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { FailedPreconditionError, NotFoundError } from "../errors.ts";
import { collectGarbage, type GcResult } from "../store/gc.ts";
import { layerKey, listImages, readTags, resolveImage, retireImage, tagsOf, writeTags, type ImageRecord } from "../store/images.ts";
import { openStore } from "../store/init.ts";
import type { StoreLayout } from "../store/layout.ts";
import { withLock } from "../store/lock.ts";
import { layerMeta } from "./layers.ts";
import { applyMount, isMountPoint, overlayMount, unmount, type Mount } from "./mount.ts";

/** Short link names of the image's layers, topmost first. */
export function lowerLinks(layout: StoreLayout, record: ImageRecord): string[] {
  return record.layers
    .map((l) => {
      const meta = layerMeta(layout, layerKey(l));
      if (!meta) throw new NotFoundError(`Cannot use image ${record.id.slice(7, 19)}: layer ${l.diffId} is missing; pull the image again`);
      return meta.link;
    })
    .reverse();
}

/** The overlay of the image's layers at `target`: writable with an upper and work dir, else read-only. */
export function imageOverlay(layout: StoreLayout, record: ImageRecord, dirs: { target: string; upper?: string; work?: string }): Mount {
  return overlayMount({ lowers: lowerLinks(layout, record), ...dirs, root: layout.root, emptyLower: path.relative(layout.root, layout.emptyDir) });
}

export function mountImage(ctx: Ctx, text: string): string {
  const layout = openStore(ctx.root);
  const { record } = resolveImage(layout, text);
  const target = layout.imageMount(record.id);
  if (isMountPoint(target)) return target;
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
  const links = lowerLinks(layout, record);
  applyMount(ctx.sys, overlayMount({ lowers: links, target, root: layout.root, emptyLower: path.relative(layout.root, layout.emptyDir) }));
  return target;
}

export function unmountImage(ctx: Ctx, text: string): string {
  const layout = openStore(ctx.root);
  const { record } = resolveImage(layout, text);
  const target = layout.imageMount(record.id);
  if (!isMountPoint(target)) throw new FailedPreconditionError(`Cannot unmount image "${text}": it is not mounted`);
  unmount(ctx.sys, target);
  fs.rmdirSync(target);
  return target;
}

/** A container that uses an image: its id, and whether it runs (Docker's hard conflict). */
export interface ImageUser {
  id: string;
  running: boolean;
}

export interface RemoveOptions {
  force?: boolean;
  /** Later stages say whether a container uses the image. */
  inUse?: (record: ImageRecord) => ImageUser | undefined;
}

export interface RemoveEvent {
  untagged: string[];
  deleted: string[];
}

/** `rmi`: Docker's rules — untag a named tag; delete the image when no tag is left. */
export async function removeImage(ctx: Ctx, text: string, opts: RemoveOptions = {}): Promise<RemoveEvent> {
  const layout = openStore(ctx.root);
  const event: RemoveEvent = { untagged: [], deleted: [] };
  await withLock(ctx, layout.metadataLock, () => {
    const { record, tag } = resolveImage(layout, text);
    const tags = readTags(layout);
    const own = tagsOf(tags, record.id);
    if (tag && own.length > 1) {
      delete tags[tag];
      writeTags(layout, tags);
      event.untagged.push(tag);
      return;
    }
    // Docker's conflicts (moby image_delete.go), word for word: scripts match on them.
    const short = record.id.slice(7, 19);
    if (!tag && own.length > 1 && !opts.force) {
      throw new FailedPreconditionError(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
    }
    const user = opts.inUse?.(record);
    if (user && tag && !opts.force) {
      throw new FailedPreconditionError(`conflict: unable to remove repository reference ${JSON.stringify(text)} (must force) - container ${user.id.slice(0, 12)} is using its referenced image ${short}`);
    }
    if (user && !tag && (user.running || !opts.force)) {
      const how = user.running ? "cannot be forced" : "must be forced";
      throw new FailedPreconditionError(`conflict: unable to delete ${short} (${how}) - image is being used by ${user.running ? "running" : "stopped"} container ${user.id.slice(0, 12)}`);
    }
    if (user?.running) {
      // `rmi -f NAME` of a running container's image: Docker takes the tag and keeps the image.
      for (const t of own) delete tags[t];
      writeTags(layout, tags);
      event.untagged.push(...own);
      return;
    }
    const mount = layout.imageMount(record.id);
    if (isMountPoint(mount)) {
      if (!opts.force) throw new FailedPreconditionError(`Cannot remove image ${text}: it is mounted at ${mount}; run "tinydock image unmount ${text}"`);
      unmount(ctx.sys, mount);
      fs.rmdirSync(mount);
    }
    for (const t of own) delete tags[t];
    writeTags(layout, tags);
    // Forced past stopped containers: the image is deleted, its layers stay theirs (see retireImage).
    if (user) retireImage(layout, record.id);
    else fs.rmSync(layout.image(record.id), { force: true });
    event.untagged.push(...own);
    event.deleted.push(record.id);
  });
  if (event.deleted.length) collectGarbage(ctx, layout);
  return event;
}

/** `image prune`: dangling images (no tag) — all unused ones with `all`. */
export async function pruneImages(ctx: Ctx, opts: { all?: boolean; inUse?: (record: ImageRecord) => unknown } = {}): Promise<{ deleted: string[]; gc: GcResult }> {
  const layout = openStore(ctx.root);
  const deleted: string[] = [];
  await withLock(ctx, layout.metadataLock, () => {
    const tags = readTags(layout);
    for (const rec of listImages(layout)) {
      const own = tagsOf(tags, rec.id);
      if (own.length && !opts.all) continue;
      if (isMountPoint(layout.imageMount(rec.id)) || opts.inUse?.(rec)) continue;
      for (const t of own) delete tags[t];
      fs.rmSync(layout.image(rec.id), { force: true });
      deleted.push(rec.id);
    }
    writeTags(layout, tags);
  });
  const gc = collectGarbage(ctx, layout, { partials: true });
  return { deleted, gc };
}
