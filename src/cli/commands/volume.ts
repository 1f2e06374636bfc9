// `volume create|ls|inspect|rm|prune`, Docker's local driver over store/volumes.ts.
import type { CommandSpec } from "../command.ts";
import type { Volume } from "../../store/volumes.ts";

/** The object `docker volume inspect` prints for one volume. */
export function inspectVolume(v: Volume): Record<string, unknown> {
  return { CreatedAt: v.CreatedAt, Driver: "local", Labels: v.Labels, Mountpoint: v.Mountpoint, Name: v.Name, Options: v.Options, Scope: "local" };
}

/** A `volume ls` row in Docker's field names (formatter/volume.go), with {{.Label "k"}}. */
export function volumeRow(v: Volume) {
  const labels = Object.keys(v.Labels)
    .sort()
    .map((k) => `${k}=${v.Labels[k]}`)
    .join(",");
  const row = { Availability: "N/A", Driver: "local", Group: "N/A", Labels: labels, Links: "N/A", Mountpoint: v.Mountpoint, Name: v.Name, Scope: "local", Size: "N/A", Status: "N/A" };
  Object.defineProperty(row, "Label", { value: (k: unknown) => v.Labels[String(k)] ?? "", enumerable: false });
  return row as typeof row & { Label?: (k: unknown) => string };
}

const HEADERS: Record<string, string> = {
  Name: "VOLUME NAME",
  Driver: "DRIVER",
  Scope: "SCOPE",
  Mountpoint: "MOUNTPOINT",
  Labels: "LABELS",
  Links: "LINKS",
  Size: "SIZE",
  Group: "GROUP",
  Availability: "AVAILABILITY",
  Status: "STATUS",
};

function keyValues(list: unknown, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (Array.isArray(list) ? list : list === undefined ? [] : [list]).map(String)) {
    const eq = item.indexOf("=");
    if (eq === 0) throw new (require("../usage.ts") as typeof import("../usage.ts")).UsageError(`invalid argument "${item}" for "--${what}" flag: invalid key`);
    out[eq < 0 ? item : item.slice(0, eq)] = eq < 0 ? "" : item.slice(eq + 1);
  }
  return out;
}

const create: CommandSpec = {
  command: "create [name]",
  describe: "Create a volume",
  builder: (y) =>
    y
      .positional("name", { type: "string" })
      .option("driver", { alias: "d", type: "string", default: "local", describe: "Specify volume driver name" })
      .option("label", { type: "string", array: true, describe: "Set metadata for a volume" })
      .option("opt", { alias: "o", type: "string", array: true, describe: "Set driver specific options" })
      .option("name", { type: "string", describe: "Specify volume name" }),
  async run(ctx, argv, io) {
    const { checkLocalOptions, createVolume } = await import("../../store/volumes.ts");
    const { InvalidArgumentError } = await import("../../errors.ts");
    const name = typeof argv.name === "string" && argv.name !== "" ? argv.name : undefined;
    if (argv.driver !== "local") {
      throw new InvalidArgumentError(`Cannot create volume "${name ?? ""}": error looking up volume plugin ${String(argv.driver)}: plugin "${String(argv.driver)}" not found`);
    }
    const options = keyValues(argv.opt, "opt");
    checkLocalOptions(name, options);
    const { volume } = createVolume(ctx.root, name, { labels: keyValues(argv.label, "label"), options, anonymous: name === undefined, now: ctx.clock() });
    io.out(`${volume.Name}\n`);
  },
};

export const volumeLs: CommandSpec = {
  command: ["ls", "list"],
  describe: "List volumes",
  builder: (y) =>
    y
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Only display volume names" })
      .option("filter", { alias: "f", type: "string", array: true, describe: "Provide filter values (name=, label=, dangling=, driver=)" })
      .option("format", { type: "string", describe: 'Format output: "table", "json", or a Go template' }),
  async run(ctx, argv, io) {
    const { listVolumes, matchVolume, parseVolumeFilters, volumeUsers } = await import("../../store/volumes.ts");
    const filters = parseVolumeFilters(((argv.filter as unknown[] | undefined) ?? []).map(String), ["name", "label", "dangling", "driver"]);
    let volumes = listVolumes(ctx.root);
    if (Object.keys(filters).length) {
      // Only `dangling` needs the containers' records.
      const users = filters.dangling !== undefined ? volumeUsers((await import("../../store/containers.ts")).listContainers(ctx.root), volumes) : new Map();
      volumes = volumes.filter((v) => matchVolume(v, users.has(v.Name), filters));
    }
    if (argv.quiet) {
      io.out(volumes.map((v) => `${v.Name}\n`).join(""));
      return;
    }
    const { renderList } = await import("../listing.ts");
    io.out(renderList(argv.format as string | undefined, volumes.map(volumeRow), HEADERS, "table {{.Driver}}\t{{.Name}}"));
  },
};

