// unpackLayer with the real Sys: device nodes, xattrs in every namespace, overlayfs whiteouts,
// checked with lstat and lgetxattr, and against GNU tar as an oracle. Needs root.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { unpackLayer } from "../../../src/rootfs/unpack.ts";
import { linuxSys } from "../../../src/sys/linux.ts";
import { entryKindsEntries } from "../../helpers/busybox.ts";
import { tempDirEach } from "../../helpers/tmp.ts";
import { diffTrees, snapshotTree, splitDev } from "../../helpers/tree.ts";
import { buildTar, type TarEntry } from "../../helpers/tar.ts";

const sys = linuxSys();
const WHAT = "layer sha256:0123abcd";
const T = new Date("2021-02-03T04:05:06Z");
const T2 = new Date("2019-01-01T00:00:00Z");

let tmp: string;
let dest: string;
tempDirEach("tinydock-unpack-int-", ["dest"], (d, s) => ([tmp, dest] = [d, s!]));

async function unpack(entries: TarEntry[], into = dest) {
  const tar = await buildTar(entries);
  return unpackLayer(new Blob([Bun.gzipSync(tar)]).stream(), "gzip", into, { sys, maxBytes: 1 << 30, what: WHAT });
}

const at = (rel: string) => path.join(dest, rel);
const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString());

