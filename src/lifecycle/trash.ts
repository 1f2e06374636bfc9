// A container directory leaves the listing in one rename (to .trash-<id>-<pid>, which `ps` does not
// list and reconcile deletes), before it is deleted: a crash mid-delete never leaves half a container.
import fs from "node:fs";
import path from "node:path";
import { errnoCode } from "../errors.ts";
import { containerPaths } from "../store/containers.ts";

export const TRASH_PREFIX = ".trash-";

/** Renames the container's directory out of the listing: where it went (undefined: it was gone). */
export function trashContainerDir(root: string, id: string): string | undefined {
  const dir = containerPaths(root, id).dir;
  const trash = path.join(path.dirname(dir), `${TRASH_PREFIX}${id}-${process.pid}`);
  try {
    fs.renameSync(dir, trash);
    return trash;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}
