import type { CommandSpec } from "../command.ts";
import { eachContainer } from "./each.ts";

export const wait: CommandSpec = {
  command: "wait <containers..>",
  describe: "Block until one or more containers stop, then print their exit codes",
  async run(ctx, argv, io) {
    const { waitContainer } = await import("../../lifecycle/wait.ts");
    return eachContainer(ctx, argv.containers, io, async (c) => String(await waitContainer(ctx, c)));
  },
};
