// Linux capabilities: names and numbers (linux/capability.h), Docker's default set, and
// --cap-add/--cap-drop/--privileged resolved into the five sets the init applies. Pure: the
// kernel's cap_last_cap comes in as a number.
//
// Docker's rules (moby daemon/oci/caps/utils.go TweakCapabilities, oci.SetCapabilities):
//   --privileged           every capability the kernel has
//   --cap-add ALL          every capability but those in --cap-drop
//   --cap-drop ALL         only those in --cap-add
//   otherwise              the default set, minus --cap-drop, plus --cap-add
// Root gets the result as bounding, effective and permitted; a non-root user gets it as the
// bounding set only ("to match what execve does"); inheritable and ambient stay empty.
import { InvalidArgumentError, ParseError } from "../errors.ts";
import type { Capabilities } from "./plan.ts";

/** Capability names by number: CAPABILITY_NAMES[n] is capability n. */
export const CAPABILITY_NAMES: readonly string[] = Object.freeze([
  "CAP_CHOWN", // 0
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL", // 5
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE", // 10
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER", // 15
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT", // 20
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME", // 25
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL", // 30
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM", // 35
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE", // 40
]);

/** The highest capability this table names (CAP_LAST_CAP of Linux 5.9 and later). */
export const CAP_LAST_KNOWN = CAPABILITY_NAMES.length - 1;

const NUMBERS = new Map(CAPABILITY_NAMES.map((name, n) => [name, n]));

/** Docker's default set (moby daemon/oci/caps/defaults.go), in Docker's order. */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
]);

/** "net_admin", "NET_ADMIN", "cap_net_admin" → "CAP_NET_ADMIN"; "all" → "ALL". */
function normalize(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === "ALL") return upper;
  return upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
}

/** The number of a capability given as Docker accepts it (any case, with or without CAP_). */
export function parseCapability(name: string): number {
  const n = NUMBERS.get(normalize(name));
  if (n === undefined) throw new ParseError(`Cannot parse capability "${name}": unknown capability`);
  return n;
}

/** Bit n set for capability n. */
export function capabilityMask(names: Iterable<string>): bigint {
  let mask = 0n;
  for (const name of names) mask |= 1n << BigInt(parseCapability(name));
  return mask;
}

/** The CAP_* names of the bits set in `mask`, lowest first (bits past CAP_LAST_KNOWN are skipped). */
export function capabilityNames(mask: bigint): string[] {
  return CAPABILITY_NAMES.filter((_, n) => (mask >> BigInt(n)) & 1n);
}

export interface CapabilityRequest {
  /** --cap-add values, as typed. */
  add: string[];
  /** --cap-drop values, as typed. */
  drop: string[];
  privileged: boolean;
  /** /proc/sys/kernel/cap_last_cap of the host. */
  lastCap: number;
  /** The container's uid; root (0) when absent. */
  uid?: number;
}

/** All capabilities this kernel has that we can name: bits 0..min(lastCap, CAP_LAST_KNOWN). */
export function allCapabilities(lastCap: number): bigint {
  const top = Math.min(lastCap, CAP_LAST_KNOWN);
  return top < 0 ? 0n : (1n << BigInt(top + 1)) - 1n;
}

/** The capability sets of the container's process, as Docker and runc set them. */
export function resolveCapabilities(req: CapabilityRequest): Capabilities {
  const all = allCapabilities(req.lastCap);
  // Parse everything first, so that a typo fails even where ALL or --privileged makes it moot.
  const parse = (values: string[]) =>
    values.map((v) => {
      if (normalize(v) === "ALL") return "ALL" as const;
      const n = parseCapability(v);
      if (((all >> BigInt(n)) & 1n) === 0n) {
        throw new InvalidArgumentError(`Cannot use capability "${v}": not supported by this kernel (cap_last_cap is ${req.lastCap})`);
      }
      return n;
    });
  const add = parse(req.add);
  const drop = parse(req.drop);
  const bits = (list: (number | "ALL")[]) => list.reduce((m, c) => (c === "ALL" ? m : m | (1n << BigInt(c))), 0n);

  let set: bigint;
  if (req.privileged) set = all;
  else if (add.includes("ALL")) set = all & ~bits(drop);
  else if (drop.includes("ALL")) set = bits(add);
  else set = ((capabilityMask(DEFAULT_CAPABILITIES) & all & ~bits(drop)) | bits(add)) & all;
  return capabilitiesForUser(set, req.uid ?? 0);
}

/** A resolved set as the process's five sets: root keeps it effective; other users only bound by it. */
export function capabilitiesForUser(set: bigint, uid: number): Capabilities {
  const root = uid === 0;
  return { bounding: set, effective: root ? set : 0n, permitted: root ? set : 0n, inheritable: 0n, ambient: 0n };
}
