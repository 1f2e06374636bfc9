import type { CommandSpec } from "../command.ts";

export const inspect: CommandSpec = {
  command: "inspect <names..>",
  describe: "Return low-level information on containers (or images)",
  builder: (y) =>
    y
      .option("format", { alias: "f", type: "string", describe: "Format the output using the given Go template" })
      .option("type", { type: "string", choices: ["container", "image"], describe: "Only inspect objects of this type" })
      .option("size", { alias: "s", type: "boolean", default: false, describe: "Display total file sizes (accepted)" }),
  async run(ctx, argv, io) {
    const { findLive } = await import("../../lifecycle/live.ts");
    const { inspectContainer } = await import("../../lifecycle/inspect.ts");
    const { describeError, isKind } = await import("../../errors.ts");
    const tpl = typeof argv.format === "string" ? (await import("../template.ts")).compileTemplate(argv.format) : undefined;
    const cache = new Map();
    const out: unknown[] = [];
    let code = 0;
    for (const ref of (argv.names as unknown[]).map(String)) {
      try {
        if (argv.type === "image") throw Object.assign(new Error(), { image: true });
        out.push(inspectContainer(ctx, findLive(ctx, ref), cache));
      } catch (err) {
        if (!(err as { image?: boolean }).image && !isKind(err, "NotFound")) {
          io.err(`Error: ${describeError(err)}\n`);
          code = 1;
          continue;
        }
        if (argv.type === "container") {
          io.err(`Error: No such container: ${ref}\n`);
          code = 1;
          continue;
        }
        // Docker's inspect falls back to an image of that name.
        try {
          const { resolveImage } = await import("../../store/images.ts");
          const { storeLayout } = await import("../../store/layout.ts");
          const { inspectImage } = await import("../views/images.ts");
          out.push(inspectImage(ctx, resolveImage(storeLayout(ctx.root), ref).record));
        } catch {
          io.err(`Error: No such object: ${ref}\n`);
          code = 1;
        }
      }
    }
    if (tpl) io.out(out.map((o) => `${tpl(o)}\n`).join(""));
    else io.out(`${JSON.stringify(out, null, 4)}\n`);
    return code;
  },
};

export const containerInspect: CommandSpec = {
  ...inspect,
  describe: "Display detailed information on one or more containers",
  builder: (y) => inspect.builder!(y),
  run: (ctx, argv, io) => inspect.run(ctx, { ...argv, type: "container" }, io),
};
