// Hard links to files of lower layers: each layer is its own directory under overlayfs, so such a
// link becomes a copy of the lower file (content and metadata) in the upper layer's directory,
// looked up in the lower layers' directories as overlayfs shows them, never through a symlink.
import { beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { DataLossError } from "../../../src/errors.ts";
import { chainIdsOf } from "../../../src/rootfs/pull.ts";
import { findInLayers } from "../../../src/rootfs/crosslayer.ts";
import { unpackLayer } from "../../../src/rootfs/unpack.ts";
import { fakeSys, type FakeSys } from "../../../src/sys/fake.ts";
import { sha256Digest } from "../../../src/image/digest.ts";
import { tempDirEach } from "../../helpers/tmp.ts";
import { buildTar, type TarEntry } from "../../helpers/tar.ts";

const T = new Date("2020-05-06T07:08:09Z");
let tmp: string;
let sys: FakeSys;
tempDirEach("tinydock-crosslink-", [], (d) => (tmp = d));
beforeEach(() => {
  sys = fakeSys();
});

async function layer(name: string, entries: TarEntry[], lowers?: string[]) {
  const dest = path.join(tmp, name);
  fs.mkdirSync(dest);
  const tar = await buildTar(entries);
  const r = await unpackLayer(new Blob([tar]).stream(), "none", dest, {
    sys,
    maxBytes: 1 << 30,
    what: `layer ${name}`,
    ...(lowers ? { lowers: async () => lowers } : {}),
  });
  return { dest, r };
}

describe("cross-layer hard links", () => {
  test("a link to a lower layer's file is a copy with its content, owner, mode and mtime", async () => {
    const low = await layer("l1", [{ name: "bin/tool", content: "#!/bin/sh\necho hi\n", mode: 0o4755, uid: 3, gid: 4, mtime: T }]);
    const up = await layer("l2", [{ name: "usr/bin/alias", type: "link", linkname: "bin/tool" }], [low.dest]);
    expect(up.r.crossLayerLinks).toBe(1);
    const copy = path.join(up.dest, "usr/bin/alias");
    const st = fs.lstatSync(copy);
    expect(fs.readFileSync(copy, "utf8")).toBe("#!/bin/sh\necho hi\n");
    expect([st.isFile(), st.mode & 0o7777, st.uid, st.gid, st.mtimeMs, st.nlink]).toEqual([true, 0o4755, 3, 4, T.getTime(), 1]);
    // The lower layer is read, never changed: no second name for its inode.
    expect(fs.lstatSync(path.join(low.dest, "bin/tool")).nlink).toBe(1);
  });

  test("the topmost lower wins; later links to the copy are ordinary links within the layer", async () => {
    const l1 = await layer("l1", [{ name: "f", content: "old" }]);
    const l2 = await layer("l2", [{ name: "f", content: "new" }]);
    const up = await layer("l3", [{ name: "a", type: "link", linkname: "/f" }, { name: "b", type: "link", linkname: "a" }], [l2.dest, l1.dest]);
    expect(fs.readFileSync(path.join(up.dest, "a"), "utf8")).toBe("new");
    expect(fs.lstatSync(path.join(up.dest, "b")).ino).toBe(fs.lstatSync(path.join(up.dest, "a")).ino);
    expect(up.r.crossLayerLinks).toBe(1);
  });

  test("a link to a lower symlink is that symlink, not what it points at", async () => {
    const low = await layer("l1", [{ name: "s", type: "symlink", linkname: "/etc/shadow" }]);
    const up = await layer("l2", [{ name: "h", type: "link", linkname: "s" }], [low.dest]);
    expect(fs.readlinkSync(path.join(up.dest, "h"))).toBe("/etc/shadow");
  });

  test("without lowers (a base layer) the old refusal stands", async () => {
    const err = await layer("l1", [{ name: "h", type: "link", linkname: "f" }]).catch((e) => e);
    expect(err).toBeInstanceOf(DataLossError);
    expect(err.message).toBe('Cannot unpack layer l1: entry "h" links to "f", which is not in the layer');
  });

  test.each([
    ["missing everywhere", [{ name: "g", content: "x" }], "f", /links to "f", which is not in the layer or the layers below it$/],
    ["through a lower symlink", [{ name: "d", type: "symlink", linkname: "/etc" }], "d/shadow", /links to "d\/shadow", through a symlink, which a hard link never follows$/],
    ["a lower directory", [{ name: "d", type: "directory" }], "d", /links to "d", which is a directory$/],
  ] as [string, TarEntry[], string, RegExp][])("refused: %s", async (_what, lower, target, message) => {
    const low = await layer("l1", lower);
    const err = await layer("l2", [{ name: "h", type: "link", linkname: target }], [low.dest]).catch((e) => e);
    expect(err).toBeInstanceOf(DataLossError);
    expect(err.message).toMatch(message);
  });

  test("findInLayers: whiteouts and opaque directories hide what is below", () => {
    const l1 = path.join(tmp, "a");
    const l2 = path.join(tmp, "b");
    fs.mkdirSync(path.join(l1, "d"), { recursive: true });
    fs.mkdirSync(path.join(l2, "d"), { recursive: true });
    fs.writeFileSync(path.join(l1, "d/f"), "x");
    expect(typeof findInLayers([l2, l1], ["d", "f"], sys)).toBe("object");
    sys.lsetxattr(path.join(l2, "d"), "trusted.overlay.opaque", new Uint8Array([0x79]));
    expect(findInLayers([l2, l1], ["d", "f"], sys)).toBe("which is not in the layer or the layers below it");
    expect(typeof findInLayers([l1], ["d", "f"], sys)).toBe("object");
    // A regular file above a lower directory hides it too.
    fs.writeFileSync(path.join(tmp, "c"), "");
    const l3 = path.join(tmp, "l3");
    fs.mkdirSync(l3);
    fs.writeFileSync(path.join(l3, "d"), "file");
    expect(findInLayers([l3, l1], ["d", "f"], sys)).toBe("which is not in the layer or the layers below it");
  });

  test("chain ids follow the OCI definition", () => {
    const d = [sha256Digest("a"), sha256Digest("b"), sha256Digest("c")];
    const c1 = sha256Digest(`${d[0]} ${d[1]}`);
    expect(chainIdsOf(d)).toEqual([d[0]!, c1, sha256Digest(`${c1} ${d[2]}`)]);
  });
});
