import type { CommandSpec } from "../command.ts";
import { eachContainer } from "./each.ts";

export const restart: CommandSpec = {
  command: "restart <containers..>",
  describe: "Restart one or more containers",
  builder: (y) =>
    y
      .option("time", { alias: ["t", "timeout"], type: "number", describe: "Seconds to wait before killing the container (default 10)" })
      .option("signal", { alias: "s", type: "string", describe: "Signal to send to the container (default: the image's StopSignal, else SIGTERM)" }),
  async run(ctx, argv, io) {
    const { restartContainer } = await import("../../lifecycle/restart.ts");
    return eachContainer(ctx, argv.containers, io, (c) =>
      restartContainer(ctx, c, {
        ...(typeof argv.time === "number" ? { timeoutS: argv.time } : {}),
        ...(typeof argv.signal === "string" ? { signal: argv.signal } : {}),
      }),
    );
  },
};
