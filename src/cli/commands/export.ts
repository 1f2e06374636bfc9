import type { CommandSpec } from "../command.ts";

export const exportCmd: CommandSpec = {
  command: "export <container>",
  describe: "Export a container's filesystem as a tar archive (streamed to STDOUT by default)",
  builder: (y) =>
    y
      .positional("container", { type: "string", describe: "CONTAINER" })
      .option("output", { alias: "o", type: "string", describe: "Write to a file, instead of STDOUT" }),
  async run(ctx, argv, io) {
    const { exportContainer } = await import("../../lifecycle/export.ts");
    const { writeArchive } = await import("../output.ts");
    const output = typeof argv.output === "string" ? argv.output : undefined;
    await writeArchive(output, io.stdoutTty, (write) => exportContainer(ctx, String(argv.container), write));
  },
};
