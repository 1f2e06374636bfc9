import type { CommandSpec } from "../command.ts";

/** docker/cli inspect.Inspect: StatusError 64 when the format is not a template. */
const TEMPLATE_PARSE_EXIT = 64;

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
    // Docker's inspect: a container by that name, else an image (unless --type says which).
    const image = async (ref: string) => {
      const { resolveImage } = await import("../../store/images.ts");
      const { storeLayout } = await import("../../store/layout.ts");
      const { inspectImage } = await import("../views/images.ts");
      return inspectImage(ctx, resolveImage(storeLayout(ctx.root), ref).record);
    };
    for (const ref of (argv.names as unknown[]).map(String)) {
      try {
        if (argv.type !== "image") {
          try {
            out.push(inspectContainer(ctx, findLive(ctx, ref), cache));
            continue;
          } catch (err) {
            if (!isKind(err, "NotFound") || argv.type === "container") throw err;
          }
        }
        try {
          out.push(await image(ref));
        } catch {
          throw new Error(`No such object: ${ref}`);
        }
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

export const containerInspect: CommandSpec = {
  ...inspect,
  describe: "Display detailed information on one or more containers",
  builder: (y) => inspect.builder!(y),
  run: (ctx, argv, io) => inspect.run(ctx, { ...argv, type: "container" }, io),
};
