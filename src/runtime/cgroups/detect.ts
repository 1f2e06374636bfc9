// v2 when the root itself is a cgroup2 mount; v1 otherwise. A hybrid host's v2 mount under the
// root ("unified") holds no controller Docker limits, so it is ignored.
import fs from "node:fs";
import path from "node:path";
import type { CgroupManager, CgroupOptions } from "./cgroup.ts";
import { createV1Manager } from "./v1.ts";
import { createV2Manager } from "./v2.ts";

export function detectCgroups(root: string, options: CgroupOptions = {}): CgroupManager {
  return fs.existsSync(path.join(root, "cgroup.controllers")) ? createV2Manager(root, options) : createV1Manager(root, options);
}
