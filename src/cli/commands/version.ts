// `version [--format]`: Docker's Client and Server sections; the server is this engine (no daemon).
import type { CommandSpec } from "../command.ts";

export const version: CommandSpec = {
  command: "version",
  describe: "Show the tinydock version information",
  builder: (y) => y.option("format", { alias: "f", type: "string", describe: "Format output using a Go template or json" }),
  async run(_ctx, argv, io) {
    const { versionInfo, versionJson } = await import("../../lifecycle/info.ts");
    const v = versionInfo();
    const format = typeof argv.format === "string" && argv.format !== "" ? argv.format : undefined;
    if (format !== undefined) {
      const { renderOne } = await import("../listing.ts");
      io.out(format === "json" ? `${JSON.stringify(versionJson(v))}\n` : renderOne(format, v));
      return;
    }
    const c = v.Client as Record<string, string>;
    const s = v.Server as Record<string, string>;
    const line = (indent: string, k: string, val: string) => `${indent}${`${k}:`.padEnd(19 - indent.length + 1)}${val}\n`;
    io.out(
      "Client:\n" +
        line(" ", "Version", c.Version!) +
        line(" ", "API version", c.APIVersion!) +
        line(" ", "Go version", c.GoVersion!) +
        line(" ", "Git commit", c.GitCommit || "N/A") +
        line(" ", "Built", c.BuildTime || "N/A") +
        line(" ", "OS/Arch", `${c.Os}/${c.Arch}`) +
        line(" ", "Context", c.Context!) +
        "\n" +
        `Server: ${(s.Platform as unknown as { Name: string }).Name}\n` +
        " Engine:\n" +
        line("  ", "Version", s.Version!) +
        line("  ", "API version", `${s.APIVersion} (minimum version ${s.MinAPIVersion})`) +
        line("  ", "Go version", s.GoVersion!) +
        line("  ", "Git commit", s.GitCommit || "N/A") +
        line("  ", "Built", s.BuildTime || "N/A") +
        line("  ", "OS/Arch", `${s.Os}/${s.Arch}`) +
        line("  ", "Experimental", String(s.Experimental)),
    );
  },
};
