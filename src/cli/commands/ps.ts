import fs from "node:fs";
import type { CommandSpec } from "../command.ts";
import { intFlag } from "../flags.ts";

const builder: CommandSpec["builder"] = (y) =>
  y
    .option("all", { alias: "a", type: "boolean", default: false, describe: "Show all containers (default shows just running)" })
    .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Only display container IDs" })
    .option("last", { alias: "n", type: "string", coerce: intFlag("-n, --last"), describe: "Show n last created containers (includes all states)" })
    .option("latest", { alias: "l", type: "boolean", default: false, describe: "Show the latest created container (includes all states)" })
    .option("no-trunc", { type: "boolean", default: false, describe: "Don't truncate output" })
    .option("size", { alias: "s", type: "boolean", default: false, describe: "Display total file sizes" })
    .option("filter", {
      alias: "f",
      type: "string",
      array: true,
      describe:
        "Filter output based on conditions provided (status=, name=, id=, label=, exited=, ancestor=, before=, since=, volume=, network=, publish=, expose=, health=)",
    })
    .option("noheading", { type: "boolean", default: false, describe: "Do not print the header row (podman)" })
    .option("format", { type: "string", describe: 'Format output: "table", "json", "table TEMPLATE" or a Go template' });

/** pod= by name or id prefix, as ids; a pod that does not exist matches nothing. */
async function podIds(ctx: import("../../context.ts").Ctx, refs: string[]): Promise<string[]> {
  const { listPods } = await import("../../pod/store.ts");
  const pods = listPods(ctx.root);
  return refs.map((r) => pods.find((p) => p.name === r)?.id ?? pods.find((p) => r.length > 0 && p.id.startsWith(r))?.id ?? `no-such-pod:${r}`);
}

const run: CommandSpec["run"] = async (ctx, argv, io) => {
  const { listLiveListed } = await import("../../lifecycle/live.ts");
  const { containerRow } = await import("../views/containers.ts");
  const { parseFilters, selectContainers } = await import("../views/container-filters.ts");
  const filters = parseFilters(((argv.filter as string[] | undefined) ?? []).map(String));
  if (filters.pod) filters.pod = await podIds(ctx, filters.pod);
  const last = argv.latest ? 1 : typeof argv.last === "number" && argv.last > 0 ? argv.last : undefined;
  const cache = new Map();
  const { imageConfigOf, commandOf } = await import("../../lifecycle/inspect.ts");
  const exposedPorts = (rec: import("../../store/containers.ts").ListedRecord) => Object.keys(imageConfigOf(ctx, rec.imageId, cache)?.ExposedPorts ?? {});
  const select: import("../views/container-filters.ts").PsOptions = { all: Boolean(argv.all), ...(last !== undefined ? { last } : {}), filters };
  if (filters.args.has("ancestor")) select.ancestorImages = await ancestorImages(ctx, filters.args.get("ancestor")!);
  if (filters.expose) select.exposedPorts = (c) => exposedPorts(c.record);
  const list = selectContainers(listLiveListed(ctx), select);
  const noTrunc = Boolean(argv["no-trunc"]);
  if (argv.quiet) {
    io.out(list.map((c) => `${noTrunc ? c.record.id : c.record.id.slice(0, 12)}\n`).join(""));
    return;
  }
  const rowOptions: import("../views/containers.ts").RowOptions = {
    noTrunc,
    now: ctx.clock(),
    exposedPorts,
    imageGone: await imageReplaced(ctx.root, list.map((c) => c.record)),
    command: (rec) => {
      const { path, args } = commandOf(ctx, rec, cache);
      // Docker's list.go: arguments with a space are single-quoted.
      let line = path;
      for (let i = 0; i < args.length; i++) line += args[i]!.includes(" ") ? ` '${args[i]}'` : ` ${args[i]}`;
      return line;
    },
  };
  const format = typeof argv.format === "string" ? argv.format : "table";
  // Docker's tabwriter (cells at least 10 wide, 3 spaces apart), without the template engine: its
  // first run in a fresh process costs more than the listing itself. The default table's cells are
  // made directly, with no row objects.
  const header = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"];
  if (format === "table" && !argv.size) {
    const { tableCells } = await import("../views/containers.ts");
    const { alignCells } = await import("../template/table.ts");
    const lines = argv.noheading ? [] : [header];
    for (let i = 0; i < list.length; i++) lines.push(tableCells(list[i]!, rowOptions));
    lines.push([""]); // the empty text after the last newline, as tabwrite reads it
    io.out(alignCells(lines));
    return;
  }
  const rows = list.map((c) => containerRow(c, rowOptions));
  if (argv.size) {
    // Docker's SIZE: the container's writable layer, and with the image's ("virtual").
    const { diskUsage } = await import("../../lifecycle/reconcile.ts");
    const { containerPaths } = await import("../../store/containers.ts");
    const { loadContainerImage } = await import("../../store/images.ts");
    const { storeLayout } = await import("../../store/layout.ts");
    const { imageSize } = await import("../views/images.ts");
    const { humanSize } = await import("../format.ts");
    const layout = storeLayout(ctx.root);
    list.forEach((c, i) => {
      const rw = diskUsage(containerPaths(ctx.root, c.record.id).upper);
      let image;
      try {
        image = loadContainerImage(layout, c.record.imageId);
      } catch {} // an image removed since: the container still lists
      rows[i]!.Size = `${humanSize(rw)} (virtual ${humanSize(rw + (image ? imageSize(image) : 0))})`;
    });
  }
  if (format === "json" || format === "{{json .}}") {
    io.out(rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    return;
  }
  if (format === "table") {
    const { alignCells } = await import("../template/table.ts");
    const lines = rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names, r.Size]);
    if (!argv.noheading) lines.unshift([...header, "SIZE"]);
    lines.push([""]);
    io.out(alignCells(lines));
    return;
  }
  if (format.startsWith("table")) {
    const { renderListing } = await import("../listing.ts");
    io.out(renderListing({ format, defaultTable: format, headers: HEADERS, noHeading: Boolean(argv.noheading) }, withLabel(rows, list)));
    return;
  }
  const { compileTemplate } = await import("../template.ts");
  const data = withLabel(rows, list);
  const tpl = compileTemplate(format);
  io.out(data.map((r) => `${tpl(r)}\n`).join(""));
};

