import type { CommandSpec } from "../command.ts";

export const pull: CommandSpec = {
  command: "pull <image>",
  describe: "Download an image from a registry",
  builder: (y) =>
    y
      .positional("image", { type: "string", describe: "NAME[:TAG|@DIGEST]" })
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Suppress verbose output" })
      .option("platform", { type: "string", describe: "Set platform if server is multi-platform capable (os[/arch[/variant]])" }),
  async run(ctx, argv, io) {
    const { pullImage } = await import("../../rootfs/pull.ts");
    const { parsePlatform } = await import("../../image/platform.ts");
    const { parseReference, familiarString, formatReference } = await import("../../image/reference.ts");
    const { progressView } = await import("../progress.ts");
    const text = String(argv.image);
    const quiet = Boolean(argv.quiet);
    const ref = parseReference(text, { defaultTag: false });
    const defaultTag = ref.tag === undefined && ref.digest === undefined;
    if (defaultTag) ref.tag = "latest";
    if (!quiet) {
      if (defaultTag) io.out("Using default tag: latest\n");
      io.out(`${ref.digest ?? ref.tag}: Pulling from ${ref.repository}\n`);
    }
    const view = progressView(process.stdout, io.stdoutTty, quiet);
    const opts: Parameters<typeof pullImage>[2] = {
      onLayers: (ids) => view.layers(ids),
      onProgress: (p) => view.update(p),
    };
    if (typeof argv.platform === "string") opts.platform = parsePlatform(argv.platform, ctx.platform);
    const result = await pullImage(ctx, text, opts);
    view.done();
    if (!quiet) {
      io.out(`Digest: ${result.digest}\n`);
      io.out(
        result.changed
          ? `Status: Downloaded newer image for ${familiarString(ref)}\n`
          : `Status: Image is up to date for ${familiarString(ref)}\n`,
      );
    }
    io.out(`${formatReference(ref)}\n`);
  },
};
