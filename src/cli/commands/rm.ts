import type { CommandSpec } from "../command.ts";
import { eachContainer } from "./each.ts";

export const rm: CommandSpec = {
  command: "rm <containers..>",
  describe: "Remove one or more containers",
  builder: (y) =>
    y
      .option("force", { alias: "f", type: "boolean", default: false, describe: "Force the removal of a running container (uses SIGKILL)" })
      .option("volumes", { alias: "v", type: "boolean", default: false, describe: "Remove anonymous volumes associated with the container" }),
  async run(ctx, argv, io) {
    const { removeContainer } = await import("../../lifecycle/remove.ts");
    return eachContainer(ctx, argv.containers, io, (c) => removeContainer(ctx, c, { force: Boolean(argv.force), volumes: Boolean(argv.volumes) }));
  },
};

export const containerRm: CommandSpec = { ...rm, command: ["rm <containers..>", "remove"] };
