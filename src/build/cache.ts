// The build cache: one entry per filesystem step, under its chain key (cachekey.ts), naming the
// layer the step made. An entry is written only once its layer's blob is, so a hit always has one.
import path from "node:path";
import { readJson, writeFileAtomic } from "../atomic.ts";
import type { LayerRecord } from "../store/images.ts";
import type { StoreLayout } from "../store/layout.ts";
import { layersPresent } from "./imagestore.ts";

export interface CacheEntry {
  layer: LayerRecord | null;
  created: string;
}

export class BuildCache {
  /** Background gzips of adopted layers; the cache entries and the image wait for them. */
  readonly blobs: Promise<void>[] = [];
  private pendingBlob = new Map<LayerRecord, Promise<void>>();

  constructor(
    private readonly dir: string,
    private readonly layout: StoreLayout,
    private readonly noCache: boolean,
  ) {}

  read(key: string): CacheEntry | undefined {
    if (this.noCache) return undefined;
    const e = readJson<CacheEntry>(path.join(this.dir, `${key.slice(7)}.json`));
    if (!e) return undefined;
    if (e.layer && !layersPresent(this.layout, [e.layer])) return undefined;
    return e;
  }

  write(key: string, e: CacheEntry): void {
    const write = () => writeFileAtomic(path.join(this.dir, `${key.slice(7)}.json`), JSON.stringify(e), 0o600);
    const p = e.layer ? this.pendingBlob.get(e.layer) : undefined;
    if (p) this.blobs.push(p.then(write));
    else write();
  }

  /** A layer whose compressed blob is still being written. */
  pending(layer: LayerRecord, blob: Promise<void>): void {
    this.blobs.push(blob);
    this.pendingBlob.set(layer, blob);
  }
}
