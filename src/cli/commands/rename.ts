import type { CommandSpec } from "../command.ts";

export const rename: CommandSpec = {
  command: "rename <container> <name>",
  describe: "Rename a container",
  async run(ctx, argv) {
    const { findLive } = await import("../../lifecycle/live.ts");
    const { renameContainer } = await import("../../lifecycle/rename.ts");
    await renameContainer(ctx, findLive(ctx, String(argv.container)), String(argv.name));
  },
};
