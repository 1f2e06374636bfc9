// `image` and its subcommands, as Docker names them.
import type { CommandSpec } from "../command.ts";
import { build } from "./build.ts";
import { imageExists } from "./exists.ts";
import { history } from "./history.ts";
import { imageLs } from "./images.ts";
import { importCmd } from "./import.ts";
import { pull } from "./pull.ts";
import { load } from "./load.ts";
import { push } from "./push.ts";
import { save } from "./save.ts";
import { rmi } from "./rmi.ts";
import { tag, untag } from "./tag.ts";

const inspect: CommandSpec = {
  command: "inspect <images..>",
  describe: "Display detailed information on one or more images",
  builder: (y) =>
    y
      .positional("images", { type: "string", array: true })
      .option("format", { alias: "f", type: "string", describe: "Format the output using the given Go template" }),
  async run(ctx, argv, io) {
    const { resolveImage } = await import("../../store/images.ts");
    const { storeLayout } = await import("../../store/layout.ts");
    const { inspectImage } = await import("../views/images.ts");
    const { eachRef } = await import("./each.ts");
    const layout = storeLayout(ctx.root);
    const out: unknown[] = [];
    const code = await eachRef(argv.images as string[], io, (name) => out.push(inspectImage(ctx, resolveImage(layout, name).record)));
    const { printInspected } = await import("../listing.ts");
    return printInspected(io, typeof argv.format === "string" ? argv.format : undefined, out, code);
  },
};

const prune: CommandSpec = {
  command: "prune",
  describe: "Remove unused images",
  builder: (y) =>
    y
      .option("all", { alias: "a", type: "boolean", default: false, describe: "Remove all unused images, not just dangling ones" })
      .option("force", { alias: "f", type: "boolean", default: false, describe: "Do not prompt for confirmation" })
      .option("filter", { type: "string", array: true, describe: 'Provide filter values (e.g. "until=<timestamp>", "label=k=v", "label!=k")' }),
  async run(ctx, argv, io) {
    const { pruneImages } = await import("../../rootfs/images.ts");
    const { humanSize } = await import("../format.ts");
    const { listContainers } = await import("../../store/containers.ts");
    const keep = await pruneFilter(ctx, ((argv.filter as string[] | undefined) ?? []).map(String));
    const used = new Set(listContainers(ctx.root).map((c) => c.imageId));
    const all = Boolean(argv.all) || keep.all;
    const res = await pruneImages(ctx, { all, inUse: (r) => (used.has(r.id) ? "in use" : keep.kept(r) ? "filtered out" : undefined) });
    if (res.deleted.length) io.out(`Deleted Images:\n${res.deleted.map((d) => `deleted: ${d}\n`).join("")}\n`);
    io.out(`Total reclaimed space: ${humanSize(res.gc.bytes)}\n`);
  },
};

/** `image prune --filter`: until=, label=, label!= on the config's labels, dangling=false as -a. */
async function pruneFilter(ctx: import("../../context.ts").Ctx, specs: string[]): Promise<{ all: boolean; kept: (r: import("../../store/images.ts").ImageRecord) => boolean }> {
  const { boolFilter, pruneFilters } = await import("../filters.ts");
  const { imageLabels } = await import("../views/images.ts");
  const { storeLayout } = await import("../../store/layout.ts");
  const { args, keep } = pruneFilters(specs, ctx.clock(), ["dangling"]);
  const layout = storeLayout(ctx.root);
  return { all: boolFilter(args, "dangling") === false, kept: (r) => keep(r.created, () => imageLabels(layout, r.id)) };
}

const mount: CommandSpec = {
  command: "mount <image>",
  describe: "Mount an image's root filesystem read-only and print its path",
  builder: (y) => y.positional("image", { type: "string" }),
  async run(ctx, argv, io) {
    const { mountImage } = await import("../../rootfs/images.ts");
    io.out(`${mountImage(ctx, String(argv.image))}\n`);
  },
};

const unmount: CommandSpec = {
  command: ["unmount <image>", "umount"],
  describe: "Unmount an image mounted with 'image mount'",
  builder: (y) => y.positional("image", { type: "string" }),
  async run(ctx, argv, io) {
    const { unmountImage } = await import("../../rootfs/images.ts");
    unmountImage(ctx, String(argv.image));
    io.out(`${String(argv.image)}\n`);
  },
};

const rm: CommandSpec = { ...rmi, command: ["rm <images..>", "remove"] };

export const imageSubcommands: CommandSpec[] = [build, imageLs, inspect, pull, push, load, save, importCmd, rm, prune, tag, untag, mount, unmount, history, imageExists];
