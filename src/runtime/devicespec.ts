// `--device HOST[:CONTAINER][:PERMISSIONS]` (Docker's parseDevice): a host device node made in the
// container and allowed by its device cgroup rules (v1 devices.allow, v2 the device program). Pure.
import path from "node:path";
import { ParseError } from "../errors.ts";

export interface DeviceSpec {
  hostPath: string;
  containerPath: string;
  /** Of r, w and m: what the device rules allow (default rwm). */
  permissions: string;
}

const isPermissions = (s: string) => /^[rwm]{1,3}$/.test(s) && new Set(s).size === s.length;

export function parseDeviceSpec(spec: string): DeviceSpec {
  const bad = (why: string) => new ParseError(`Cannot parse device "${spec}": ${why}`);
  const parts = spec.split(":");
  if (parts.length > 3 || parts.some((p) => p === "")) throw bad("expected HOST[:CONTAINER][:PERMISSIONS]");
  const hostPath = parts[0]!;
  let containerPath = hostPath;
  let permissions = "rwm";
  if (parts.length === 2) {
    if (isPermissions(parts[1]!)) permissions = parts[1]!;
    else containerPath = parts[1]!;
  } else if (parts.length === 3) {
    containerPath = parts[1]!;
    if (!isPermissions(parts[2]!)) throw bad(`"${parts[2]}" is not a set of r, w and m`);
    permissions = parts[2]!;
  }
  for (const p of [hostPath, containerPath]) if (!path.posix.isAbsolute(p)) throw bad(`"${p}" is not an absolute path`);
  return { hostPath, containerPath: path.posix.normalize(containerPath), permissions };
}

/** glibc's gnu_dev_major / gnu_dev_minor of a stat's rdev. */
export function devMajor(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}
export function devMinor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
}
