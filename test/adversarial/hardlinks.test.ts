// Hostile cross-layer hard links against the real filesystem (root, real xattrs): a layer stacked
// on lower layers tries to link to something outside the layer stack — ../ climbs, absolute host
// paths, a lower layer's symlink to a host directory or file, a name an intermediate layer deleted —
// or to write its link through its own symlink. Whatever it tries, nothing outside the layer
// directories is linked, created or changed: a host sentinel tree beside them is compared before
// and after every case, and no host file gains a link.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DataLossError } from "../../src/errors.ts";
import { unpackLayer } from "../../src/rootfs/unpack.ts";
import { linuxSys } from "../../src/sys/linux.ts";
import { recordCases } from "../helpers/adversarial.ts";
import { buildTar, type TarEntry } from "../helpers/tar.ts";
import { diffTrees, snapshotTree, type TreeRecord } from "../helpers/tree.ts";

const sys = linuxSys();
const OLD = new Date("2001-01-01T00:00:00Z");
let tmp: string;
let sentinel: string;
let before: TreeRecord[];
let cases = 0;
const snapshot = () => snapshotTree(sentinel, { includeRoot: true, mtime: true });

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tinydock-hardlinks-")));
  sentinel = path.join(tmp, "sentinel");
  fs.mkdirSync(path.join(sentinel, "etc"), { recursive: true });
  fs.writeFileSync(path.join(sentinel, "etc/shadow"), "root:host-secret\n", { mode: 0o600 });
  for (const p of ["etc/shadow", "etc", "."]) fs.utimesSync(path.join(sentinel, p), OLD, OLD);
  before = snapshot();
});

afterEach(() => {
  try {
    expect(diffTrees(before, snapshot())).toEqual([]);
    expect(fs.statSync(path.join(sentinel, "etc/shadow")).nlink).toBe(1);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

afterAll(() => recordCases("cross-layer hard links: hostile link targets", cases));

/** Unpacks `layers` bottom first, each on the ones below; returns the top layer's directory. */
async function stack(layers: TarEntry[][]): Promise<string> {
  const dirs: string[] = [];
  const at = fs.mkdtempSync(path.join(tmp, "stack-"));
  for (const [i, entries] of layers.entries()) {
    const dest = path.join(at, `layer${i}`);
    fs.mkdirSync(dest);
    const below = [...dirs].reverse();
    await unpackLayer(new Blob([await buildTar(entries)]).stream(), "none", dest, {
      sys,
      maxBytes: 1 << 30,
      what: `layer ${i}`,
      ...(i > 0 ? { lowers: async () => below } : {}),
    });
    dirs.push(dest);
  }
  return dirs[dirs.length - 1]!;
}

async function refused(layers: TarEntry[][], message: RegExp): Promise<void> {
  cases++;
  let err: unknown;
  try {
    await stack(layers);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DataLossError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toContain("\n");
}

const S = () => path.join(sentinel, "etc/shadow");
const link = (name: string, linkname: string): TarEntry => ({ name, type: "link", linkname });
const base: TarEntry[] = [{ name: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n" }];

describe("hostile cross-layer hard links", () => {
  test("../../ climbs are refused before any lookup", () =>
    refused([base, [link("h", "../../etc/shadow")]], /entry "h" links to "\.\.\/\.\.\/etc\/shadow", outside the layer$/));

  test("the host's absolute path: looked up in the layers only, refused when they lack it", async () => {
    await refused([base, [link("h", S())]], /links to ".*\/etc\/shadow", which is not in the layer or the layers below it$/);
    await refused([base, [link("h", "/etc/shadow")]], /which is not in the layer or the layers below it$/);
  });

  test("an absolute path the image has: the image's file, never the host's", async () => {
    cases++;
    const top = await stack([[{ name: "etc/shadow", content: "root:image\n" }], [link("h", "/etc/shadow")]]);
    expect(fs.readFileSync(path.join(top, "h"), "utf8")).toBe("root:image\n");
  });

  test("through a lower layer's symlink to a host directory (absolute and relative) is refused", async () => {
    await refused([[{ name: "evil", type: "symlink", linkname: path.join(sentinel, "etc") }], [link("h", "evil/shadow")]], /through a symlink/);
    await refused([[{ name: "evil", type: "symlink", linkname: "../../../../../../etc" }], [link("h", "evil/shadow")]], /through a symlink/);
    await refused([[{ name: "d/evil", type: "symlink", linkname: "/" }], [link("h", `d/evil${S()}`)]], /through a symlink/);
  });

  test("to a lower symlink pointing at a host file: the symlink is copied, the host file is not read", async () => {
    cases++;
    const top = await stack([[{ name: "s", type: "symlink", linkname: S() }], [link("h", "s")]]);
    const st = fs.lstatSync(path.join(top, "h"));
    expect(st.isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(path.join(top, "h"))).toBe(S());
  });

  test("through the top layer's own symlink (clamped there, never followed to the lowers)", () =>
    refused([[{ name: "etc/shadow", content: "image\n" }], [{ name: "x", type: "symlink", linkname: "/etc" }, link("h", "x/shadow")]], /through a symlink/));

  test("a name an intermediate layer deleted (whiteout) or hid (opaque directory) is refused", async () => {
    await refused([[{ name: "f", content: "x" }], [{ name: ".wh.f", content: "" }], [link("h", "f")]], /not in the layer or the layers below it$/);
    await refused([[{ name: "d/f", content: "x" }], [{ name: "d/.wh..wh..opq", content: "" }], [link("h", "d/f")]], /not in the layer or the layers below it$/);
    await refused([[{ name: "f", content: "x" }], [{ name: ".wh.f", content: "" }, link("h", "f")]], /not in the layer or the layers below it$/);
  });

  test("a lower directory, fifo or device is refused", async () => {
    await refused([[{ name: "d", type: "directory" }], [link("h", "d")]], /which is a directory$/);
    await refused([[{ name: "p", type: "fifo" }], [link("h", "p")]], /not a regular file or symlink in a lower layer$/);
    await refused([[{ name: "null", type: "character-device", devmajor: 1, devminor: 3 }], [link("h", "null")]], /not a regular file or symlink in a lower layer$/);
  });

  test("the link's own name through the top layer's symlink to the host: written inside the layer", async () => {
    cases++;
    const top = await stack([
      [{ name: "f", content: "payload\n" }],
      [{ name: "out", type: "symlink", linkname: path.join(sentinel, "etc") }, link("out/shadow", "f"), { name: "p", type: "symlink", linkname: S() }, link("p", "f")],
    ]);
    // Both land in the layer: the symlinked parent is resolved inside it, the symlink is replaced.
    expect(fs.readFileSync(path.join(top, sentinel, "etc/shadow"), "utf8")).toBe("payload\n");
    expect(fs.lstatSync(path.join(top, "p")).isFile()).toBe(true);
  });
});
