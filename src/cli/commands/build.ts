import type { CommandSpec } from "../command.ts";

export const build: CommandSpec = {
  command: "build <context>",
  describe: "Build an image from a Dockerfile",
  builder: (y) =>
    y
      .positional("context", { type: "string", describe: "PATH | -" })
      .option("tag", { alias: "t", type: "string", array: true, describe: 'Name and optionally a tag in the "name:tag" format' })
      .option("file", { alias: "f", type: "string", describe: "Name of the Dockerfile (default: PATH/Dockerfile)" })
      .option("build-arg", { type: "string", array: true, describe: "Set build-time variables" })
      .option("target", { type: "string", describe: "Set the target build stage to build" })
      .option("no-cache", { type: "boolean", default: false, describe: "Do not use cache when building the image" })
      .option("pull", { type: "boolean", default: false, describe: "Always attempt to pull a newer version of the image" })
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Suppress the build output and print image ID on success" })
      .option("label", { type: "string", array: true, describe: "Set metadata for an image" })
      .option("network", { type: "string", default: "bridge", describe: "Set the networking mode for the RUN instructions during build" })
      .option("platform", { type: "string", describe: "Set platform if server is multi-platform capable" })
      .option("iidfile", { type: "string", describe: "Write the image ID to the file" }),
  async run(ctx, argv, io) {
    const { buildCommand } = await import("../build-command.ts");
    return await buildCommand(ctx, argv, io);
  },
};