const inspect: CommandSpec = {
  command: "inspect <names..>",
  describe: "Display detailed information on one or more volumes",
  builder: (y) => y.positional("names", { type: "string", array: true }).option("format", { alias: "f", type: "string", describe: "Format output using a Go template or json" }),
  async run(ctx, argv, io) {
    const { readVolume } = await import("../../store/volumes.ts");
    const { oneLine } = await import("../../errors.ts");
    const out: Record<string, unknown>[] = [];
    let code = 0;
    for (const name of (argv.names as unknown[]).map(String)) {
      const v = readVolume(ctx.root, name);
      if (!v) {
        io.err(`Error: No such volume: ${oneLine(name)}\n`);
        code = 1;
        continue;
      }
      out.push(inspectVolume(v));
    }
    const format = argv.format as string | undefined;
    if (format === undefined || format === "") io.out(`${JSON.stringify(out, null, 4)}\n`);
    else {
      const { renderOne } = await import("../listing.ts");
      io.out(out.map((o) => renderOne(format, o)).join(""));
    }
    return code;
  },
};

const rm: CommandSpec = {
  command: ["rm <names..>", "remove"],
  describe: "Remove one or more volumes",
  builder: (y) =>
    y
      .positional("names", { type: "string", array: true })
      .option("force", { alias: "f", type: "boolean", default: false, describe: "Force the removal of one or more volumes" }),
  async run(ctx, argv, io) {
    const { removeVolume } = await import("../../store/volumes.ts");
    const { releaseVolumeFs } = await import("../../lifecycle/volumes.ts");
    const { eachRef } = await import("./each.ts");
    return eachRef(argv.names as unknown[], io, (name) => {
      removeVolume(ctx.root, name, { force: Boolean(argv.force), release: (v) => releaseVolumeFs(ctx, v) });
      io.out(`${name}\n`);
    });
  },
};

const prune: CommandSpec = {
  command: "prune",
  describe: "Remove unused local volumes",
  builder: (y) =>
    y
      .option("all", { alias: "a", type: "boolean", default: false, describe: "Remove all unused volumes, not just anonymous ones" })
      .option("filter", { type: "string", array: true, describe: 'Provide filter values (e.g. "label=<label>")' })
      .option("force", { alias: "f", type: "boolean", default: false, describe: "Do not prompt for confirmation" }),
  async run(ctx, argv, io) {
    const { parseVolumeFilters, pruneVolumes } = await import("../../store/volumes.ts");
    const { humanSize } = await import("../format.ts");
    const specs = ((argv.filter as unknown[] | undefined) ?? []).map(String);
    // Docker's `all=true` filter is -a spelled as a filter.
    const all = Boolean(argv.all) || specs.some((s) => s === "all=true" || s === "all=1");
    const filters = parseVolumeFilters(specs.filter((s) => !s.startsWith("all=")), ["label", "label!"]);
    const warning = all
      ? "WARNING! This will remove all local volumes not used by at least one container."
      : "WARNING! This will remove anonymous local volumes not used by at least one container.";
    const { confirm } = await import("./container.ts");
    if (!argv.force && !(await confirm(io, warning))) return;
    const { releaseVolumeFs } = await import("../../lifecycle/volumes.ts");
    const res = pruneVolumes(ctx.root, { all, filters, release: (v) => releaseVolumeFs(ctx, v) });
    if (res.deleted.length) io.out(`Deleted Volumes:\n${res.deleted.map((d) => `${d}\n`).join("")}\n`);
    io.out(`Total reclaimed space: ${humanSize(res.bytes)}\n`);
  },
};

export const volumeSubcommands: CommandSpec[] = [create, volumeLs, inspect, rm, prune];
