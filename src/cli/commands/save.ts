import { InvalidArgumentError } from "../../errors.ts";
import type { CommandSpec } from "../command.ts";

export const save: CommandSpec = {
  command: "save <images..>",
  describe: "Save one or more images to a tar archive (streamed to STDOUT by default)",
  builder: (y) =>
    y
      .positional("images", { type: "string", array: true })
      .option("output", { alias: "o", type: "string", describe: "Write to a file, instead of STDOUT" })
      .option("format", { type: "string", default: "docker-archive", describe: "docker-archive or oci-archive" }),
  async run(ctx, argv, io) {
    const { saveImages } = await import("../../rootfs/save.ts");
    const { writeArchive } = await import("../output.ts");
    const format = String(argv.format);
    if (format !== "docker-archive" && format !== "oci-archive") {
      throw new InvalidArgumentError(`Cannot save in format "${format}": want docker-archive or oci-archive`);
    }
    const output = typeof argv.output === "string" ? argv.output : undefined;
    await writeArchive(output, io.stdoutTty, (write) => saveImages(ctx, (argv.images as unknown[]).map(String), format, write));
  },
};
