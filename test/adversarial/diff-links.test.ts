// `diff` (src/rootfs/changes.ts) looks up each path of a container's upper dir in the image's
// layers. An image ships symlinks naming host paths (`/app -> /host/dir`, a relative link climbing
// far above the layer's directory, a file linked to a host file): they must be resolved inside the
// image, as moby's FollowSymlinkInScope does, so what the host has at those paths never changes
// what `diff` reports (A for a path the image lacks, C for one it has).
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { upperChanges } from "../../src/rootfs/changes.ts";
import { linuxSys } from "../../src/sys/linux.ts";
import { recordCases } from "../helpers/adversarial.ts";
import { tempDirEach } from "../helpers/tmp.ts";

const sys = linuxSys();
let host = "";
let lower = "";
let upper = "";
tempDirEach("td-diff-links-", ["host", "lower", "upper"], (_d, h, l, u) => {
  [host, lower, upper] = [h!, l!, u!];
  // What the host has: a directory with a secret, a file of the same name in the image's /etc.
  fs.mkdirSync(path.join(host, "dir"));
  fs.writeFileSync(path.join(host, "dir", "secret"), "HOST\n");
  fs.mkdirSync(path.join(lower, "etc"));
  fs.writeFileSync(path.join(lower, "etc", "secret"), "image\n");
});

const changes = () => upperChanges(sys, upper, [lower]).map((c) => `${c.kind} ${c.path}`);

test("links of the image to host paths are resolved inside the image, never on the host", () => {
  const hostDir = path.join(host, "dir");
  const climb = `${"../".repeat(30)}${hostDir.slice(1)}`;
  // [the lower's link at /app, the upper's entries, the changes]
  const cases: [string, string[], string[]][] = [
    // The image has no such directory: all new, whatever the host has there.
    [hostDir, ["app/", "app/secret"], ["A /app", "A /app/secret"]],
    [climb, ["app/", "app/secret"], ["A /app", "A /app/secret"]],
    // A link to the image's /etc: its secret is the image's, so changed.
    ["/etc", ["app/", "app/secret"], ["C /app", "C /app/secret"]],
    ["../../../../etc", ["app/", "app/secret"], ["C /app", "C /app/secret"]],
    // A file the image links to a host file: the image has nothing there.
    [path.join(hostDir, "secret"), ["app"], ["A /app"]],
  ];
  for (const [target, entries, want] of cases) {
    fs.rmSync(upper, { recursive: true, force: true });
    fs.mkdirSync(upper);
    fs.rmSync(path.join(lower, "app"), { force: true });
    fs.symlinkSync(target, path.join(lower, "app"));
    for (const e of entries) {
      if (e.endsWith("/")) fs.mkdirSync(path.join(upper, e));
      else fs.writeFileSync(path.join(upper, e), "new\n");
    }
    expect(`${target} ${entries}: ${changes().join(", ")}`).toBe(`${target} ${entries}: ${want.join(", ")}`);
  }
  expect(fs.readFileSync(path.join(hostDir, "secret"), "utf8")).toBe("HOST\n");
  recordCases("diff: image links to host paths resolved in the image", cases.length);
});
