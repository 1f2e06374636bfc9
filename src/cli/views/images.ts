// What `images` and `image inspect` show, in Docker's field names.
import type { Ctx } from "../../context.ts";
import { readBlob } from "../../store/content.ts";
import { listImages, readTags, type ImageRecord } from "../../store/images.ts";
import { storeLayout } from "../../store/layout.ts";
import { familiarName, parseReference } from "../../image/reference.ts";
import { humanSize, since } from "../format.ts";
import type { ImageConfig } from "../../image/manifest.ts";

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

export function imageRows(ctx: Ctx, filter?: string): ImageRow[] {
  const layout = storeLayout(ctx.root);
  const tags = readTags(layout);
  const want = filter ? parseReference(filter, { defaultTag: false }) : undefined;
  const now = ctx.clock();
  const rows: (ImageRow & { sortKey: number })[] = [];
  for (const r of listImages(layout)) {
    const size = humanSize(imageSize(r));
    const created = r.created ?? "";
    const base = {
      Containers: "N/A",
      CreatedAt: created,
      CreatedSince: since(r.created, now),
      ID: r.id,
      SharedSize: "N/A",
      Size: size,
      UniqueSize: "N/A",
      VirtualSize: size,
      sortKey: Date.parse(created) || 0,
    };
    const own = Object.entries(tags).filter(([, id]) => id === r.id);
    const digestFor = (repo: string) => r.repoDigests.find((d) => d.startsWith(`${repo}@`))?.split("@")[1] ?? "<none>";
    if (own.length === 0) {
      const repo = r.repoDigests[0]?.split("@")[0];
      if (want) continue;
      const short = repo ? familiarName({ registry: repo.split("/")[0]!, repository: repo.split("/").slice(1).join("/") }) : "<none>";
      rows.push({ ...base, Repository: short, Tag: "<none>", Digest: repo ? digestFor(repo) : "<none>" });
      continue;
    }
    for (const [key] of own) {
      const { repo, tag } = splitTag(key);
      const registry = repo.split("/")[0]!;
      const repository = repo.split("/").slice(1).join("/");
      if (want && (want.registry !== registry || want.repository !== repository || (want.tag && want.tag !== tag))) continue;
      rows.push({ ...base, Repository: familiarName({ registry, repository }), Tag: tag, Digest: digestFor(repo) });
    }
  }
  rows.sort((a, b) => b.sortKey - a.sortKey || a.Repository.localeCompare(b.Repository) || a.Tag.localeCompare(b.Tag));
  return rows.map(({ sortKey: _, ...row }) => row);
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
