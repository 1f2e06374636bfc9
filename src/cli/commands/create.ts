import { CREATE_OPTIONS, containerSpec } from "./run.ts";

export const create = containerSpec("create <image> [command..]", "Create a new container", CREATE_OPTIONS, "createCommand");
