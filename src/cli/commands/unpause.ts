import type { CommandSpec } from "../command.ts";
import { eachContainer, targetContainers } from "./each.ts";

export const unpause: CommandSpec = {
  command: "unpause [containers..]",
  describe: "Unpause all processes within one or more containers",
  builder: (y) => y.option("all", { alias: "a", type: "boolean", default: false, describe: "Unpause all paused containers (podman)" }),
  async run(ctx, argv, io) {
    const refs = await targetContainers(ctx, argv, (c) => c.state.Status === "paused");
    const { unpauseContainer } = await import("../../lifecycle/pause.ts");
    return eachContainer(ctx, refs, io, (c) => unpauseContainer(ctx, c));
  },
};
