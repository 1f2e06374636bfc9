// Hostile archives against the real filesystem: whatever an entry tries, nothing outside the
// layer directory is created, changed or removed. A sentinel tree sits beside `dest` and is
// compared, metadata, xattrs and mtimes included, before and after every case. Needs root.
import { afterAll, afterEach, beforeEach, describe, expect } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DataLossError, TinydockError } from "../../../src/errors.ts";
import type { Compression } from "../../../src/image/manifest.ts";
import { unpackLayer } from "../../../src/rootfs/unpack.ts";
import { linuxSys } from "../../../src/sys/linux.ts";
import { diffTrees, snapshotTree, type TreeRecord } from "../../helpers/tree.ts";
import { buildTar, concatBytes, END_OF_ARCHIVE, paxHeader, rawBody, rawHeader, type TarEntry } from "../../helpers/tar.ts";
import { hostileTest } from "../../helpers/adversarial.ts";

const hostile = hostileTest("hostile layer");

const sys = linuxSys();
const WHAT = "layer sha256:0123abcd";
const OLD = new Date("2001-01-01T00:00:00Z");

let tmp: string;
let dest: string;
let sentinel: string;
let before: TreeRecord[];
const snapshot = () => snapshotTree(tmp, { includeRoot: true, mtime: true, ignore: (p) => p === "dest" });

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tinydock-hostile-")));
  dest = path.join(tmp, "dest");
  sentinel = path.join(tmp, "sentinel");
  fs.mkdirSync(dest);
  fs.mkdirSync(path.join(sentinel, "sub/d"), { recursive: true });
  fs.writeFileSync(path.join(sentinel, "secret"), "do not touch\n", { mode: 0o600 });
  fs.writeFileSync(path.join(sentinel, "sub/d/file"), "deep\n", { mode: 0o644 });
  for (const p of ["sub/d/file", "sub/d", "sub", "secret", "."]) fs.utimesSync(path.join(sentinel, p), OLD, OLD);
  fs.utimesSync(tmp, OLD, OLD);
  before = snapshot();
});

