// `images --filter` as Docker's daemon judges it (daemon/images/images.go): before/since/until by
// creation time, label on the image config's labels, reference as Go path globs on each tag
// (familiar "name:tag", or "name" alone), dangling for images without tags. And the image
// ancestry `ps --filter ancestor=` follows. Pure: images.ts and ps.ts read the store.
import { InvalidArgumentError } from "../../errors.ts";
import { boolFilter, filterTimestamp, matchLabels, parseFilterArgs, pathGlob, validateFilterKeys, type FilterArgs } from "../filters.ts";

export const IMAGE_FILTER_KEYS = ["before", "dangling", "label", "reference", "since", "until"] as const;

export interface ImageFilters {
  args: FilterArgs;
  dangling?: boolean;
  references?: RegExp[];
  /** until=, in ms. */
  until?: number;
}

export function parseImageFilters(specs: readonly string[], now: number): ImageFilters {
  const args = parseFilterArgs(specs);
  validateFilterKeys(args, IMAGE_FILTER_KEYS);
  const out: ImageFilters = { args };
  const dangling = boolFilter(args, "dangling");
  if (dangling !== undefined) out.dangling = dangling;
  const refs = args.get("reference");
  if (refs) out.references = refs.map(pathGlob);
  const until = args.get("until");
  if (until) {
    if (until.length > 1) throw new InvalidArgumentError(`invalid filter 'until=[${until.join(" ")}]'`);
    out.until = filterTimestamp(until[0]!, now);
  }
  return out;
}

/** What a filter looks at of one image. */
export interface ImageFacts {
  /** Creation time in ms (NaN when the config has none). */
  created: number;
  /** Read only when a label= filter is given (it costs the config blob). */
  labels: () => Readonly<Record<string, string>> | undefined;
}

/** before=/since= images' creation times, in ms. */
export interface ImagePivots {
  before?: number;
  since?: number;
}

/** The image-level checks (everything but reference= and dangling=, which go by tag). */
export function imageMatches(img: ImageFacts, f: ImageFilters, p: ImagePivots): boolean {
  if (p.before !== undefined && !(img.created < p.before)) return false;
  if (p.since !== undefined && !(img.created > p.since)) return false;
  const label = f.args.get("label");
  if (label && !matchLabels(label, img.labels() ?? {})) return false;
  if (f.until !== undefined && !(img.created < f.until)) return false;
  return true;
}

/** reference.FamiliarMatch: the glob against "name:tag", else against "name". */
export function referenceMatches(f: ImageFilters, familiarName: string, tag: string): boolean {
  if (!f.references) return true;
  return f.references.some((re) => re.test(`${familiarName}:${tag}`) || re.test(familiarName));
}

/**
 * Which of an image's tags `images` shows, and whether it shows the image at all: tags that pass
 * reference=; an image left without any is shown as <none> unless reference= or dangling=false was
 * asked; dangling=true shows only those.
 */
export function visibleTags<T extends { name: string; tag: string }>(f: ImageFilters, tags: readonly T[]): T[] | "dangling" | null {
  const kept = tags.filter((t) => referenceMatches(f, t.name, t.tag));
  if (kept.length === 0) {
    if (tags.length > 0 && f.references) return null;
    if (f.references || f.dangling === false) return null;
    return "dangling";
  }
  return f.dangling === true ? null : kept;
}

/**
 * The images `ancestor=` reaches from `roots`: each root and every image built on it (whose layers
 * start with all of the root's and add more), as Docker walks an image's children.
 */
export function withDescendants(images: readonly { id: string; diffIds: readonly string[] }[], roots: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const rootId of roots) {
    const root = images.find((i) => i.id === rootId);
    if (!root) continue;
    out.add(root.id);
    for (const img of images) {
      if (img.diffIds.length > root.diffIds.length && root.diffIds.every((d, k) => img.diffIds[k] === d)) out.add(img.id);
    }
  }
  return out;
}
