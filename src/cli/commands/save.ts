import { InvalidArgumentError } from "../../errors.ts";
import type { CommandSpec } from "../command.ts";

/** How long the reader of STDOUT may take nothing before the save gives up. */
const STALL_MS = 10 * 60 * 1000;

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
      await saveImages(ctx, (argv.images as unknown[]).map(String), format, async (bytes) => {
        // STDOUT may be a non-blocking pipe: wait for the reader, but not forever.
        let off = 0;
        let waitedMs = 0;
        while (off < bytes.length) {
          try {
            off += fs.writeSync(fd, bytes, off, bytes.length - off);
            waitedMs = 0;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EAGAIN" || waitedMs > STALL_MS) throw err;
            await Bun.sleep(2);
            waitedMs += 2;
          }
        }
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
