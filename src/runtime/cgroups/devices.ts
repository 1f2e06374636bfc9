// Docker's default device cgroup rules for a container that is not --privileged: moby's
// oci/defaults.go DefaultLinuxSpec().Linux.Resources.Devices, followed by the rules runc appends to
// every container (libcontainer/specconv AllowedDevices). On v1 they are written to devices.deny /
// devices.allow in this order. On v2 the device controller is an eBPF program attached to the
// cgroup: devicefilter.ts compiles the same list into one.

export interface DeviceRule {
  allow: boolean;
  /** "type major:minor access" as devices.allow takes it; "a" alone means every device. */
  rule: string;
}

export const DOCKER_DEVICE_RULES: readonly DeviceRule[] = [
  // moby oci/defaults.go
  { allow: false, rule: "a" },
  { allow: true, rule: "c 1:5 rwm" }, // /dev/zero
  { allow: true, rule: "c 1:3 rwm" }, // /dev/null
  { allow: true, rule: "c 1:9 rwm" }, // /dev/urandom
  { allow: true, rule: "c 1:8 rwm" }, // /dev/random
  { allow: true, rule: "c 5:0 rwm" }, // /dev/tty
  { allow: true, rule: "c 5:1 rwm" }, // /dev/console
  { allow: false, rule: "c 10:229 rwm" }, // /dev/fuse
  // runc specconv AllowedDevices
  { allow: true, rule: "c *:* m" }, // mknod of any character device
  { allow: true, rule: "b *:* m" }, // and of any block device
  { allow: true, rule: "c 1:3 rwm" }, // /dev/null
  { allow: true, rule: "c 1:8 rwm" }, // /dev/random
  { allow: true, rule: "c 1:7 rwm" }, // /dev/full
  { allow: true, rule: "c 5:0 rwm" }, // /dev/tty
  { allow: true, rule: "c 1:5 rwm" }, // /dev/zero
  { allow: true, rule: "c 1:9 rwm" }, // /dev/urandom
  { allow: true, rule: "c 136:* rwm" }, // /dev/pts/*
  { allow: true, rule: "c 5:2 rwm" }, // /dev/ptmx
  { allow: true, rule: "c 10:200 rwm" }, // /dev/net/tun
];

/**
 * The rules as v1's devices.allow/devices.deny need them written: an allow rule that repeats one
 * already in force (the same rule, nothing since for its type and numbers, no "a") changes nothing
 * in the kernel (the exception is merged) and is left out: Docker's list repeats five of runc's.
 */
export function v1DeviceWrites(rules: readonly DeviceRule[]): DeviceRule[] {
  const inForce = new Map<string, string>();
  const out: DeviceRule[] = [];
  for (const d of rules) {
    // The kernel reads any rule starting with "a" as every device; the others by type and numbers.
    const [type, numbers] = d.rule.trim().split(/\s+/);
    const key = type === undefined || type.startsWith("a") ? "a" : `${type} ${numbers}`;
    if (key === "a") inForce.clear();
    else if (!d.allow) inForce.delete(key);
    else if (inForce.get(key) === d.rule) continue;
    else inForce.set(key, d.rule);
    out.push(d);
  }
  return out;
}
