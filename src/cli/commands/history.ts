// `history` / `image history`: IMAGE CREATED CREATED BY SIZE COMMENT, newest first.
import type { CommandSpec } from "../command.ts";
import type { HistoryEntry } from "../../store/history.ts";
import { ellipsis } from "../views/containers.ts";

const HEADERS: Record<string, string> = { ID: "IMAGE", CreatedSince: "CREATED", CreatedAt: "CREATED AT", CreatedBy: "CREATED BY", Size: "SIZE", Comment: "COMMENT" };

/** A row in docker/cli's historyContext fields: truncation and human units as the flags say. */
export function historyRow(h: HistoryEntry, o: { trunc: boolean; human: boolean; now: number; humanSize: (n: number) => string; since: (iso: string, now: number) => string }) {
  const createdAt = h.created ? new Date(h.created * 1000).toISOString().replace(/\.\d+Z$/, "Z") : "0001-01-01T00:00:00Z";
  const createdBy = h.createdBy.replace(/\t/g, " ");
  return {
    Comment: h.comment,
    CreatedAt: createdAt,
    CreatedBy: o.trunc ? ellipsis(createdBy, 45) : createdBy,
    CreatedSince: o.human ? (h.created ? o.since(createdAt, o.now) : "N/A") : createdAt,
    ID: o.trunc && h.id !== "<missing>" ? h.id.replace(/^sha256:/, "").slice(0, 12) : h.id,
    Size: o.human ? o.humanSize(h.size) : String(h.size),
  };
}

export const history: CommandSpec = {
  command: "history <image>",
  describe: "Show the history of an image",
  builder: (y) =>
    y
      .positional("image", { type: "string" })
      .option("human", { alias: "H", type: "boolean", default: true, describe: "Print sizes and dates in human readable format" })
      .option("no-trunc", { type: "boolean", default: false, describe: "Don't truncate output" })
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Only show image IDs" })
      .option("format", { type: "string", describe: 'Format output: "table", "json", or a Go template' }),
  async run(ctx, argv, io) {
    const { resolveImage, readTags, tagsOf } = await import("../../store/images.ts");
    const { storeLayout } = await import("../../store/layout.ts");
    const { readBlob } = await import("../../store/content.ts");
    const { imageHistory } = await import("../../store/history.ts");
    const { humanSize, since } = await import("../format.ts");
    const layout = storeLayout(ctx.root);
    const { record } = resolveImage(layout, String(argv.image));
    const config = JSON.parse(new TextDecoder().decode(readBlob(layout, record.id)));
    const entries = imageHistory(record.id, config, record.layers, tagsOf(readTags(layout), record.id));
    const trunc = !argv["no-trunc"];
    const rows = entries.map((h) => historyRow(h, { trunc, human: argv.human !== false && argv.human !== "false", now: ctx.clock(), humanSize, since }));
    if (argv.quiet) {
      io.out(rows.map((r) => `${r.ID}\n`).join(""));
      return;
    }
    const { renderList } = await import("../listing.ts");
    io.out(renderList(argv.format as string | undefined, rows, HEADERS, "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"));
  },
};
