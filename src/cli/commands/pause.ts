import type { CommandSpec } from "../command.ts";
import { eachContainer, targetContainers } from "./each.ts";

/** pause and unpause: the containers named, or with --all every one in the state the verb leaves. */
export function freezerVerb(verb: "pause" | "unpause"): CommandSpec {
  const pausing = verb === "pause";
  const Verb = pausing ? "Pause" : "Unpause";
  const from = pausing ? "running" : "paused";
  return {
    command: `${verb} [containers..]`,
    describe: `${Verb} all processes within one or more containers`,
    builder: (y) => y.option("all", { alias: "a", type: "boolean", default: false, describe: `${Verb} all ${from} containers (podman)` }),
    async run(ctx, argv, io) {
      const refs = await targetContainers(ctx, argv, (c) => c.state.Status === from);
      const { pauseContainer, unpauseContainer } = await import("../../lifecycle/pause.ts");
      return eachContainer(ctx, refs, io, (c) => (pausing ? pauseContainer : unpauseContainer)(ctx, c));
    },
  };
}

export const pause = freezerVerb("pause");
