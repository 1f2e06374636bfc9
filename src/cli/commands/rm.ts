import type { CommandSpec } from "../command.ts";
import { EXIT_ENGINE } from "../exit.ts";
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
    const { isInfraContainer } = await import("../../store/containers.ts");
    // A pod's infra goes with its pod (pod rm): --all leaves it, naming it is refused, as podman does.
    const refs = await targetContainers(ctx, argv, (c) => !isInfraContainer(c.record));
    const { removeContainer } = await import("../../lifecycle/remove.ts");
    const force = Boolean(argv.force);
    const timeoutS = typeof argv.time === "number" ? argv.time : undefined;
    let infraRefused = false;
    const code = await eachContainer(
      ctx,
      refs,
      io,
      async (c) => {
        if (isInfraContainer(c.record)) {
          infraRefused = true;
          const { FailedPreconditionError } = await import("../../errors.ts");
          throw new FailedPreconditionError(`container ${c.record.id} is the infra container of pod ${c.record.pod} and cannot be removed without removing the pod`);
        }
        // podman's rm -f -t N: a stop with that grace first, then the removal.
        if (force && timeoutS !== undefined && c.state.Running) {
          const { stopContainer } = await import("../../lifecycle/stop.ts");
          await stopContainer(ctx, c, { timeoutS });
        }
        await removeContainer(ctx, c, { force, volumes: Boolean(argv.volumes) });
      },
      // Docker's rm -f: a container that is not there is said, and is no failure.
      { ignoreMissing: Boolean(argv.ignore), warnMissing: force },
    );
    return infraRefused ? EXIT_ENGINE : code;
  },
};

export const containerRm: CommandSpec = { ...rm, command: ["rm [containers..]", "remove"] };
