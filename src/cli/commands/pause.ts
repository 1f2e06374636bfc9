import type { CommandSpec } from "../command.ts";
import { eachContainer } from "./each.ts";

export const pause: CommandSpec = {
  command: "pause <containers..>",
  describe: "Pause all processes within one or more containers",
  async run(ctx, argv, io) {
    const { pauseContainer } = await import("../../lifecycle/pause.ts");
    return eachContainer(ctx, argv.containers, io, (c) => pauseContainer(ctx, c));
  },
};
