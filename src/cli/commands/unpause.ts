import type { CommandSpec } from "../command.ts";
import { eachContainer } from "./each.ts";

export const unpause: CommandSpec = {
  command: "unpause <containers..>",
  describe: "Unpause all processes within one or more containers",
  async run(ctx, argv, io) {
    const { unpauseContainer } = await import("../../lifecycle/pause.ts");
    return eachContainer(ctx, argv.containers, io, (c) => unpauseContainer(ctx, c));
  },
};
