// Where a container's cgroup directories are: state.json's cgroupPath when the supervisor recorded
// it, else tinydock/<id> under every v1 hierarchy or under the v2 root. One locator per command,
// so `ps` over many containers discovers the hierarchies once.
import fs from "node:fs";
import path from "node:path";
import { CGROUP_PARENT } from "../runtime/cgroups/cgroup.ts";
import type { ContainerRecord } from "../store/containers.ts";

export interface FreezerFile {
  version: 1 | 2;
  /** v1: <dir>/freezer.state; v2: <dir>/cgroup.freeze. */
  file: string;
  dir: string;
}

export interface CgroupLocator {
  /** Every directory the container's cgroup may have (existing or not). */
  dirs(id: string, recorded?: string[]): string[];
  /** The recorded dirs and the tinydock/<id> ones by name: what a teardown must leave absent. */
  allDirs(id: string, recorded?: string[]): string[];
  freezer(id: string, recorded?: string[]): FreezerFile | undefined;
  /** v1 or v2, as the engine itself would pick (detect.ts). */
  version: 1 | 2;
}

export function cgroupLocator(cgroupRoot: string): CgroupLocator {
  const v2 = fs.existsSync(path.join(cgroupRoot, "cgroup.controllers"));
  let parents: string[] | undefined;
  const parentDirs = () =>
    (parents ??= v2
      ? [path.join(cgroupRoot, CGROUP_PARENT)]
      : // v1.ts (the whole v1 manager) loads only for a container whose record names no cgroup dirs.
        (require("../runtime/cgroups/v1.ts") as typeof import("../runtime/cgroups/v1.ts")).discoverV1Hierarchies(cgroupRoot).map((h) => path.join(h.dir, CGROUP_PARENT)));
  const dirs = (id: string, recorded?: string[]) => (recorded && recorded.length > 0 ? recorded : parentDirs().map((p) => path.join(p, id)));
  return {
    version: v2 ? 2 : 1,
    dirs,
    allDirs: (id, recorded) => [...new Set([...(recorded ?? []), ...dirs(id)])],
    freezer(id, recorded) {
      // v1's freezer hierarchy first, then the others in order: `ps` asks this for every running
      // container, so two plain passes (no filtered copies, no closures) and a probe by plain
      // concatenation (the kernel reads "a//b" as "a/b"); the file returned is path.join's.
      const all = dirs(id, recorded);
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i < all.length; i++) {
          const dir = all[i]!;
          if (dir.includes("/freezer") !== (pass === 0)) continue;
          if (fs.existsSync(`${dir}/freezer.state`)) return { version: 1, file: path.join(dir, "freezer.state"), dir };
          if (fs.existsSync(`${dir}/cgroup.freeze`)) return { version: 2, file: path.join(dir, "cgroup.freeze"), dir };
        }
      }
      return undefined;
    },
  };
}

/** Whether the freezer holds the cgroup frozen (FREEZING counts: pause has been asked). */
export function isFrozen(f: FreezerFile | undefined): boolean {
  if (!f) return false;
  try {
    const v = fs.readFileSync(f.file, "utf8").trim();
    return f.version === 1 ? v === "FROZEN" || v === "FREEZING" : v === "1";
  } catch {
    return false;
  }
}

/** HostConfig.CgroupParent (--cgroup-parent): where the container's cgroup is, with its id (cgroupLeaf); undefined for tinydock/<id>. */
export function cgroupParentOf(rec: Pick<ContainerRecord, "hostConfig">): string | undefined {
  const p = rec.hostConfig?.CgroupParent;
  return typeof p === "string" && p !== "" ? p : undefined;
}
