import type { CommandSpec } from "../command.ts";
import { intFlag } from "../flags.ts";
import { eachContainer, isRunning, targetContainers } from "./each.ts";

export const stop: CommandSpec = {
  command: "stop [containers..]",
  describe: "Stop one or more running containers",
  builder: (y) =>
    y
      .option("time", { alias: ["t", "timeout"], type: "string", coerce: intFlag("-t, --time"), describe: "Seconds to wait before killing the container (default 10)" })
      .option("signal", { alias: "s", type: "string", describe: "Signal to send to the container (default: the image's StopSignal, else SIGTERM)" })
      .option("all", { alias: "a", type: "boolean", default: false, describe: "Stop all running containers (podman)" }),
  async run(ctx, argv, io) {
    const refs = await targetContainers(ctx, argv, isRunning);
    const { stopContainer } = await import("../../lifecycle/stop.ts");
    return eachContainer(ctx, refs, io, (c) =>
      stopContainer(ctx, c, {
        ...(typeof argv.time === "number" ? { timeoutS: argv.time } : {}),
        ...(typeof argv.signal === "string" ? { signal: argv.signal } : {}),
      }),
    );
  },
};
