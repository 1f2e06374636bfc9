import type { CommandSpec } from "../command.ts";

export const diff: CommandSpec = {
  command: "diff <container>",
  describe: "Inspect changes to files or directories on a container's filesystem",
  builder: (y) => y.positional("container", { type: "string", describe: "CONTAINER" }),
  async run(ctx, argv, io) {
    const { containerChanges } = await import("../../lifecycle/diff.ts");
    const changes = await containerChanges(ctx, String(argv.container));
    io.out(changes.map((c) => `${c.kind} ${c.path}\n`).join(""));
  },
};
