// Mounts as data, applied in one place. Overlay's lowerdir uses the short l/<id> links relative to
// the store root, so 128 layers fit in the one page the kernel allows for mount options.
import fs from "node:fs";
import { InvalidArgumentError } from "../errors.ts";
import { MS, MNT_DETACH, type Sys } from "../sys/sys.ts";

export interface Mount {
  source: string;
  target: string;
  fstype: string | null;
  flags: number;
  data: string | null;
  /** Directory the kernel resolves relative paths in `data` against (the mount call's cwd). */
  cwd?: string;
}

/** The kernel copies mount data into one page. */
export const MOUNT_DATA_MAX = 4095;

export interface OverlayPlan {
  /** Short link names, topmost layer first, as the kernel wants lowerdir. */
  lowers: string[];
  upper?: string;
  work?: string;
  target: string;
  /** The store root: lowers are "l/<id>" relative to it. */
  root: string;
  emptyLower: string;
}

/** Pure: builds the overlay Mount for a stack of layers. */
export function overlayMount(plan: OverlayPlan): Mount {
  if (plan.lowers.length === 0) throw new InvalidArgumentError(`Cannot mount "${plan.target}": the image has no layers`);
  // A layer an image repeats is one directory, and overlay refuses a lower twice (ELOOP): its
  // topmost copy alone gives the same tree, for a layer applied again wins over those below it.
  const lowers = [...new Set(plan.lowers)].map((l) => `l/${l}`);
  // Without an upper, overlay needs two lowers: an empty one at the bottom changes nothing.
  if (!plan.upper && lowers.length === 1) lowers.push(plan.emptyLower);
  const opts = [`lowerdir=${lowers.join(":")}`];
  let flags = MS.NODEV;
  if (plan.upper && plan.work) opts.push(`upperdir=${plan.upper}`, `workdir=${plan.work}`);
  else flags |= MS.RDONLY;
  const data = opts.join(",");
  if (data.length > MOUNT_DATA_MAX) {
    throw new InvalidArgumentError(`Cannot mount "${plan.target}": ${plan.lowers.length} layers exceed the kernel's mount option size`);
  }
  return { source: "overlay", target: plan.target, fstype: "overlay", flags, data, cwd: plan.root };
}

/** The one mounter. Mounts with a cwd chdir for the call and back (the process is single-threaded JS). */
export function applyMount(sys: Sys, m: Mount): void {
  if (!m.cwd) {
    sys.mount(m.source, m.target, m.fstype, m.flags, m.data);
    return;
  }
  const back = process.cwd();
  process.chdir(m.cwd);
  try {
    sys.mount(m.source, m.target, m.fstype, m.flags, m.data);
  } finally {
    process.chdir(back);
  }
}

export function unmount(sys: Sys, target: string): void {
  sys.umount(target, MNT_DETACH);
}

/** Mount points under `prefix`, from /proc/self/mountinfo (octal escapes decoded). */
export function mountsUnder(prefix: string, mountinfo = "/proc/self/mountinfo"): string[] {
  const out: string[] = [];
  for (const line of fs.readFileSync(mountinfo, "utf8").split("\n")) {
    const field = line.split(" ")[4];
    if (!field) continue;
    const p = field.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    if (p === prefix || p.startsWith(`${prefix}/`)) out.push(p);
  }
  return out;
}

export function isMountPoint(target: string, mountinfo?: string): boolean {
  return mountsUnder(target, mountinfo).includes(target);
}
