// `system df [-v] [--format]`: Docker's TYPE TOTAL ACTIVE SIZE RECLAIMABLE lines.
import type { CommandSpec } from "../command.ts";
import type { UsageFacts, UsageLine } from "../../lifecycle/df.ts";

const HEADERS: Record<string, string> = { Type: "TYPE", TotalCount: "TOTAL", Active: "ACTIVE", Size: "SIZE", Reclaimable: "RECLAIMABLE" };

/** One line as Docker's formatter shows it: counts as text, "1.2MB (40%)" reclaimable. */
export function usageRow(l: UsageLine, humanSize: (n: number) => string) {
  const pct = l.size > 0 && l.type !== "Build Cache" ? ` (${Math.floor((l.reclaimable * 100) / l.size)}%)` : "";
  return { Active: String(l.active), Reclaimable: `${humanSize(l.reclaimable)}${pct}`, Size: humanSize(l.size), TotalCount: String(l.total), Type: l.type };
}

function verbose(ctx: Parameters<CommandSpec["run"]>[0], f: UsageFacts, humanSize: (n: number) => string, table: (h: string[], r: string[][]) => string): string {
  const now = ctx.clock();
  const { since } = require("../format.ts") as typeof import("../format.ts");
  const { familiarName } = require("../../image/reference.ts") as typeof import("../../image/reference.ts");
  const { readTags } = require("../../store/images.ts") as typeof import("../../store/images.ts");
  const { storeLayout } = require("../../store/layout.ts") as typeof import("../../store/layout.ts");
  const tags = Object.entries(readTags(storeLayout(ctx.root)));
  const imageRows = f.images.flatMap((i) => {
    const names = tags.filter(([, id]) => id === i.record.id).map(([k]) => k);
    const cells = (repo: string, tag: string) => [
      repo,
      tag,
      i.record.id.replace(/^sha256:/, "").slice(0, 12),
      since(i.record.created, now),
      humanSize(i.size),
      humanSize(i.sharedSize),
      humanSize(i.size - i.sharedSize),
      String(i.containers),
    ];
    if (!names.length) return [cells("<none>", "<none>")];
    return names.map((k) => {
      const c = k.lastIndexOf(":");
      const repo = k.slice(0, c);
      return cells(familiarName({ registry: repo.split("/")[0]!, repository: repo.split("/").slice(1).join("/") }), k.slice(c + 1));
    });
  });
  const containerRows = f.containers.map((c) => {
    const r = c.live.record;
    return [
      r.id.slice(0, 12),
      r.image ?? "",
      JSON.stringify((r.args ?? []).join(" ")),
      String((r.mounts ?? []).filter((m) => m.Type === "volume").length),
      humanSize(c.sizeRw),
      since(r.created, now),
      c.live.state.Status,
      r.name,
    ];
  });
  const volumeRows = f.volumes.map((v) => [v.volume.Name, String(v.links), humanSize(v.size)]);
  return [
    "Images space usage:\n\n",
    table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"], imageRows),
    "\nContainers space usage:\n\n",
    table(["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"], containerRows),
    "\nLocal Volumes space usage:\n\n",
    table(["VOLUME NAME", "LINKS", "SIZE"], volumeRows),
    "\nBuild cache usage: 0B\n\n",
    table(["CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"], []),
  ].join("");
}

export const systemDf: CommandSpec = {
  command: "df",
  describe: "Show tinydock disk usage",
  builder: (y) =>
    y
      .option("verbose", { alias: "v", type: "boolean", default: false, describe: "Show detailed information on space usage" })
      .option("format", { type: "string", describe: 'Format output: "table", "json", or a Go template' }),
  async run(ctx, argv, io) {
    const { gatherUsage, summarizeUsage } = await import("../../lifecycle/df.ts");
    const { humanSize, table } = await import("../format.ts");
    const facts = gatherUsage(ctx);
    const format = typeof argv.format === "string" && argv.format !== "" ? argv.format : undefined;
    if (argv.verbose && format === undefined) {
      io.out(verbose(ctx, facts, humanSize, table));
      return;
    }
    const { renderList } = await import("../listing.ts");
    const rows = summarizeUsage(facts).map((l) => usageRow(l, humanSize));
    io.out(renderList(format, rows, HEADERS, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"));
  },
};
