import type { CommandSpec } from "../command.ts";

/**
 * A cold pull runs ~2× the image's size through fresh buffers, and Bun's allocator (mimalloc) hands
 * freed pages back to the kernel after 10 ms, then faults them in again: measured, a third to a half
 * of the pull's page faults and ~15% of its CPU. The option is read only at process start, so a
 * pull of an image not in the store re-executes itself once with it set (~20 ms, against seconds
 * of download); a pull of an image it has (the warm check CI scripts make) does not.
 */
const PURGE_DELAY = "MIMALLOC_PURGE_DELAY";

async function wantsReexec(root: string, text: string): Promise<boolean> {
  if (process.env[PURGE_DELAY] !== undefined || typeof process.execve !== "function") return false;
  const { storeLayout } = await import("../../store/layout.ts");
  const { resolveImage } = await import("../../store/images.ts");
  try {
    resolveImage(storeLayout(root), text);
    return false;
  } catch {
    return true;
  }
}

export const pull: CommandSpec = {
  command: "pull <image>",
  describe: "Download an image from a registry",
  builder: (y) =>
    y
      .positional("image", { type: "string", describe: "NAME[:TAG|@DIGEST]" })
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Suppress verbose output" })
      .option("platform", { type: "string", describe: "Set platform if server is multi-platform capable (os[/arch[/variant]])" }),
  async run(ctx, argv, io) {
    if (await wantsReexec(ctx.root, String(argv.image))) {
      process.execve!(process.execPath, [process.execPath, ...process.argv.slice(2)], { ...process.env, [PURGE_DELAY]: "-1" });
    }
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
