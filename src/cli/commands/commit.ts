import type { CommandSpec } from "../command.ts";
import { list } from "../values.ts";

export const commit: CommandSpec = {
  command: "commit <container> [repository]",
  describe: "Create a new image from a container's changes",
  builder: (y) =>
    y
      .positional("container", { type: "string", describe: "CONTAINER" })
      .positional("repository", { type: "string", describe: "REPOSITORY[:TAG]" })
      .option("change", { alias: "c", type: "string", array: true, describe: "Apply Dockerfile instruction to the created image" })
      .option("message", { alias: "m", type: "string", describe: "Commit message" })
      .option("author", { alias: "a", type: "string", describe: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' })
      .option("pause", { alias: "p", type: "boolean", default: true, describe: "Pause container during commit" }),
  async run(ctx, argv, io) {
    const { commitContainer } = await import("../../build/commit.ts");
    const id = await commitContainer(ctx, {
      container: String(argv.container),
      ...(argv.repository !== undefined ? { target: String(argv.repository) } : {}),
      changes: list(argv.change),
      ...(argv.message !== undefined ? { message: String(argv.message) } : {}),
      ...(argv.author !== undefined ? { author: String(argv.author) } : {}),
      pause: argv.pause !== false,
    });
    io.out(`${id}\n`);
  },
};
