// --device: the host's device nodes, as the container sees them and as its cgroup allows them.
import fs from "node:fs";
import { InvalidArgumentError, NotFoundError } from "../../errors.ts";
import { deviceAllowRule } from "../../runtime/cgroups/devicefilter.ts";
import type { DeviceRule } from "../../runtime/cgroups/devices.ts";
import { devMajor, devMinor, type DeviceSpec } from "../../runtime/devicespec.ts";
import type { RunPlan } from "../../runtime/plan.ts";

/**
 * Each host path's node (followed through symlinks, as Docker does) as the plan makes it in the
 * container, and the device rule that lets the container use it.
 */
export function hostDevices(specs: DeviceSpec[]): { node: RunPlan["devices"][number]; rule: DeviceRule }[] {
  return specs.map((d) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(d.hostPath);
    } catch (err) {
      throw new NotFoundError(`Cannot use device "${d.hostPath}": ${(err as Error).message}`, { cause: err });
    }
    const type = st.isBlockDevice() ? "b" : st.isCharacterDevice() ? "c" : null;
    if (!type) throw new InvalidArgumentError(`Cannot use device "${d.hostPath}": not a device node`);
    const major = devMajor(st.rdev);
    const minor = devMinor(st.rdev);
    return {
      node: { path: d.containerPath, type, major, minor, mode: st.mode & 0o777, uid: 0, gid: 0 },
      rule: deviceAllowRule(type, major, minor, d.permissions),
    };
  });
}
