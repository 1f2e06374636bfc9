// `docker rename`: names are unique across containers, so the check and the write happen under
// the names lock (and the container's own lock).
import fs from "node:fs";
import path from "node:path";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import { checkNameFree, containerPaths, readContainer, saveContainer, withContainerLock, withNamesLock } from "../store/containers.ts";
import { readLive, type LiveContainer } from "./live.ts";
import { checkTransition } from "./state.ts";
import { actorOf, appendEvent } from "./events.ts";

export async function renameContainer(ctx: Ctx, c0: LiveContainer, newName: string): Promise<void> {
  const name = newName.startsWith("/") ? newName.slice(1) : newName;
  if (name === "") throw new InvalidArgumentError("Neither old nor new names may be empty");
  const id = c0.record.id;
  await withNamesLock(ctx, () =>
    withContainerLock(ctx, id, () => {
      const rec = readContainer(ctx.root, id);
      if (!rec) throw new InvalidArgumentError(`No such container: ${id}`);
      checkTransition(readLive(ctx, rec).state.Status, "rename", id);
      if (rec.name === name) throw new InvalidArgumentError("Renaming a container with the same name as its current name");
      checkNameFree(ctx.root, name);
      saveContainer(ctx.root, { ...rec, name });
      // The monitor names the container in its events from this file.
      fs.writeFileSync(path.join(containerPaths(ctx.root, id).dir, "name"), name);
      appendEvent(ctx.root, "rename", actorOf({ ...rec, name }), { oldName: `/${rec.name}` });
    }),
  );
}
