// What `images` and `image inspect` show, in Docker's field names.
import type { Ctx } from "../../context.ts";
import { readBlob } from "../../store/content.ts";
import { listImages, readTags, type ImageRecord } from "../../store/images.ts";
import { storeLayout, type StoreLayout } from "../../store/layout.ts";
import { familiarName } from "../../image/reference.ts";
import { goTime, humanSize, since } from "../format.ts";
import type { ImageConfig } from "../../image/manifest.ts";
import { imageMatches, visibleTags, type ImageFilters, type ImagePivots } from "./image-filters.ts";

export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

export function imageSize(r: ImageRecord): number {
  return r.layers.reduce((n, l) => n + l.unpackedSize, 0);
}

function splitTag(key: string): { repo: string; tag: string } {
  const i = key.lastIndexOf(":");
  return { repo: key.slice(0, i), tag: key.slice(i + 1) };
}

export interface ImageListOptions {
  filters?: ImageFilters;
  pivots?: ImagePivots;
}

const splitRepo = (repo: string) => ({ registry: repo.split("/")[0]!, repository: repo.split("/").slice(1).join("/") });

/** `images`' rows, newest first: one per tag (or one <none> row), as the filters leave them. */
export function imageRows(ctx: Ctx, o: ImageListOptions = {}): ImageRow[] {
  const layout = storeLayout(ctx.root);
  const tags = readTags(layout);
  const f = o.filters ?? { args: new Map() };
  const now = ctx.clock();
  const byId = new Map<string, string[]>();
  for (const [key, id] of Object.entries(tags)) {
    const list = byId.get(id);
    if (list) list.push(key);
    else byId.set(id, [key]);
  }
  const rows: (ImageRow & { sortKey: number })[] = [];
  for (const r of listImages(layout)) {
    const created = r.created ?? "";
    const facts = { created: created ? Date.parse(created) : NaN, labels: () => imageLabels(layout, r.id) };
    if (!imageMatches(facts, f, o.pivots ?? {})) continue;
    const own = (byId.get(r.id) ?? []).map((key) => {
      const { repo, tag } = splitTag(key);
      return { repo, tag, name: familiarName(splitRepo(repo)) };
    });
    const shown = visibleTags(f, own);
    if (shown === null) continue;
    const size = humanSize(imageSize(r));
    const base = {
      Containers: "N/A",
      CreatedAt: created ? goTime(created) : "",
      CreatedSince: since(r.created, now),
      ID: r.id,
      SharedSize: "N/A",
      Size: size,
      UniqueSize: "N/A",
      VirtualSize: size,
      sortKey: Date.parse(created) || 0,
    };
    const digestFor = (repo: string) => r.repoDigests.find((d) => d.startsWith(`${repo}@`))?.split("@")[1] ?? "<none>";
    if (shown === "dangling") {
      const repo = r.repoDigests[0]?.split("@")[0];
      rows.push({ ...base, Repository: repo ? familiarName(splitRepo(repo)) : "<none>", Tag: "<none>", Digest: repo ? digestFor(repo) : "<none>" });
      continue;
    }
    for (const t of shown) rows.push({ ...base, Repository: t.name, Tag: t.tag, Digest: digestFor(t.repo) });
  }
  rows.sort((a, b) => b.sortKey - a.sortKey || a.Repository.localeCompare(b.Repository) || a.Tag.localeCompare(b.Tag));
  return rows.map(({ sortKey: _, ...row }) => row);
}

/** The image config's Labels (label= filters). */
export function imageLabels(layout: StoreLayout, id: string): Record<string, string> | undefined {
  try {
    const config = JSON.parse(new TextDecoder().decode(readBlob(layout, id))) as ImageConfig;
    return (config.config as { Labels?: Record<string, string> } | undefined)?.Labels ?? undefined;
  } catch {
    return undefined;
  }
}

/** `docker image inspect`'s object for one image. */
export function inspectImage(ctx: Ctx, r: ImageRecord): Record<string, unknown> {
  const layout = storeLayout(ctx.root);
  const tags = readTags(layout);
  const config = JSON.parse(new TextDecoder().decode(readBlob(layout, r.id))) as ImageConfig & Record<string, unknown>;
  const repoTags = Object.entries(tags)
    .filter(([, id]) => id === r.id)
    .map(([k]) => {
      const { repo, tag } = splitTag(k);
      return `${familiarName({ registry: repo.split("/")[0]!, repository: repo.split("/").slice(1).join("/") })}:${tag}`;
    });
  const repoDigests = r.repoDigests.map((d) => {
    const [repo, digest] = d.split("@") as [string, string];
    return `${familiarName({ registry: repo.split("/")[0]!, repository: repo.split("/").slice(1).join("/") })}@${digest}`;
  });
  const out: Record<string, unknown> = {
    Id: r.id,
    RepoTags: repoTags,
    RepoDigests: repoDigests,
    Parent: "",
    Comment: (config.history?.at(-1)?.comment as string | undefined) ?? "",
    Created: config.created ?? "",
    Author: config.author ?? "",
    Config: config.config ?? {},
    Architecture: config.architecture,
    Os: config.os,
    Size: imageSize(r),
    RootFS: { Type: "layers", Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: r.pulledAt },
    Descriptor: { mediaType: r.manifestMediaType, digest: r.manifestDigest },
  };
  if (config.variant) out.Variant = config.variant;
  return out;
}
