import type { CommandSpec } from "../command.ts";
import { eachContainer, isRunning, targetContainers } from "./each.ts";

export const kill: CommandSpec = {
  command: "kill [containers..]",
  describe: "Kill one or more running containers",
  builder: (y) =>
    y
      .option("signal", { alias: "s", type: "string", default: "KILL", describe: "Signal to send to the container" })
      .option("all", { alias: "a", type: "boolean", default: false, describe: "Kill all running containers (podman)" }),
  async run(ctx, argv, io) {
    const { killContainer } = await import("../../lifecycle/stop.ts");
    const { parseSignal } = await import("../../lifecycle/signals.ts");
    parseSignal(String(argv.signal)); // a bad signal fails before anything is sent
    const refs = await targetContainers(ctx, argv, isRunning);
    return eachContainer(ctx, refs, io, (c) => killContainer(ctx, c, String(argv.signal)));
  },
};
