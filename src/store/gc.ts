// Garbage collection: blobs and layers that no image record references are removed. It runs only
// when no pull is under way (pulls hold gc.lock shared), so a layer unpacked by a pull that has not
// yet written its image record is never taken. An image `rmi -f` deleted while stopped containers
// used it (a retired record) keeps its layers and blobs until the last of them is removed.
import fs from "node:fs";
import path from "node:path";
import { listListed } from "./containers.ts";
import { layerKey, listImages, listRetiredImages } from "./images.ts";
import type { StoreLayout } from "./layout.ts";
import { tryLock, type LockDeps } from "./lock.ts";

export interface GcResult {
  layers: number;
  blobs: number;
  bytes: number;
  /** false when a pull was running and collection was left for later. */
  ran: boolean;
}

function du(p: string): number {
  let total = 0;
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  for (const name of fs.readdirSync(p)) total += du(path.join(p, name));
  return total;
}

export function collectGarbage(deps: LockDeps, layout: StoreLayout, opts: { partials?: boolean } = {}): GcResult {
  const result: GcResult = { layers: 0, blobs: 0, bytes: 0, ran: false };
  const gc = tryLock(deps, layout.gcLock);
  if (!gc) return result;
  try {
    result.ran = true;
    const records = listImages(layout);
    const retired = listRetiredImages(layout);
    if (retired.length) {
      const live = new Set(records.map((r) => r.id));
      const used = new Set(listListed(layout.root).map((c) => c.imageId));
      for (const { record, file } of retired) {
        if (!live.has(record.id) && used.has(record.id)) records.push(record);
        else fs.rmSync(file, { force: true });
      }
    }
    const layers = new Set<string>();
    const blobs = new Set<string>();
    for (const r of records) {
      blobs.add(r.id.slice(7));
      blobs.add(r.manifestDigest.slice(7));
      if (r.indexDigest) blobs.add(r.indexDigest.slice(7));
      for (const l of r.layers) {
        layers.add(layerKey(l).slice(7));
        blobs.add(l.digest.slice(7));
      }
    }
    const liveLinks = new Set<string>();
    for (const name of fs.readdirSync(layout.layersDir)) {
      const dir = path.join(layout.layersDir, name);
      if (/^[a-f0-9]{64}$/.test(name) && layers.has(name)) {
        try {
          liveLinks.add(JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8")).link);
        } catch {}
        continue;
      }
      // Leftover temp dirs of killed pulls are garbage too (no pull runs: we hold gc.lock).
      result.bytes += du(dir);
      fs.rmSync(dir, { recursive: true, force: true });
      result.layers += name.startsWith(".tmp-") ? 0 : 1;
    }
    for (const name of fs.readdirSync(layout.linksDir)) {
      if (!liveLinks.has(name)) fs.rmSync(path.join(layout.linksDir, name), { force: true });
    }
    for (const name of fs.readdirSync(layout.blobsDir)) {
      if (blobs.has(name)) continue;
      result.bytes += du(path.join(layout.blobsDir, name));
      fs.rmSync(path.join(layout.blobsDir, name), { force: true });
      result.blobs++;
    }
    for (const name of fs.readdirSync(layout.locksDir)) {
      const m = /^layer-([a-f0-9]{64})\.lock$/.exec(name);
      if (m && !layers.has(m[1]!)) fs.rmSync(path.join(layout.locksDir, name), { force: true });
    }
    if (opts.partials) {
      for (const name of fs.readdirSync(layout.ingestDir)) {
        result.bytes += du(path.join(layout.ingestDir, name));
        fs.rmSync(path.join(layout.ingestDir, name), { force: true });
      }
    }
    return result;
  } finally {
    gc.release();
  }
}
