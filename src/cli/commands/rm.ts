import type { CommandSpec } from "../command.ts";
import { intFlag } from "../flags.ts";
import { eachContainer, targetContainers } from "./each.ts";

export const rm: CommandSpec = {
  command: "rm [containers..]",
  describe: "Remove one or more containers",
  builder: (y) =>
    y
      .option("force", { alias: "f", type: "boolean", default: false, describe: "Force the removal of a running container (uses SIGKILL)" })
      .option("volumes", { alias: "v", type: "boolean", default: false, describe: "Remove anonymous volumes associated with the container" })
      .option("all", { alias: "a", type: "boolean", default: false, describe: "Remove all containers (podman)" })
      .option("ignore", { alias: "i", type: "boolean", default: false, describe: "Ignore errors when a container is missing (podman)" })
      .option("time", {
        alias: "t",
        type: "string",
        coerce: intFlag("-t, --time"),
        describe: "With --force: seconds to wait for the container to stop before killing it (podman)",
      }),
  async run(ctx, argv, io) {
    const refs = await targetContainers(ctx, argv, () => true);
    const { removeContainer } = await import("../../lifecycle/remove.ts");
    const force = Boolean(argv.force);
    const timeoutS = typeof argv.time === "number" ? argv.time : undefined;
    return eachContainer(
      ctx,
      refs,
      io,
      async (c) => {
        // podman's rm -f -t N: a stop with that grace first, then the removal.
        if (force && timeoutS !== undefined && c.state.Running) {
          const { stopContainer } = await import("../../lifecycle/stop.ts");
          await stopContainer(ctx, c, { timeoutS });
        }
        await removeContainer(ctx, c, { force, volumes: Boolean(argv.volumes) });
      },
      { ignoreMissing: Boolean(argv.ignore) },
    );
  },
};

export const containerRm: CommandSpec = { ...rm, command: ["rm [containers..]", "remove"] };
