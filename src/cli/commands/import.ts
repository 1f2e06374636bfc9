import type { CommandSpec } from "../command.ts";
import { list } from "../values.ts";

export const importCmd: CommandSpec = {
  // Docker's RequiresMinArgs(1): words after the repository are taken and ignored.
  command: "import <file> [repository] [ignored..]",
  describe: "Import the contents from a tarball (file, - for STDIN, or URL) to create a filesystem image",
  builder: (y) =>
    y
      .positional("file", { type: "string", describe: "file|URL|-" })
      .positional("repository", { type: "string", describe: "REPOSITORY[:TAG]" })
      .option("change", { alias: "c", type: "string", array: true, describe: "Apply Dockerfile instruction to the created image" })
      .option("message", { alias: "m", type: "string", describe: "Set commit message for imported image" }),
  async run(ctx, argv, io) {
    const { importImage } = await import("../../build/import.ts");
    const id = await importImage(ctx, {
      // yargs reads a lone "-" (STDIN) as an empty string.
      source: argv.file === "" ? "-" : String(argv.file),
      ...(argv.repository !== undefined ? { target: String(argv.repository) } : {}),
      changes: list(argv.change),
      ...(argv.message !== undefined ? { message: String(argv.message) } : {}),
    });
    io.out(`${id}\n`);
  },
};
