import type { CommandSpec } from "../command.ts";

export const push: CommandSpec = {
  command: "push <image>",
  describe: "Upload an image to a registry",
  builder: (y) =>
    y
      .positional("image", { type: "string", describe: "NAME[:TAG]" })
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Suppress verbose output" }),
  async run(ctx, argv, io) {
    const { pushImage } = await import("../../rootfs/push.ts");
    const { parseReference, familiarName } = await import("../../image/reference.ts");
    const { progressView } = await import("../progress.ts");
    const text = String(argv.image);
    const quiet = Boolean(argv.quiet);
    const ref = parseReference(text);
    if (!quiet) {
      if (!text.includes(":") || text.lastIndexOf(":") < text.lastIndexOf("/")) io.out("Using default tag: latest\n");
      io.out(`The push refers to repository [${ref.registry === "docker.io" ? `docker.io/${ref.repository}` : familiarName(ref)}]\n`);
    }
    const view = progressView(process.stdout, io.stdoutTty, quiet, "Preparing");
    const result = await pushImage(ctx, text, { onLayers: (ids) => view.layers(ids), onProgress: (p) => view.update(p) });
    view.done();
    if (quiet) io.out(`${familiarName(ref)}:${ref.tag}\n`);
    else io.out(`${ref.tag}: digest: ${result.digest} size: ${result.size}\n`);
  },
};