/** vfs_cap_data revision 2: effective, permitted CAP_NET_RAW and CAP_SETFCAP (bytes ≥ 0x80: not UTF-8). */
const CAPABILITY = new Uint8Array([0x01, 0, 0, 0x02, 0, 0x20, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

describe("every entry kind, with its metadata", () => {
  test("lstat and lgetxattr see what the tar says", async () => {
    await unpack([
      { name: "dir/", type: "directory", mode: 0o1777, uid: 11, gid: 12, mtime: T, pax: { "SCHILY.xattr.trusted.td": "dir" } },
      { name: "dir/setuid", content: "#!/bin/sh\n", mode: 0o4755, uid: 1000, gid: 1001, mtime: T },
      { name: "dir/setgid", content: "", mode: 0o2711, uid: 0, gid: 50, mtime: T },
      {
        name: "dir/ping",
        content: "ELF",
        mode: 0o755,
        uid: 1000,
        gid: 1000,
        mtime: T,
        pax: { "SCHILY.xattr.security.capability": CAPABILITY, "SCHILY.xattr.user.note": "hello" },
      },
      { name: "dir/link", type: "symlink", linkname: "/no/such/target", uid: 21, gid: 22, mtime: T2, pax: { "SCHILY.xattr.trusted.sym": "s" } },
      { name: "dir/hard", type: "link", linkname: "dir/setuid" },
      { name: "dir/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666, uid: 0, gid: 0, mtime: T },
      { name: "dir/sda", type: "block-device", devmajor: 8, devminor: 300, mode: 0o660, gid: 6, mtime: T },
      { name: "dir/fifo", type: "fifo", mode: 0o640, uid: 3, gid: 4, mtime: T },
    ]);
    const dir = fs.lstatSync(at("dir"));
    expect([dir.isDirectory(), dir.mode & 0o7777, dir.uid, dir.gid, dir.mtimeMs]).toEqual([true, 0o1777, 11, 12, T.getTime()]);
    expect(text(sys.lgetxattr(at("dir"), "trusted.td"))).toBe("dir");

    const suid = fs.lstatSync(at("dir/setuid"));
    expect([suid.isFile(), suid.mode & 0o7777, suid.uid, suid.gid, suid.mtimeMs, suid.nlink]).toEqual([true, 0o4755, 1000, 1001, T.getTime(), 2]);
    expect(fs.lstatSync(at("dir/setgid")).mode & 0o7777).toBe(0o2711);
    expect(fs.lstatSync(at("dir/setgid")).gid).toBe(50);

    // chown clears file capabilities: they must have been set after it.
    expect(sys.lgetxattr(at("dir/ping"), "security.capability")).toEqual(CAPABILITY);
    expect(text(sys.lgetxattr(at("dir/ping"), "user.note"))).toBe("hello");
    expect(fs.lstatSync(at("dir/ping")).uid).toBe(1000);

    const link = fs.lstatSync(at("dir/link"));
    expect([link.isSymbolicLink(), link.uid, link.gid, link.mtimeMs]).toEqual([true, 21, 22, T2.getTime()]);
    expect(fs.readlinkSync(at("dir/link"))).toBe("/no/such/target");
    expect(text(sys.lgetxattr(at("dir/link"), "trusted.sym"))).toBe("s");

    expect(fs.lstatSync(at("dir/hard")).ino).toBe(suid.ino);

    const chr = fs.lstatSync(at("dir/null"));
    expect([chr.isCharacterDevice(), chr.mode & 0o7777, splitDev(chr.rdev), chr.mtimeMs]).toEqual([true, 0o666, { major: 1, minor: 3 }, T.getTime()]);
    const blk = fs.lstatSync(at("dir/sda"));
    expect([blk.isBlockDevice(), blk.mode & 0o7777, blk.gid, splitDev(blk.rdev)]).toEqual([true, 0o660, 6, { major: 8, minor: 300 }]);
    const fifo = fs.lstatSync(at("dir/fifo"));
    expect([fifo.isFIFO(), fifo.mode & 0o7777, fifo.uid, fifo.gid]).toEqual([true, 0o640, 3, 4]);
  });

  test("the same tree as GNU tar makes of the same archive", async () => {
    const entries: TarEntry[] = [
      ...entryKindsEntries(),
      { name: "kinds/cap", content: "x", uid: 5, pax: { "SCHILY.xattr.security.capability": CAPABILITY } },
      { name: "kinds/replaced", content: "first" },
      { name: "kinds/replaced", content: "second", mode: 0o600 },
    ];
    const tar = await buildTar(entries);
    await unpackLayer(new Blob([tar]).stream(), "none", dest, { sys, maxBytes: 1 << 30, what: WHAT });
    const oracle = path.join(tmp, "gnutar");
    fs.mkdirSync(oracle);
    fs.writeFileSync(path.join(tmp, "layer.tar"), tar);
    const run = Bun.spawnSync(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", path.join(tmp, "layer.tar"), "-C", oracle], {
      stderr: "pipe",
    });
    expect(run.stderr.toString()).toBe("");
    const opts = { mtime: true };
    const want = snapshotTree(oracle, opts);
    expect(want.length).toBeGreaterThan(entries.length - 3);
    expect(diffTrees(want, snapshotTree(dest, opts))).toEqual([]);
  });
});

describe("whiteouts become overlayfs whiteouts", () => {
  test("char device 0:0 owned 0:0, opaque xattr, meta names ignored", async () => {
    await unpack([
      { name: "etc/", type: "directory" },
      { name: "etc/.wh.passwd", content: "", uid: 5, gid: 5, mode: 0o644 },
      { name: "etc/.wh..wh.plnk", content: "" },
      { name: "usr/", type: "directory" },
      { name: "usr/.wh..wh..opq", content: "" },
      { name: "usr/kept", content: "this layer's own" },
      { name: "new/deep/.wh..wh..opq", content: "" },
    ]);
    const wh = fs.lstatSync(at("etc/passwd"));
    expect([wh.isCharacterDevice(), splitDev(wh.rdev), wh.uid, wh.gid]).toEqual([true, { major: 0, minor: 0 }, 0, 0]);
    expect(fs.readdirSync(at("etc"))).toEqual(["passwd"]);
    expect(text(sys.lgetxattr(at("usr"), "trusted.overlay.opaque"))).toBe("y");
    expect(fs.readdirSync(at("usr"))).toEqual(["kept"]);
    expect(text(sys.lgetxattr(at("new/deep"), "trusted.overlay.opaque"))).toBe("y");
    expect(sys.lgetxattr(at("etc"), "trusted.overlay.opaque")).toBeNull();
  });

  test("overlayfs' own xattrs in the archive are not set", async () => {
    await unpack([{ name: "d/", type: "directory", pax: { "SCHILY.xattr.trusted.overlay.redirect": "/etc", "SCHILY.xattr.trusted.overlay.opaque": "y" } }]);
    expect(sys.llistxattr(at("d")).filter((n) => n.startsWith("trusted.overlay."))).toEqual([]);
  });
});
