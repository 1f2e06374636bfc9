import type { CommandSpec } from "../command.ts";
import { eachContainer } from "./each.ts";

export const kill: CommandSpec = {
  command: "kill <containers..>",
  describe: "Kill one or more running containers",
  builder: (y) => y.option("signal", { alias: "s", type: "string", default: "KILL", describe: "Signal to send to the container" }),
  async run(ctx, argv, io) {
    const { killContainer } = await import("../../lifecycle/stop.ts");
    const { parseSignal } = await import("../../lifecycle/signals.ts");
    parseSignal(String(argv.signal)); // a bad signal fails before anything is sent
    return eachContainer(ctx, argv.containers, io, (c) => killContainer(ctx, c, String(argv.signal)));
  },
};
