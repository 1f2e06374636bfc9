// unpackLayer on a real temp dir with a recording fake Sys: files, dirs, links and the replacement
// rules go to the filesystem; mknod and xattrs are asserted as calls.
import { beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { DataLossError, FailedPreconditionError, PermissionError } from "../../../src/errors.ts";
import type { Compression } from "../../../src/image/manifest.ts";
import { unpackLayer } from "../../../src/rootfs/unpack.ts";
import { fakeSys, type FakeSys } from "../../../src/sys/fake.ts";
import { makedev, S_IFCHR, S_IFIFO } from "../../../src/sys/sys.ts";
import { tempDirEach } from "../../helpers/tmp.ts";
import { buildTar, concatBytes, type TarEntry } from "../../helpers/tar.ts";

const WHAT = "layer sha256:0123abcd";
const T = new Date("2020-05-06T07:08:09Z");

let tmp: string;
let dest: string;
let sys: FakeSys;
tempDirEach("tinydock-unpack-", ["dest"], (d, s) => ([tmp, dest] = [d, s!]));
beforeEach(() => {
  sys = fakeSys();
  // The fake makes no node; a placeholder file lets the chown/chmod/utimes that follow run.
  const mknod = sys.mknod;
  sys.mknod = (file, mode, dev) => {
    mknod(file, mode, dev);
    fs.writeFileSync(file, "", { flag: "wx" });
  };
});

function compress(tar: Uint8Array<ArrayBuffer>, c: Compression): Uint8Array {
  return c === "gzip" ? Bun.gzipSync(tar) : c === "zstd" ? Bun.zstdCompressSync(tar) : tar;
}

function streamOf(bytes: Uint8Array, chunk = 4096): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let off = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= bytes.length) return c.close();
      c.enqueue(bytes.slice(off, off + chunk));
      off += chunk;
    },
  });
  return { stream, pulled: () => Math.min(off, bytes.length) };
}

async function unpack(entries: TarEntry[] | Uint8Array<ArrayBuffer>, opts: { compression?: Compression; maxBytes?: number } = {}) {
  const tar = entries instanceof Uint8Array ? entries : await buildTar(entries);
  const c = opts.compression ?? "none";
  return unpackLayer(streamOf(compress(tar, c)).stream, c, dest, { sys, maxBytes: opts.maxBytes ?? 1 << 30, what: WHAT });
}

