// `image history`: the config's history entries, newest first, each non-empty one matched to the
// next layer of rootfs in order, as Docker's daemon does (image/history). Pure.
import type { ImageConfig } from "../image/manifest.ts";
import type { LayerRecord } from "./images.ts";

export interface HistoryEntry {
  /** The image id on the newest entry, "<missing>" on the others (no local image is their top). */
  id: string;
  /** Unix seconds; 0 when the entry has no time. */
  created: number;
  createdBy: string;
  /** The matched layer's unpacked size; 0 for an empty_layer entry. */
  size: number;
  comment: string;
  tags: string[];
}

export function imageHistory(imageId: string, config: Pick<ImageConfig, "history">, layers: Pick<LayerRecord, "unpackedSize">[], tags: string[] = []): HistoryEntry[] {
  const entries = config.history?.length ? config.history : layers.map(() => ({}) as NonNullable<ImageConfig["history"]>[number]);
  const out: HistoryEntry[] = [];
  let layer = 0;
  for (const h of entries) {
    let size = 0;
    if (!h.empty_layer) {
      // More non-empty entries than layers is a malformed config: the extra ones weigh nothing.
      size = layers[layer]?.unpackedSize ?? 0;
      layer++;
    }
    const t = h.created ? Date.parse(h.created) : NaN;
    out.push({ id: "<missing>", created: Number.isNaN(t) ? 0 : Math.floor(t / 1000), createdBy: h.created_by ?? "", size, comment: h.comment ?? "", tags: [] });
  }
  out.reverse();
  if (out[0]) {
    out[0].id = imageId;
    out[0].tags = tags;
  }
  return out;
}
