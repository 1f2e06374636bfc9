// What a tar entry brings besides its bytes, applied the same way by the layer unpacker
// (layerwriter.ts) and by `cp -` into a container (untar-in-root.ts): xattrs and times, and the
// error an entry the archive may not hold raises.
import { SyscallError } from "../errors.ts";
import type { Sys } from "../sys/sys.ts";
import { quote, type TarHeader } from "./tar.ts";
import { isOverlayXattr } from "./whiteout.ts";

/** An entry the archive may not hold: each extractor words it as its own one-line error. */
export class RefusedEntry extends Error {}

/** The entry's xattrs on `path` (not followed), overlayfs' own names left out. */
export function setEntryXattrs(sys: Sys, path: string, h: TarHeader): void {
  if (!h.xattrs) return;
  for (const [name, value] of h.xattrs) {
    if (name === "" || name.includes("\0")) throw new RefusedEntry(`has an xattr with an invalid name ${quote(name)}`);
    if (isOverlayXattr(name)) continue; // overlayfs would read it as its own (redirect, metacopy)
    try {
      sys.lsetxattr(path, name, value);
    } catch (e) {
      // A filesystem without this namespace (security.selinux on a non-SELinux host): skipped,
      // as containerd does.
      if (e instanceof SyscallError && (e.code === "EOPNOTSUPP" || e.code === "errno 95")) continue;
      throw e;
    }
  }
}

/** Node's fs takes a negative number of seconds to mean "now"; a Date keeps times before 1970. */
export function tarTime(seconds: number): number | Date {
  return seconds < 0 ? new Date(seconds * 1000) : seconds;
}
