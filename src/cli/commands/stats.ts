import type { CommandSpec } from "../command.ts";

export const stats: CommandSpec = {
  command: "stats [containers..]",
  describe: "Display a live stream of container(s) resource usage statistics",
  builder: (y) =>
    y
      .option("all", { alias: "a", type: "boolean", default: false, describe: "Show all containers (default shows just running)" })
      .option("no-stream", { type: "boolean", default: false, describe: "Disable streaming stats and only pull the first result" })
      .option("no-trunc", { type: "boolean", default: false, describe: "Do not truncate output" })
      .option("format", { type: "string", describe: 'Format output: "table", "json", "table TEMPLATE" or a Go template' }),
  async run(ctx, argv, io) {
    const { findLive, listLive, rereadLive } = await import("../../lifecycle/live.ts");
    const { sampleStats, statsRow, formatStats } = await import("../../lifecycle/stats.ts");
    const { renderListing } = await import("../listing.ts");
    const refs = ((argv.containers as unknown[] | undefined) ?? []).map(String);
    const pick = () =>
      refs.length > 0 ? refs.map((r) => findLive(ctx, r)) : listLive(ctx).filter((c) => argv.all || c.state.Running).sort((a, b) => a.record.name.localeCompare(b.record.name));
    const format = typeof argv.format === "string" ? argv.format : undefined;
    const listing = { format: format === "{{json .}}" ? "json" : format, defaultTable: STATS_TABLE, headers: STATS_HEADERS };
    // A bad format fails at once, not after the first sample.
    renderListing(listing, []);
    const render = (rows: ReturnType<typeof statsRow>[]) =>
      renderListing(
        listing,
        rows.map((r, i) => {
          const f = formatStats(r, Boolean(argv["no-trunc"]));
          // Docker's Container: the reference given, else the full id.
          return { BlockIO: f[6], CPUPerc: f[2], Container: refs[i] ?? r.id, ID: f[0], MemPerc: f[4], MemUsage: f[3], Name: f[1], NetIO: f[5], PIDs: f[7] };
        }),
      );
    let list = pick();
    let before = new Map(list.map((c) => [c.record.id, sampleStats(ctx, c)]));
    const abort = new AbortController();
    process.once("SIGINT", () => abort.abort());
    for (let round = 0; ; round++) {
      await ctx.sleep(argv["no-stream"] ? 500 : 1000);
      const rows = list.map((c) => {
        const now = rereadLive(ctx, c.record.id) ?? c;
        const after = sampleStats(ctx, now);
        const row = statsRow(now, before.get(c.record.id) ?? after, after);
        before.set(c.record.id, after);
        return row;
      });
      if (argv["no-stream"]) {
        io.out(render(rows));
        return;
      }
      io.out(`${io.stdoutTty ? "\x1b[2J\x1b[H" : ""}${render(rows)}`);
      if (abort.signal.aborted) return;
      if (refs.length === 0) {
        list = pick();
        before = new Map(list.map((c) => [c.record.id, before.get(c.record.id) ?? sampleStats(ctx, c)]));
      }
    }
  },
};

const STATS_TABLE = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/** Docker's stats headers (cli/command/container/formatter_stats.go). */
const STATS_HEADERS: Record<string, string> = {
  Container: "CONTAINER",
  Name: "NAME",
  ID: "CONTAINER ID",
  CPUPerc: "CPU %",
  MemUsage: "MEM USAGE / LIMIT",
  MemPerc: "MEM %",
  NetIO: "NET I/O",
  BlockIO: "BLOCK I/O",
  PIDs: "PIDS",
};
