import type { CommandSpec } from "../command.ts";

const listBuilder: CommandSpec["builder"] = (y) =>
  y
    .positional("repository", { type: "string", describe: "Only images of this repository[:tag]" })
    .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Only show image IDs" })
    .option("all", { alias: "a", type: "boolean", default: false, describe: "Show all images (accepted for Docker compatibility)" })
    .option("digests", { type: "boolean", default: false, describe: "Show digests" })
    .option("no-trunc", { type: "boolean", default: false, describe: "Don't truncate output" })
    .option("format", { type: "string", describe: 'Format output: "table" or "json"' });

const listRun: CommandSpec["run"] = async (ctx, argv, io) => {
  const { imageRows } = await import("../views/images.ts");
  const { table } = await import("../format.ts");
  const rows = imageRows(ctx, typeof argv.repository === "string" ? argv.repository : undefined);
  const noTrunc = Boolean(argv["no-trunc"]);
  const id = (full: string) => (noTrunc ? full : full.slice(7, 19));
  if (argv.quiet) {
    io.out([...new Set(rows.map((r) => id(r.ID)))].map((x) => `${x}\n`).join(""));
    return;
  }
  const format = typeof argv.format === "string" ? argv.format : "table";
  if (format === "json" || format === "{{json .}}") {
    io.out(rows.map((r) => `${JSON.stringify({ ...r, ID: id(r.ID) })}\n`).join(""));
    return;
  }
  if (format !== "table") {
    const { UsageError } = await import("../usage.ts");
    throw new UsageError(`Cannot use format "${format}": supported formats are "table" and "json"`);
  }
  const header = argv.digests
    ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
    : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"];
  io.out(
    table(
      header,
      rows.map((r) =>
        argv.digests
          ? [r.Repository, r.Tag, r.Digest, id(r.ID), r.CreatedSince, r.Size]
          : [r.Repository, r.Tag, id(r.ID), r.CreatedSince, r.Size],
      ),
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
