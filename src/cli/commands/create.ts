import type { CommandSpec } from "../command.ts";
import { CREATE_OPTIONS, list, str, yargsOption } from "./run.ts";

export const create: CommandSpec = {
  command: "create <image> [command..]",
  describe: "Create a new container",
  engine: true,
  builder: (y) => {
    y.positional("image", { type: "string", describe: "IMAGE" }).positional("command", { type: "string", array: true, describe: "COMMAND [ARG...]" });
    for (const o of CREATE_OPTIONS) y.option(o.name, yargsOption(o));
    return y;
  },
  async run(ctx, argv, io) {
    if (argv.replace === true) await (await import("./replace.ts")).replaceNamed(ctx, argv);
    const { createCommand } = await import("../run-command.ts");
    const adjust = argv.pod === undefined ? undefined : async (req: import("../../lifecycle/run/request.ts").RunRequest) => (await import("../../pod/join.ts")).joinPod(ctx, req, String(argv.pod));
    return await createCommand(ctx, argv, io, { list, str, ...(adjust ? { adjust } : {}) });
  },
};
