import type { CommandSpec } from "../command.ts";

const listBuilder: CommandSpec["builder"] = (y) =>
  y
    .positional("repository", { type: "string", describe: "Only images of this repository[:tag] (a glob, as reference=)" })
    .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Only show image IDs" })
    .option("all", { alias: "a", type: "boolean", default: false, describe: "Show all images (accepted for Docker compatibility)" })
    .option("digests", { type: "boolean", default: false, describe: "Show digests" })
    .option("no-trunc", { type: "boolean", default: false, describe: "Don't truncate output" })
    .option("filter", {
      alias: "f",
      type: "string",
      array: true,
      describe: "Filter output based on conditions provided (dangling=, reference=, before=, since=, until=, label=)",
    })
    .option("noheading", { alias: "n", type: "boolean", default: false, describe: "Do not print the header row (podman)" })
    .option("format", { type: "string", describe: 'Format output: "table", "json", "table TEMPLATE" or a Go template' });

/** Docker's image table headers (cli/command/formatter/image.go). */
export const IMAGE_HEADERS: Record<string, string> = {
  ID: "IMAGE ID",
  Repository: "REPOSITORY",
  Tag: "TAG",
  Digest: "DIGEST",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  Size: "SIZE",
  Containers: "CONTAINERS",
  VirtualSize: "SIZE",
  SharedSize: "SHARED SIZE",
  UniqueSize: "UNIQUE SIZE",
};

const listRun: CommandSpec["run"] = async (ctx, argv, io) => {
  const { imageRows } = await import("../views/images.ts");
  const { parseImageFilters } = await import("../views/image-filters.ts");
  const specs = ((argv.filter as string[] | undefined) ?? []).map(String);
  // Docker's CLI turns the positional into a reference= filter.
  if (typeof argv.repository === "string" && argv.repository !== "") specs.push(`reference=${argv.repository}`);
  const filters = parseImageFilters(specs, ctx.clock());
  const pivots: { before?: number; since?: number } = {};
  for (const key of ["before", "since"] as const) {
    const ref = filters.args.get(key)?.at(-1);
    if (ref === undefined) continue;
    const { resolveImage } = await import("../../store/images.ts");
    const { storeLayout } = await import("../../store/layout.ts");
    const created = resolveImage(storeLayout(ctx.root), ref).record.created;
    pivots[key] = created ? Date.parse(created) : NaN;
  }
  const rows = imageRows(ctx, { filters, pivots });
  const noTrunc = Boolean(argv["no-trunc"]);
  const id = (full: string) => (noTrunc ? full : full.slice(7, 19));
  if (argv.quiet) {
    io.out([...new Set(rows.map((r) => id(r.ID)))].map((x) => `${x}\n`).join(""));
    return;
  }
  const shown = rows.map((r) => ({ ...r, ID: id(r.ID) }));
  const format = typeof argv.format === "string" ? argv.format : undefined;
  const { renderListing } = await import("../listing.ts");
  io.out(
    renderListing(
      {
        format: format === "{{json .}}" ? "json" : format,
        defaultTable: argv.digests
          ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
          : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
        headers: IMAGE_HEADERS,
        noHeading: Boolean(argv.noheading),
      },
      shown,
    ),
  );
};

export const images: CommandSpec = {
  command: "images [repository]",
  describe: "List images",
  builder: listBuilder,
  run: listRun,
};

export const imageLs: CommandSpec = {
  command: ["ls [repository]", "list"],
  describe: "List images",
  builder: listBuilder,
  run: listRun,
};
