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
    const fs = await import("node:fs");
    const { saveImages } = await import("../../rootfs/save.ts");
    const format = String(argv.format);
    if (format !== "docker-archive" && format !== "oci-archive") {
      throw new InvalidArgumentError(`Cannot save in format "${format}": want docker-archive or oci-archive`);
    }
    const output = typeof argv.output === "string" ? argv.output : undefined;
    if (output === undefined && io.stdoutTty) {
      throw new InvalidArgumentError("Cannot write to a terminal: the archive is binary (use -o FILE or redirect STDOUT)");
    }
    const tmp = output === undefined ? undefined : `${output}.tmp-${process.pid}`;
    const fd = tmp === undefined ? 1 : fs.openSync(tmp, "w", 0o644);
    try {
      await saveImages(ctx, (argv.images as unknown[]).map(String), format, (bytes) => {
        let off = 0;
        while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      });
      if (tmp !== undefined) fs.renameSync(tmp, output!);
    } finally {
      if (tmp !== undefined) {
        fs.closeSync(fd);
        fs.rmSync(tmp, { force: true });
      }
    }
  },
};