afterEach(() => {
  try {
    expect(diffTrees(before, snapshot())).toEqual([]);
    expect(fs.readdirSync(tmp).sort()).toEqual(["dest", "sentinel"]);
    expect(sys.lgetxattr(sentinel, "trusted.overlay.opaque")).toBeNull();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

afterAll(() => {
  expect(fs.readdirSync("/etc").filter((n) => n.startsWith("tinydock-"))).toEqual([]);
});

async function unpack(entries: TarEntry[] | Uint8Array<ArrayBuffer>, compression: Compression = "none", maxBytes = 1 << 30) {
  const tar = entries instanceof Uint8Array ? entries : await buildTar(entries);
  const body = compression === "gzip" ? Bun.gzipSync(tar) : compression === "zstd" ? Bun.zstdCompressSync(tar) : tar;
  return unpackLayer(new Blob([body as Uint8Array<ArrayBuffer>]).stream(), compression, dest, { sys, maxBytes, what: WHAT });
}

async function refused(entries: TarEntry[] | Uint8Array<ArrayBuffer>, message: RegExp, compression: Compression = "none", maxBytes?: number) {
  let err: unknown;
  try {
    await unpack(entries, compression, maxBytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DataLossError);
  const msg = (err as Error).message;
  expect(msg).toStartWith(`Cannot unpack ${WHAT}: `);
  expect(msg).not.toContain("\n");
  expect(msg).toMatch(message);
}

const inDest = (...p: string[]) => path.join(dest, ...p);
const file = (name: string, content = "pwned\n", extra: Partial<TarEntry> = {}): TarEntry => ({ name, content, ...extra });
const symlink = (name: string, linkname: string, extra: Partial<TarEntry> = {}): TarEntry => ({ name, type: "symlink", linkname, ...extra });
const hardlink = (name: string, linkname: string): TarEntry => ({ name, type: "link", linkname });

describe("path traversal", () => {
  hostile("`../x` is refused", () => refused([file("../x")], /entry "\.\.\/x" escapes the layer$/));
  hostile("`a/../../x` is refused", () => refused([file("a/../../x")], /entry "a\/\.\.\/\.\.\/x" escapes the layer$/));
  hostile("a device at `../dev` is refused", () =>
    refused([{ name: "../null", type: "character-device", devmajor: 1, devminor: 3 }], /escapes the layer/));
  hostile("a PAX path with `..` is refused", () =>
    refused(concatBytes([paxHeader({ path: "../../evil" }), rawHeader({ name: "innocent", typeflag: "0" }), END_OF_ARCHIVE]), /entry "\.\.\/\.\.\/evil" escapes/));
  hostile("a GNU long name with `..` is refused", () => {
    const name = `${"../".repeat(40)}tmp/evil`;
    return refused(
      concatBytes([rawHeader({ name: "././@LongLink", typeflag: "L", size: name.length, magic: "gnu" }), rawBody(Buffer.from(name)), rawHeader({ name: "x", typeflag: "0", magic: "gnu" }), END_OF_ARCHIVE]),
      /escapes the layer/,
    );
  });
  hostile("an absolute name is made relative to the layer", async () => {
    await unpack([file("/etc/tinydock-absolute"), file(`${sentinel}/secret`)]);
    expect(fs.readFileSync(inDest("etc/tinydock-absolute"), "utf8")).toBe("pwned\n");
    expect(fs.readFileSync(inDest(sentinel, "secret"), "utf8")).toBe("pwned\n");
  });
  hostile("a NUL byte in a name is refused", () =>
    refused(concatBytes([paxHeader({ path: "a\0/../../x" }), rawHeader({ name: "a", typeflag: "0" }), END_OF_ARCHIVE]), /NUL byte/));
  hostile("a name component longer than NAME_MAX is refused", () => refused([file(`${"n".repeat(300)}`)], /ENAMETOOLONG/));
});

describe("symlinks in the parent chain stay inside the layer", () => {
  let clampVerified = false;
  hostile("`a -> <sentinel>` then `a/secret` writes inside dest", async () => {
    await unpack([symlink("a", sentinel), file("a/secret"), file("a/new")]);
    expect(fs.readFileSync(inDest(sentinel, "secret"), "utf8")).toBe("pwned\n");
    expect(fs.readlinkSync(inDest("a"))).toBe(sentinel);
    clampVerified = true;
  });
  hostile("`a -> /etc` then `a/passwd` writes inside dest", async () => {
    // Only once the same attack on the sentinel is known to be contained: never risk the host.
    expect(clampVerified).toBe(true);
    const passwd = fs.statSync("/etc/passwd");
    await unpack([symlink("a", "/etc"), file("a/passwd"), file("a/tinydock-escape")]);
    expect(fs.readFileSync(inDest("etc/passwd"), "utf8")).toBe("pwned\n");
    const after = fs.statSync("/etc/passwd");
    expect([after.ino, after.mtimeMs, after.size]).toEqual([passwd.ino, passwd.mtimeMs, passwd.size]);
  });
  hostile("`a -> ../../..` then `a/x` lands at the layer root", async () => {
    await unpack([symlink("a", "../../.."), file("a/x")]);
    expect(fs.readFileSync(inDest("x"), "utf8")).toBe("pwned\n");
  });
  hostile("`d/a -> ../../sentinel` then `d/a/secret` stays inside", async () => {
    await unpack([{ name: "d/", type: "directory" }, symlink("d/a", "../../sentinel"), file("d/a/secret")]);
    expect(fs.readFileSync(inDest("sentinel/secret"), "utf8")).toBe("pwned\n");
  });
  hostile("a chain of symlinks, relative and absolute, stays inside", async () => {
    await unpack([symlink("a", "b/c"), symlink("b", "/x/../../y"), { name: "y/c", type: "symlink", linkname: `../..${sentinel}` }, file("a/secret")]);
    expect(fs.readFileSync(inDest(sentinel, "secret"), "utf8")).toBe("pwned\n");
  });
  hostile("a symlink loop is refused", () => refused([symlink("a", "b"), symlink("b", "a"), file("a/x")], /entry "a\/x" has too many levels of symbolic links$/));
  hostile("an entry under a regular file is refused", () => refused([file("f"), file("f/x")], /has a parent that is not a directory$/));
});

describe("hard links", () => {
  hostile("to /etc/passwd is refused", () => refused([hardlink("h", "/etc/passwd")], /entry "h" links to "\/etc\/passwd", which is not in the layer$/));
  hostile("to ../../x is refused", () => refused([hardlink("h", "../../x")], /entry "h" links to "\.\.\/\.\.\/x", outside the layer$/));
  hostile("through a symlink to outside is refused", () =>
    refused([symlink("s", sentinel), hardlink("h", "s/secret")], /links to "s\/secret", which is not in the layer$/));
  hostile("to a symlink pointing outside links the symlink itself", async () => {
    await unpack([symlink("s", `${sentinel}/secret`), hardlink("h", "s"), file("h2"), hardlink("s2", "h2")]);
    expect(fs.lstatSync(inDest("h")).isSymbolicLink()).toBe(true);
    expect(fs.lstatSync(inDest("h")).ino).toBe(fs.lstatSync(inDest("s")).ino);
  });
  hostile("to a directory is refused", () => refused([{ name: "d/", type: "directory" }, hardlink("h", "d")], /which is a directory$/));
});

describe("metadata never goes through a symlink", () => {
  hostile("file, directory, device and hard link entries replace a symlink to outside", async () => {
    await unpack([
      symlink("f", `${sentinel}/secret`),
      file("f", "replaced", { mode: 0o4777, uid: 1234, gid: 1234, mtime: new Date() }),
      symlink("d", `${sentinel}/sub`),
      { name: "d/", type: "directory", mode: 0o777, uid: 1234, gid: 1234 },
      symlink("n", `${sentinel}/sub/d/file`),
      { name: "n", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666, uid: 1234 },
      file("target"),
      symlink("l", `${sentinel}/secret`),
      hardlink("l", "target"),
    ]);
    expect(fs.lstatSync(inDest("f")).isFile()).toBe(true);
    expect(fs.lstatSync(inDest("d")).isDirectory()).toBe(true);
    expect(fs.lstatSync(inDest("n")).isCharacterDevice()).toBe(true);
    expect(fs.lstatSync(inDest("l")).ino).toBe(fs.lstatSync(inDest("target")).ino);
  });
  hostile("a symlink's owner, times and xattrs are its own", async () => {
    await unpack([symlink("s", `${sentinel}/secret`, { uid: 1234, gid: 1234, mtime: new Date(), pax: { "SCHILY.xattr.trusted.x": "y" } })]);
    expect(fs.lstatSync(inDest("s")).uid).toBe(1234);
  });
  hostile("removing a directory tree does not follow the symlinks in it", async () => {
    await unpack([{ name: "d/", type: "directory" }, symlink("d/l", sentinel), symlink("d/f", `${sentinel}/secret`), file("d")]);
    expect(fs.lstatSync(inDest("d")).isFile()).toBe(true);
  });
  hostile("directory times are not applied through a directory later replaced by a symlink", async () => {
    await unpack([
      { name: "x/", type: "directory" },
      { name: "x/sub/", type: "directory", mtime: new Date() },
      { name: "x/sub/d/", type: "directory", mtime: new Date() },
      symlink("x", sentinel),
    ]);
    expect(fs.readlinkSync(inDest("x"))).toBe(sentinel);
  });
});

describe("whiteouts", () => {
  for (const name of [".wh...", ".wh..", ".wh.", "a/.wh...", "a/b/.wh.."]) {
    hostile(`${JSON.stringify(name)} is refused`, () => refused([file(name, "")], /is a whiteout of "\.{0,2}", which is not a file name$/));
  }
  hostile("a whiteout through a symlink to outside lands inside", async () => {
    await unpack([symlink("s", sentinel), file("s/.wh.secret", ""), file("s/sub/.wh..wh..opq", ""), file("s/.wh..wh..opq", "")]);
    expect(fs.lstatSync(inDest(sentinel, "secret")).isCharacterDevice()).toBe(true);
    expect(Buffer.from(sys.lgetxattr(inDest(sentinel, "sub"), "trusted.overlay.opaque")!).toString()).toBe("y");
    expect(sys.lgetxattr(path.join(sentinel, "sub"), "trusted.overlay.opaque")).toBeNull();
  });
  hostile("`../.wh.x` is refused", () => refused([file("../.wh.secret", "")], /escapes the layer/));
});

describe("decompression bombs", () => {
  for (const compression of ["gzip", "zstd"] as const) {
    hostile(`${compression}: 64 MiB of zeros stop at a 1 MiB limit`, async () => {
      const tar = await buildTar([file("bomb", new Uint8Array(64 << 20) as unknown as string)]);
      await refused(tar, /uncompressed size exceeds the limit of 1048576 bytes$/, compression, 1 << 20);
      expect(fs.statSync(inDest("bomb")).size).toBeLessThanOrEqual(1 << 20);
    });
  }
  hostile("a header that declares a huge PAX record is refused before it is read", () =>
    refused(concatBytes([rawHeader({ name: "p", typeflag: "x", size: 8_000_000_000 }), new Uint8Array(1 << 16)]), /extended header of 8000000000 bytes/));
});

hostile("every refusal is a TinydockError", () => {
  expect(new DataLossError("x")).toBeInstanceOf(TinydockError);
});
