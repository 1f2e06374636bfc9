// --device-cgroup-rule 'c 1:3 rwm': an allow rule added to the container's device rules, in the
// grammar of Docker's validateDeviceCgroupRule (`^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$`).
// Pure.
import { ParseError } from "../errors.ts";
import type { DeviceRule } from "./cgroups/devices.ts";

const RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

export function parseDeviceCgroupRule(input: string): DeviceRule {
  const m = RULE.exec(input);
  if (!m) throw new ParseError(`Cannot parse device cgroup rule "${input}": invalid device cgroup format (expected "TYPE MAJOR:MINOR ACCESS", e.g. 'c 1:3 rwm')`);
  if (new Set(m[4]).size !== m[4]!.length) throw new ParseError(`Cannot parse device cgroup rule "${input}": access "${m[4]}" repeats a letter`);
  for (const n of [m[2]!, m[3]!]) if (n !== "*" && Number(n) > 0x7fffffff) throw new ParseError(`Cannot parse device cgroup rule "${input}": ${n} is too large for a device number`);
  // devices.allow reads "a" alone as every device; "a 1:3 r" would be read the same.
  return { allow: true, rule: m[1] === "a" ? "a" : input };
}
