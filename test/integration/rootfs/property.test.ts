// Property: for any list of entries built from hostile pieces (`..`, absolute names, symlinks to
// outside, hard links, whiteouts, replacements), unpackLayer either succeeds or throws a one-line
// TinydockError, and nothing outside the layer directory changes. Needs root (real mknod).
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TinydockError } from "../../../src/errors.ts";
import { unpackLayer } from "../../../src/rootfs/unpack.ts";
import { linuxSys } from "../../../src/sys/linux.ts";
import { diffTrees, snapshotTree } from "../../helpers/tree.ts";
import { buildTar, type TarEntry, type TarEntryType } from "../../helpers/tar.ts";
import { recordCases } from "../../helpers/adversarial.ts";

const sys = linuxSys();
const OLD = new Date("2001-01-01T00:00:00Z");
let tmp: string;
let base: string;
let dest: string;
let sentinel: string;

beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tinydock-property-")));
  // Deep enough that a relative escape of a few ".." would still land in the snapshot.
  base = path.join(tmp, "l1/l2/l3");
  dest = path.join(base, "dest");
  sentinel = path.join(base, "sentinel");
  fs.mkdirSync(path.join(sentinel, "a/b"), { recursive: true });
  fs.writeFileSync(path.join(sentinel, "a/secret"), "secret\n");
  fs.symlinkSync("a", path.join(sentinel, "link"));
  fs.mkdirSync(dest);
  fs.utimesSync(base, OLD, OLD);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const component = fc.constantFrom("a", "b", "c", "..", ".", "", ".wh.a", ".wh..wh..opq", ".wh...", ".wh..", "secret", "link");
const relName = fc.array(component, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"));

test("random archives never escape and never throw untyped errors", async () => {
  const outside = () => [
    sentinel,
    `${sentinel}/a`,
    `${sentinel}/secret`,
    `${sentinel}/link`,
    path.join(base, ".."),
    `../..${sentinel}`,
  ];
  const name = fc.oneof(relName, relName.map((n) => `/${n}`), fc.constantFrom(...outside()));
  const linkname = fc.oneof(name, fc.constantFrom("..", "../..", "../../..", "../../../..", "../sentinel", "a/../../sentinel"));
  const entry: fc.Arbitrary<TarEntry> = fc.record({
    name,
    type: fc.constantFrom<TarEntryType>("file", "file", "directory", "symlink", "symlink", "link", "character-device", "fifo"),
    linkname,
    mode: fc.integer({ min: 0, max: 0o7777 }),
    uid: fc.integer({ min: 0, max: 3000 }),
    gid: fc.integer({ min: 0, max: 3000 }),
    content: fc.constantFrom("", "pwned\n"),
  }).map((e) => ({
    ...e,
    linkname: e.type === "symlink" || e.type === "link" ? e.linkname : undefined,
    content: e.type === "file" ? e.content : undefined,
    devmajor: e.type === "character-device" ? 1 : undefined,
    devminor: e.type === "character-device" ? 3 : undefined,
  }));

  const snapshot = () => snapshotTree(tmp, { includeRoot: true, mtime: true, ignore: (p) => p.endsWith("/dest") });
  const before = snapshot();
  const xattrsBefore = sys.llistxattr(sentinel);
  let failures = 0;
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 12 }), async (entries) => {
      runs++;
      fs.rmSync(dest, { recursive: true, force: true });
      fs.mkdirSync(dest);
      fs.utimesSync(base, OLD, OLD); // recreating dest is the test's own change to `base`
      const tar = await buildTar(entries);
      try {
        await unpackLayer(new Blob([tar]).stream(), "none", dest, { sys, maxBytes: 1 << 20, what: "layer sha256:prop" });
      } catch (e) {
        failures++;
        if (!(e instanceof TinydockError)) throw e;
        expect(e.message).not.toContain("\n");
        expect(e.message).toStartWith("Cannot unpack layer sha256:prop: ");
      }
      expect(diffTrees(before, snapshot())).toEqual([]);
      expect(sys.llistxattr(sentinel)).toEqual(xattrsBefore);
    }),
    { numRuns: 300 },
  );
  recordCases("property integration/rootfs/property.test.ts: random archives never escape and never throw untyped errors", 300);
  fs.rmSync(dest, { recursive: true, force: true });
  // Both paths were exercised.
  expect(failures).toBeGreaterThan(0);
  expect(failures).toBeLessThan(runs);
}, 120_000);
