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
    .option("filter", { alias: "f", type: "string", array: true, describe: "Filter output based on conditions provided (status=, name=, label=, id=, exited=)" })
    .option("format", { type: "string", describe: 'Format output: "table", "json", or a Go template' });

/** pod= by name or id prefix, as ids; a pod that does not exist matches nothing. */
async function podIds(ctx: import("../../context.ts").Ctx, refs: string[]): Promise<string[]> {
  const { listPods } = await import("../../pod/store.ts");
  const pods = listPods(ctx.root);
  return refs.map((r) => pods.find((p) => p.name === r)?.id ?? pods.find((p) => r.length > 0 && p.id.startsWith(r))?.id ?? `no-such-pod:${r}`);
}

const run: CommandSpec["run"] = async (ctx, argv, io) => {
  const { listLive } = await import("../../lifecycle/live.ts");
  const { commandOf } = await import("../../lifecycle/inspect.ts");
  const { containerRow, parseFilters, selectContainers } = await import("../views/containers.ts");
  const filters = parseFilters(((argv.filter as string[] | undefined) ?? []).map(String));
  if (filters.pod) filters.pod = await podIds(ctx, filters.pod);
  const last = argv.latest ? 1 : typeof argv.last === "number" && argv.last > 0 ? argv.last : undefined;
  const list = selectContainers(listLive(ctx), { all: Boolean(argv.all), ...(last !== undefined ? { last } : {}), filters });
  const noTrunc = Boolean(argv["no-trunc"]);
  if (argv.quiet) {
    io.out(list.map((c) => `${noTrunc ? c.record.id : c.record.id.slice(0, 12)}\n`).join(""));
    return;
  }
  const cache = new Map();
  const now = ctx.clock();
  const rows = list.map((c) =>
    containerRow(c, {
      noTrunc,
      now,
      command: (rec) => {
        const { path, args } = commandOf(ctx, rec, cache);
        // Docker's list.go: arguments with a space are single-quoted.
        return [path, ...args.map((a) => (a.includes(" ") ? `'${a}'` : a))].join(" ");
      },
    }),
  );
  if (argv.size) {
    // Docker's SIZE: the container's writable layer, and with the image's ("virtual").
    const { diskUsage } = await import("../../lifecycle/reconcile.ts");
    const { containerPaths } = await import("../../store/containers.ts");
    const { loadImage } = await import("../../store/images.ts");
    const { storeLayout } = await import("../../store/layout.ts");
    const { imageSize } = await import("../views/images.ts");
    const { humanSize } = await import("../format.ts");
    const layout = storeLayout(ctx.root);
    list.forEach((c, i) => {
      const rw = diskUsage(containerPaths(ctx.root, c.record.id).upper);
      let image;
      try {
        image = loadImage(layout, c.record.imageId);
      } catch {} // an image removed since: the container still lists
      rows[i]!.Size = `${humanSize(rw)} (virtual ${humanSize(rw + (image ? imageSize(image) : 0))})`;
    });
  }
  const format = typeof argv.format === "string" ? argv.format : "table";
  if (format === "json" || format === "{{json .}}") {
    io.out(rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    return;
  }
  const { table } = await import("../format.ts");
  if (format === "table") {
    const header = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"];
    const cells = (r: (typeof rows)[number]) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names];
    io.out(argv.size ? table([...header, "SIZE"], rows.map((r) => [...cells(r), r.Size])) : table(header, rows.map(cells)));
    return;
  }
  const { compileTemplate, isTableFormat, renderTable } = await import("../template.ts");
  // Docker's ps rows also answer {{.Label "key"}}.
  const data = rows.map((r, i) => {
    const rec = list[i]!.record;
    const labels: Record<string, string> = rec.labels ?? rec.config?.Labels ?? {};
    return { ...r, Label: (k: unknown) => labels[String(k)] ?? "" };
  });
  if (isTableFormat(format)) {
    io.out(renderTable(format, HEADERS, data));
    return;
  }
  const tpl = compileTemplate(format);
  io.out(data.map((r) => `${tpl(r)}\n`).join(""));
};

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
