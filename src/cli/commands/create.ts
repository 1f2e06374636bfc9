import { booleanFlags, containerSpec, RUN_OPTIONS, type RunOption } from "./run.ts";

/** create's options: run's, but a created container is started by `start` (no -d). Here, not in run.ts: `run` never computes them. */
export const CREATE_OPTIONS: readonly RunOption[] = RUN_OPTIONS.filter((o) => o.name !== "detach");

export const CREATE_BOOLEAN_FLAGS = booleanFlags(CREATE_OPTIONS);

export const create = containerSpec("create <image> [command..]", "Create a new container", CREATE_OPTIONS, "createCommand");
