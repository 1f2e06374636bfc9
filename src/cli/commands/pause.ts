import type { CommandSpec } from "../command.ts";
import { eachContainer, targetContainers } from "./each.ts";

export const pause: CommandSpec = {
  command: "pause [containers..]",
  describe: "Pause all processes within one or more containers",
  builder: (y) => y.option("all", { alias: "a", type: "boolean", default: false, describe: "Pause all running containers (podman)" }),
  async run(ctx, argv, io) {
    const refs = await targetContainers(ctx, argv, (c) => c.state.Status === "running");
    const { pauseContainer } = await import("../../lifecycle/pause.ts");
    return eachContainer(ctx, refs, io, (c) => pauseContainer(ctx, c));
  },
};
