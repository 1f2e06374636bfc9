// `diff`'s reading of an overlay upper dir (src/rootfs/changes.ts), on upper dirs the kernel's
// overlayfs made: changes made through a real mount, then listed against the lower.
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { upperChanges } from "../../../src/rootfs/changes.ts";
import { linuxSys } from "../../../src/sys/linux.ts";
import { tempDirEach } from "../../helpers/tmp.ts";

const sys = linuxSys();
let lower = "";
let upper = "";
let work = "";
let merged = "";
let mounted = false;
tempDirEach("td-changes-", ["lower", "upper", "work", "merged"], (_d, l, u, w, m) => {
  [lower, upper, work, merged] = [l!, u!, w!, m!];
  for (const d of ["etc", "bin", "var/lib/x", "opt"]) fs.mkdirSync(path.join(lower, d), { recursive: true });
  for (const f of ["etc/passwd", "etc/group", "bin/ls", "bin/cat", "var/lib/x/y", "opt/keep"]) fs.writeFileSync(path.join(lower, f), "x\n");
  // Old times, as an unpacked layer has: a copy-up keeps them, a change in the dir does not.
  for (const d of ["etc", "bin", "var/lib/x", "var/lib", "var", "opt"]) fs.utimesSync(path.join(lower, d), 1_000_000, 1_000_000);
});
afterEach(() => {
  if (mounted) sys.umount(merged, 0);
  mounted = false;
});

/** Runs `script` in the overlay of lower and upper, unmounts it, and lists the changes. */
function changesAfter(script: string): string[] {
  sys.mount("overlay", merged, "overlay", 0, `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
  mounted = true;
  const r = Bun.spawnSync(["sh", "-ec", script], { cwd: merged, stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  sys.umount(merged, 0);
  mounted = false;
  return upperChanges(sys, upper, [lower]).map((c) => `${c.kind} ${c.path}`);
}

describe("upperChanges (only as root)", () => {
  test("adds, deletes and changes in Docker's walk order, a deleted file's parent C right before it", () => {
    expect(changesAfter("rm bin/ls; mkdir -p tmp/a/b; touch tmp/a/b/c; echo more >> opt/keep; touch new")).toEqual([
      "C /bin",
      "D /bin/ls",
      "A /new",
      "C /opt/keep",
      "A /tmp",
      "A /tmp/a",
      "A /tmp/a/b",
      "A /tmp/a/b/c",
    ]);
  });

  test("a file changed in place is C alone: its directory, copied up with its times, is no change", () => {
    expect(changesAfter("echo x >> etc/passwd")).toEqual(["C /etc/passwd"]);
  });

  test("a directory removed and made again is opaque: D, its contents A, its parent C", () => {
    expect(changesAfter("rm -rf var/lib/x; mkdir var/lib/x; touch var/lib/x/new")).toEqual(["C /var/lib", "D /var/lib/x", "A /var/lib/x/new"]);
  });

  test("the mount points the runtime makes (empty /etc/hosts, hostname, resolv.conf the image lacks) are no change", () => {
    expect(changesAfter(": > etc/hostname; : > etc/hosts; : > etc/resolv.conf")).toEqual([]);
    expect(changesAfter("echo x >> etc/passwd")).toEqual(["C /etc/passwd"]);
    // Written to, /etc/hosts is the container's change, as in Docker (no longer empty).
    expect(changesAfter("echo 1.2.3.4 x > etc/hosts; rm etc/group")).toEqual(["C /etc", "D /etc/group", "A /etc/hosts", "C /etc/passwd"]);
  });
});
