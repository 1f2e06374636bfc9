import type { CommandSpec } from "../command.ts";

export const top: CommandSpec = {
  command: "top <container> [psOptions..]",
  describe: "Display the running processes of a container",
  async run(ctx, argv, io) {
    const { findLive } = await import("../../lifecycle/live.ts");
    const { topContainer } = await import("../../lifecycle/top.ts");
    const { table } = await import("../format.ts");
    const r = topContainer(ctx, findLive(ctx, String(argv.container)), ((argv.command ?? argv.psOptions) as unknown[] | undefined ?? []).map(String));
    io.out(table(r.titles, r.processes));
  },
};