/**
 * Docker's list.go: IMAGE is the name the container was made with while that name still leads to
 * its image; once the image is deleted (`rmi -f`) or the name moved to another (a new pull or
 * build of the tag), the image's id.
 */
async function imageReplaced(root: string, recs: readonly { image: string; imageId: string }[]): Promise<(rec: { image: string; imageId: string }) => boolean> {
  const { storeLayout } = await import("../../store/layout.ts");
  const layout = storeLayout(root);
  const replaced = new Map<string, boolean>();
  let names: { tags: Record<string, string>; key: (image: string) => string | undefined } | undefined;
  const loadNames = async () => {
    const { formatReference, parseReference } = await import("../../image/reference.ts");
    const { readTags } = await import("../../store/images.ts");
    return {
      tags: readTags(layout),
      key: (image: string) => {
        try {
          const ref = parseReference(image);
          return ref.digest ? undefined : formatReference(ref);
        } catch {
          return undefined;
        }
      },
    };
  };
  for (const { image, imageId } of recs) {
    const k = `${image}\0${imageId}`;
    if (replaced.has(k)) continue;
    let r = false;
    try {
      r = !fs.existsSync(layout.image(imageId));
    } catch {
      replaced.set(k, false); // not an image id: the record's own name stands
      continue;
    }
    const hex = image.startsWith("sha256:") ? image.slice(7) : image;
    if (!r && !(/^[a-f0-9]{1,64}$/.test(hex) && imageId.slice(7).startsWith(hex))) {
      names ??= await loadNames();
      const key = names.key(image);
      r = key !== undefined && names.tags[key] !== imageId;
    }
    replaced.set(k, r);
  }
  return (rec) => replaced.get(`${rec.image}\0${rec.imageId}`) ?? false;
}

/** Docker's ps rows also answer {{.Label "key"}}. */
function withLabel<R extends object>(rows: R[], list: import("../../lifecycle/live.ts").LiveContainer<import("../../store/containers.ts").ListedRecord>[]) {
  return rows.map((r, i) => {
    const rec = list[i]!.record;
    const labels: Record<string, string> = rec.labels ?? rec.config?.Labels ?? {};
    return { ...r, Label: (k: unknown) => labels[String(k)] ?? "" };
  });
}

/** ancestor= values → the ids of those images and of the images built on them; unknown names reach none. */
async function ancestorImages(ctx: import("../../context.ts").Ctx, values: readonly string[]): Promise<Set<string>> {
  const { listImages, resolveImage } = await import("../../store/images.ts");
  const { storeLayout } = await import("../../store/layout.ts");
  const { withDescendants } = await import("../views/image-filters.ts");
  const layout = storeLayout(ctx.root);
  const roots: string[] = [];
  for (const v of values) {
    try {
      roots.push(resolveImage(layout, v).record.id);
    } catch {} // Docker logs a warning and matches nothing for it
  }
  if (roots.length === 0) return new Set();
  return withDescendants(listImages(layout).map((r) => ({ id: r.id, diffIds: r.layers.map((l) => l.diffId) })), roots);
}

const HEADERS: Record<string, string> = {
  ID: "CONTAINER ID",
  Image: "IMAGE",
  Command: "COMMAND",
  RunningFor: "CREATED",
  CreatedAt: "CREATED AT",
  Status: "STATUS",
  Ports: "PORTS",
  Names: "NAMES",
  State: "STATE",
  Labels: "LABELS",
  Size: "SIZE",
  Mounts: "MOUNTS",
  Networks: "NETWORKS",
  LocalVolumes: "LOCAL VOLUMES",
};

export const ps: CommandSpec = { command: "ps", describe: "List containers", builder, run };
export const containerLs: CommandSpec = { command: ["ls", "list", "ps"], describe: "List containers", builder, run };
