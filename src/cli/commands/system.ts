// `system prune`: stopped containers, what crashed processes left behind (orphan container dirs,
// cgroups, mounts, network objects — found by their tinydock names), and dangling images.
import type { CommandSpec } from "../command.ts";
import { confirm } from "./container.ts";
import { systemDf } from "./df.ts";
import { events } from "./events.ts";
import { info } from "./info.ts";

const prune: CommandSpec = {
  command: "prune",
  describe: "Remove stopped containers, orphaned resources and dangling images",
  builder: (y) =>
    y
      .option("force", { alias: "f", type: "boolean", default: false, describe: "Do not prompt for confirmation" })
      .option("all", { alias: "a", type: "boolean", default: false, describe: "Remove all unused images, not just dangling ones" })
      .option("volumes", { type: "boolean", default: false, describe: "Prune anonymous volumes" })
      .option("filter", { type: "string", array: true, describe: 'Provide filter values (e.g. "until=<timestamp>", "label=k=v")' }),
  async run(ctx, argv, io) {
    // Docker's: the filters go to each prune (until= not to volumes', which refuse it).
    const specs = ((argv.filter as string[] | undefined) ?? []).map(String);
    const { keep } = (await import("../filters.ts")).pruneFilters(specs, ctx.clock());
    const { parseVolumeFilters, pruneVolumes } = await import("../../store/volumes.ts");
    const volumeFilters = argv.volumes ? parseVolumeFilters(specs, ["label", "label!"]) : undefined;
    const warning = [
      "WARNING! This will remove:",
      "  - all stopped containers",
      "  - everything left behind by containers whose engine process was killed",
      ...(argv.volumes ? ["  - all anonymous volumes not used by at least one container"] : []),
      argv.all ? "  - all images without at least one container associated to them" : "  - all dangling images",
      "",
    ].join("\n");
    if (!argv.force && !(await confirm(io, warning))) return;
    const { reconcile, pruneContainers } = await import("../../lifecycle/reconcile.ts");
    const { pruneImages } = await import("../../rootfs/images.ts");
    const { listContainers } = await import("../../store/containers.ts");
    const { humanSize } = await import("../format.ts");
    const report = await reconcile(ctx);
    const containers = await pruneContainers(ctx, (rec) => keep(rec.created, () => rec.labels ?? (rec.config?.Labels as Record<string, string> | undefined)));
    // After the containers: volumes only they used are unused now, as in Docker's order.
    const { releaseVolumeFs } = await import("../../lifecycle/volumes.ts");
    const volumes = volumeFilters ? pruneVolumes(ctx.root, { filters: volumeFilters, release: (v) => releaseVolumeFs(ctx, v) }) : { deleted: [], bytes: 0 };
    const used = new Set(listContainers(ctx.root).map((c) => c.imageId));
    const { imageLabels } = await import("../views/images.ts");
    const { storeLayout } = await import("../../store/layout.ts");
    const layout = storeLayout(ctx.root);
    const images = await pruneImages(ctx, { all: Boolean(argv.all), inUse: (r) => (used.has(r.id) ? "in use" : keep(r.created, () => imageLabels(layout, r.id)) ? "filtered out" : undefined) });
    const orphans = [
      ...report.tornDown.map((id) => `container resources: ${id}`),
      ...report.removedDirs.map((d) => `container directory: ${d}`),
      ...report.cgroups.map((d) => `cgroup: ${d}`),
      ...report.mounts.map((m) => `mount: ${m}`),
      ...report.scratch.map((f) => `scratch: ${f}`),
      ...report.network.map((n) => `network: ${n}`),
    ];
    if (containers.deleted.length) io.out(`Deleted Containers:\n${containers.deleted.map((d) => `${d}\n`).join("")}\n`);
    if (volumes.deleted.length) io.out(`Deleted Volumes:\n${volumes.deleted.map((d) => `${d}\n`).join("")}\n`);
    if (orphans.length) io.out(`Cleaned up:\n${orphans.map((o) => `${o}\n`).join("")}\n`);
    if (images.deleted.length) io.out(`Deleted Images:\n${images.deleted.map((d) => `deleted: ${d}\n`).join("")}\n`);
    io.out(`Total reclaimed space: ${humanSize(containers.bytes + volumes.bytes + images.gc.bytes)}\n`);
  },
};

export const systemSubcommands: CommandSpec[] = [prune, systemDf, info, events];