async function unpackError(entries: TarEntry[], maxBytes?: number): Promise<Error> {
  try {
    await unpack(entries, { maxBytes });
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected unpack to fail");
}

const at = (rel: string) => path.join(dest, rel);
const xattrCalls = () => sys.calls.filter((c) => c.op === "lsetxattr").map((c) => [path.relative(dest, c.args[0] as string), c.args[1], c.args[2]]);

describe("unpackLayer", () => {
  for (const compression of ["gzip", "zstd", "none"] as const) {
    test(`${compression}: diffId and size are those of the uncompressed tar; the input is read to its end`, async () => {
      const tar = await buildTar([{ name: "a", content: "hello" }]);
      const padded = concatBytes([tar, new Uint8Array(10240 - (tar.length % 10240))]); // tar's record padding
      const packed = compress(padded, compression);
      const input = streamOf(packed, 7);
      const r = await unpackLayer(input.stream, compression, dest, { sys, maxBytes: 1 << 20, what: WHAT });
      expect(r).toEqual({ diffId: `sha256:${new Bun.CryptoHasher("sha256").update(padded).digest("hex")}`, size: padded.length, crossLayerLinks: 0 });
      expect(input.pulled()).toBe(packed.length);
      expect(fs.readFileSync(at("a"), "utf8")).toBe("hello");
    });
  }

  test("files, directories, symlinks and hard links with their metadata", async () => {
    await unpack([
      { name: "d/", type: "directory", mode: 0o2750, uid: 5, gid: 6, mtime: T },
      { name: "d/f", content: "data", mode: 0o4711, uid: 1000, gid: 1001, mtime: T },
      { name: "d/l", type: "symlink", linkname: "f", uid: 7, gid: 8, mtime: T },
      { name: "d/h", type: "link", linkname: "d/f" },
      { name: "top", content: "x".repeat(100_000) },
    ]);
    const d = fs.lstatSync(at("d"));
    expect([d.mode & 0o7777, d.uid, d.gid, d.mtimeMs]).toEqual([0o2750, 5, 6, T.getTime()]);
    const f = fs.lstatSync(at("d/f"));
    expect([f.mode & 0o7777, f.uid, f.gid, f.mtimeMs, f.nlink]).toEqual([0o4711, 1000, 1001, T.getTime(), 2]);
    expect(fs.readFileSync(at("d/f"), "utf8")).toBe("data");
    const l = fs.lstatSync(at("d/l"));
    expect([l.isSymbolicLink(), l.uid, l.gid, l.mtimeMs]).toEqual([true, 7, 8, T.getTime()]);
    expect(fs.readlinkSync(at("d/l"))).toBe("f");
    expect(fs.lstatSync(at("d/h")).ino).toBe(f.ino);
    expect(fs.statSync(at("top")).size).toBe(100_000);
  });

  test("directory times are set after their children are written, deepest first", async () => {
    await unpack([
      { name: "a/", type: "directory", mtime: T },
      { name: "a/b/", type: "directory", mtime: T },
      { name: "a/b/c", content: "x" },
      { name: "a/d", content: "y" },
    ]);
    expect(fs.statSync(at("a")).mtimeMs).toBe(T.getTime());
    expect(fs.statSync(at("a/b")).mtimeMs).toBe(T.getTime());
  });

  test("the root entry sets the layer root's metadata", async () => {
    await unpack([{ name: "./", type: "directory", mode: 0o751, mtime: T }, { name: "x", content: "" }]);
    const st = fs.statSync(dest);
    expect([st.mode & 0o7777, st.mtimeMs]).toEqual([0o751, T.getTime()]);
  });

  describe("big bodies of a compressed layer, written behind on the thread pool", () => {
    const big = (seed: number, n = 300_000) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
    const fds = () => fs.readdirSync("/proc/self/fd").length;

    test("content, then owner, setuid mode and time; links, replacements and later entries see the finished file", async () => {
      const before = fds();
      await unpack(
        [
          { name: "d/", type: "directory", mtime: T },
          { name: "d/suid", content: big(1), mode: 0o4755, uid: 1000, gid: 1001, mtime: T },
          { name: "d/hard", type: "link", linkname: "d/suid" },
          { name: "d/over", content: big(2), mode: 0o600 },
          { name: "d/over", content: big(3, 200_000), mode: 0o640, mtime: T },
          { name: "d/gone", content: big(4) },
          { name: "d/gone", type: "directory" },
          { name: "d/gone/x", content: "x" },
          ...Array.from({ length: 80 }, (_, i) => ({ name: `many/${i}`, content: big(i, 70_000), mtime: T })),
        ],
        { compression: "gzip" },
      );
      const f = fs.lstatSync(at("d/suid"));
      expect([f.mode & 0o7777, f.uid, f.gid, f.mtimeMs, f.nlink]).toEqual([0o4755, 1000, 1001, T.getTime(), 2]);
      expect(Buffer.from(fs.readFileSync(at("d/hard"))).equals(Buffer.from(big(1)))).toBe(true);
      expect(Buffer.from(fs.readFileSync(at("d/over"))).equals(Buffer.from(big(3, 200_000)))).toBe(true);
      expect(fs.statSync(at("d/over")).mode & 0o777).toBe(0o640);
      expect(fs.readFileSync(at("d/gone/x"), "utf8")).toBe("x");
      expect(fs.statSync(at("d")).mtimeMs).toBe(T.getTime());
      for (let i = 0; i < 80; i++) {
        expect(Buffer.from(fs.readFileSync(at(`many/${i}`))).equals(Buffer.from(big(i, 70_000)))).toBe(true);
        expect(fs.statSync(at(`many/${i}`)).mtimeMs).toBe(T.getTime());
      }
      expect(fds()).toBe(before);
    });

    test("an archive cut in a big body fails naming the entry, with every write done and every file closed", async () => {
      const before = fds();
      const tar = await buildTar([
        { name: "a", content: big(5, 1 << 20) },
        { name: "b", content: big(6, 1 << 20) },
      ]);
      const cut = tar.slice(0, 512 + (1 << 20) + 512 + 4096);
      await expect(unpackLayer(streamOf(Bun.gzipSync(cut)).stream, "gzip", dest, { sys, maxBytes: 1 << 30, what: WHAT })).rejects.toThrow(
        /entry "b".*ends in the middle|ends in the middle/,
      );
      expect(fds()).toBe(before);
      expect(fs.statSync(at("a")).size).toBe(1 << 20);
      const size = fs.statSync(at("b")).size;
      await Bun.sleep(50);
      expect(fs.statSync(at("b")).size).toBe(size);
    });
  });

  describe("later entries replace earlier ones", () => {
    test("file over file", async () => {
      await unpack([
        { name: "f", content: "old", mode: 0o600 },
        { name: "f", content: "new", mode: 0o644 },
      ]);
      expect(fs.readFileSync(at("f"), "utf8")).toBe("new");
      expect(fs.statSync(at("f")).mode & 0o777).toBe(0o644);
    });
    test("file over a directory tree", async () => {
      await unpack([
        { name: "d/", type: "directory" },
        { name: "d/sub/", type: "directory" },
        { name: "d/sub/x", content: "x" },
        { name: "d", content: "now a file" },
      ]);
      expect(fs.readFileSync(at("d"), "utf8")).toBe("now a file");
    });
    test("directory over directory keeps the contents, takes the metadata", async () => {
      await unpack([
        { name: "d/", type: "directory", mode: 0o755 },
        { name: "d/x", content: "x" },
        { name: "d/", type: "directory", mode: 0o700, uid: 3 },
      ]);
      expect(fs.readdirSync(at("d"))).toEqual(["x"]);
      expect([fs.statSync(at("d")).mode & 0o777, fs.statSync(at("d")).uid]).toEqual([0o700, 3]);
    });
    test("directory over file, symlink over directory, file over symlink", async () => {
      await unpack([
        { name: "a", content: "file" },
        { name: "a/", type: "directory" },
        { name: "b/", type: "directory" },
        { name: "b", type: "symlink", linkname: "a" },
        { name: "c", type: "symlink", linkname: "/etc/passwd" },
        { name: "c", content: "file", mode: 0o600 },
      ]);
      expect(fs.lstatSync(at("a")).isDirectory()).toBe(true);
      expect(fs.readlinkSync(at("b"))).toBe("a");
      expect(fs.lstatSync(at("c")).isFile()).toBe(true);
    });
    test("entries under a replaced directory go to the new one", async () => {
      await unpack([
        { name: "x/", type: "directory" },
        { name: "y/", type: "directory" },
        { name: "p", type: "symlink", linkname: "x" },
        { name: "p/one", content: "1" },
        { name: "p", type: "symlink", linkname: "y" },
        { name: "p/two", content: "2" },
      ]);
      expect(fs.readdirSync(at("x"))).toEqual(["one"]);
      expect(fs.readdirSync(at("y"))).toEqual(["two"]);
    });
  });

  test("devices and fifos go through Sys.mknod with their mode and number", async () => {
    await unpack([
      { name: "dev/", type: "directory" },
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666, uid: 0, gid: 0 },
      { name: "dev/p", type: "fifo", mode: 0o620, uid: 2, gid: 3 },
    ]);
    const mknods = sys.calls.filter((c) => c.op === "mknod").map((c) => [path.relative(dest, c.args[0] as string), c.args[1], c.args[2]]);
    expect(mknods).toEqual([
      ["dev/null", S_IFCHR | 0o666, makedev(1, 3)],
      ["dev/p", S_IFIFO | 0o620, 0],
    ]);
    const p = fs.lstatSync(at("dev/p"));
    expect([p.mode & 0o7777, p.uid, p.gid]).toEqual([0o620, 2, 3]);
  });

  test("xattrs: binary values kept, overlayfs' own refused, unsupported namespaces skipped", async () => {
    const cap = new Uint8Array([1, 0, 0, 2, 0, 0x20, 0, 0, 0xff, 0, 0, 0]);
    sys.failNext("lsetxattr", "EOPNOTSUPP");
    await unpack([
      { name: "f", content: "", pax: { "SCHILY.xattr.security.selinux": "label" } },
      {
        name: "ping",
        content: "",
        mode: 0o755,
        pax: { "SCHILY.xattr.security.capability": cap, "SCHILY.xattr.trusted.overlay.redirect": "/etc", "SCHILY.xattr.user.a": "b" },
      },
    ]);
    expect(xattrCalls()).toEqual([
      ["f", "security.selinux", new TextEncoder().encode("label")],
      ["ping", "security.capability", cap],
      ["ping", "user.a", new TextEncoder().encode("b")],
    ]);
  });

  describe("whiteouts", () => {
    test(".wh.name becomes a 0:0 character device; opaque becomes an xattr; meta names are ignored", async () => {
      await unpack([
        { name: "etc/", type: "directory" },
        { name: "etc/.wh.gone", content: "" },
        { name: "var/lib/.wh..wh..opq", content: "" },
        { name: "etc/.wh..wh.plnk", content: "" },
      ]);
      const mknods = sys.calls.filter((c) => c.op === "mknod").map((c) => [path.relative(dest, c.args[0] as string), c.args[1], c.args[2]]);
      expect(mknods).toEqual([["etc/gone", S_IFCHR, 0]]);
      expect(xattrCalls()).toEqual([["var/lib", "trusted.overlay.opaque", new Uint8Array([0x79])]]);
      expect(fs.statSync(at("var/lib")).isDirectory()).toBe(true);
      expect(fs.readdirSync(at("etc"))).toEqual(["gone"]);
    });
    test("a whiteout hides lower layers only: this layer's own entry stays", async () => {
      await unpack([
        { name: "keep", content: "mine" },
        { name: ".wh.keep", content: "" },
      ]);
      expect(fs.readFileSync(at("keep"), "utf8")).toBe("mine");
      expect(sys.calls.filter((c) => c.op === "mknod")).toEqual([]);
    });
    for (const name of [".wh.", ".wh..", ".wh...", "a/.wh..."]) {
      test(`${JSON.stringify(name)} is refused`, async () => {
        const err = await unpackError([{ name, content: "" }]);
        expect(err).toBeInstanceOf(DataLossError);
        expect(err.message).toMatch(/is a whiteout of "\.{0,2}", which is not a file name$/);
      });
    }
  });

  test("the size limit stops a bomb before writing past it", async () => {
    const err = await unpackError([{ name: "bomb", content: new Uint8Array(4 << 20) }], 1 << 20);
    expect(err).toBeInstanceOf(DataLossError);
    expect(err.message).toBe(`Cannot unpack ${WHAT}: uncompressed size exceeds the limit of ${1 << 20} bytes`);
    expect(fs.statSync(at("bomb")).size).toBeLessThanOrEqual(1 << 20);
  });

  test("a failing syscall is wrapped in one line naming the entry, typed by errno", async () => {
    sys.failNext("mknod", "EPERM");
    const err = await unpackError([{ name: "dev\nnull", type: "character-device", devmajor: 1, devminor: 3 }]);
    expect(err).toBeInstanceOf(PermissionError);
    expect(err.message).toStartWith(`Cannot unpack ${WHAT}: entry "dev\\nnull": mknod `);
    expect(err.message).not.toContain("\n");
  });

  test("an entry under a file is refused", async () => {
    const err = await unpackError([
      { name: "f", content: "" },
      { name: "f/x", content: "" },
    ]);
    expect(err).toBeInstanceOf(DataLossError);
    expect(err.message).toBe(`Cannot unpack ${WHAT}: entry "f/x" has a parent that is not a directory`);
  });
});

test("a missing destination is the caller's error, not the archive's", async () => {
  const err = await unpackLayer(new Blob([await buildTar([{ name: "a", content: "" }])]).stream(), "none", path.join(tmp, "nope"), {
    sys,
    maxBytes: 1 << 20,
    what: WHAT,
  }).catch((e) => e);
  expect(err).toBeInstanceOf(FailedPreconditionError);
  expect(err.message).toBe(`Cannot unpack ${WHAT} into ${JSON.stringify(path.join(tmp, "nope"))}: ENOENT`);
});

test("negative and fractional times are kept", async () => {
  await unpack([
    { name: "old", content: "", pax: { mtime: "-86400" } }, // tar-stream cannot write a negative ustar mtime
    { name: "frac", content: "", pax: { mtime: "1600000000.25" } },
  ]);
  expect(fs.statSync(at("old")).mtimeMs).toBe(-86_400_000);
  expect(fs.statSync(at("frac")).mtimeMs).toBe(1_600_000_000_250);
});
