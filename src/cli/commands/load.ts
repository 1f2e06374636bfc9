import type { CommandSpec } from "../command.ts";

export const load: CommandSpec = {
  command: "load",
  describe: "Load images from a tar archive (docker-archive or OCI layout; plain, gzip or zstd) or STDIN",
  builder: (y) =>
    y
      .option("input", { alias: "i", type: "string", describe: "Read from tar archive file, instead of STDIN" })
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Suppress the load output" }),
  async run(ctx, argv, io) {
    const { archiveInput, loadArchive } = await import("../../rootfs/load.ts");
    const { isTerminal } = await import("../../terminal.ts");
    const result = await loadArchive(ctx, archiveInput(typeof argv.input === "string" ? argv.input : undefined, () => isTerminal(0)));
    // Docker prints these lines even with -q; -q only drops the progress.
    for (const t of result.tags) io.out(`Loaded image: ${t}\n`);
    for (const id of result.untagged) io.out(`Loaded image ID: ${id}\n`);
  },
};
