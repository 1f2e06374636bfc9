import type { CommandSpec } from "../command.ts";

/** docker/cli inspect.Inspect: StatusError 64 when the format is not a template. */
const TEMPLATE_PARSE_EXIT = 64;

export const inspect: CommandSpec = {
  command: "inspect <names..>",
  describe: "Return low-level information on containers (or images)",
  builder: (y) =>
    y
      .option("format", { alias: "f", type: "string", describe: "Format the output using the given Go template" })
      .option("type", { type: "string", choices: ["container", "image", "network", "volume"], describe: "Only inspect objects of this type" })
      .option("size", { alias: "s", type: "boolean", default: false, describe: "Display total file sizes if the type is container" }),
  async run(ctx, argv, io) {
    const { findLive } = await import("../../lifecycle/live.ts");
    const { inspectContainer } = await import("../../lifecycle/inspect.ts");
    const { describeError, isKind } = await import("../../errors.ts");
    let tpl: ((data: unknown) => string) | undefined;
    if (typeof argv.format === "string") {
      const { compileTemplate, TemplateError } = await import("../template.ts");
      try {
        tpl = compileTemplate(argv.format);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        // Docker's inspect: a format that does not parse exits 64 before any lookup.
        io.err(`Error: ${err.message}\n`);
        return TEMPLATE_PARSE_EXIT;
      }
    }
    const cache = new Map();
    const out: unknown[] = [];
    let code = 0;
    // Docker's inspect: a container by that name, else an image, a network, a volume (unless --type
    // says which); the first that has it answers.
    const { NotFoundError } = await import("../../errors.ts");
    const kinds: [string, (ref: string) => Promise<unknown>][] = [
      [
        "container",
        async (ref) => {
          const c = findLive(ctx, ref);
          const o = inspectContainer(ctx, c, cache);
          return argv.size ? { ...o, ...(await containerSizes(ctx, c.record)) } : o;
        },
      ],
      [
        "image",
        async (ref) => {
          const { resolveImage } = await import("../../store/images.ts");
          const { storeLayout } = await import("../../store/layout.ts");
          const { inspectImage } = await import("../views/images.ts");
          return inspectImage(ctx, resolveImage(storeLayout(ctx.root), ref).record);
        },
      ],
      [
        "network",
        async (ref) => {
          const { findNetwork } = await import("../../network/networks.ts");
          const { networkMembers } = await import("../../network/addresses.ts");
          const { inspectNetwork } = await import("../../network/inspect.ts");
          const net = findNetwork(ctx, ref);
          return inspectNetwork(net, net.driver === "bridge" ? networkMembers(ctx, net) : []);
        },
      ],
      [
        "volume",
        async (ref) => {
          const { readVolume } = await import("../../store/volumes.ts");
          const { inspectVolume } = await import("./volume.ts");
          const v = readVolume(ctx.root, ref);
          if (!v) throw new NotFoundError(`No such volume: ${ref}`);
          return inspectVolume(v);
        },
      ],
    ];
    const wanted = kinds.filter(([k]) => argv.type === undefined || argv.type === k);
    for (const ref of (argv.names as unknown[]).map(String)) {
      try {
        let found = false;
        for (const [kind, lookup] of wanted) {
          try {
            out.push(await lookup(ref));
            found = true;
            break;
          } catch (err) {
            // Not found: the next type; `--type container` answers in its own words. An image
            // reference that does not parse is not found either.
            if (kind === "container" ? argv.type === "container" || !isKind(err, "NotFound") : kind !== "image" && !isKind(err, "NotFound")) throw err;
          }
        }
        if (!found) throw new Error(`No such object: ${ref}`);
      } catch (err) {
        io.err(`Error: ${describeError(err)}\n`);
        code = 1;
      }
    }
    if (tpl) {
      // An object the template fails on is an error of its own; the others still print.
      let text = "";
      const failed: string[] = [];
      for (const o of out) {
        try {
          text += `${tpl(o)}\n`;
        } catch (err) {
          failed.push(describeError(err));
          code = 1;
        }
      }
      io.out(text);
      for (const f of failed) io.err(`Error: ${f}\n`);
    } else io.out(`${JSON.stringify(out, null, 4)}\n`);
    return code;
  },
};

/** `inspect --size`: the container's writable layer (SizeRw) and that with its image's (SizeRootFs), as Docker's. */
async function containerSizes(ctx: import("../../context.ts").Ctx, rec: { id: string; imageId: string }): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const { diskUsage } = await import("../../lifecycle/reconcile.ts");
  const { containerPaths } = await import("../../store/containers.ts");
  const { loadContainerImage } = await import("../../store/images.ts");
  const { storeLayout } = await import("../../store/layout.ts");
  const { imageSize } = await import("../views/images.ts");
  const rw = diskUsage(containerPaths(ctx.root, rec.id).upper);
  const image = loadContainerImage(storeLayout(ctx.root), rec.imageId);
  return { SizeRw: rw, SizeRootFs: rw + (image ? imageSize(image) : 0) };
}

export const containerInspect: CommandSpec = {
  ...inspect,
  describe: "Display detailed information on one or more containers",
  builder: (y) => inspect.builder!(y),
  run: (ctx, argv, io) => inspect.run(ctx, { ...argv, type: "container" }, io),
};
