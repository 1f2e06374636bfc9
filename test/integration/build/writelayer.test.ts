// rootfs/writelayer.ts against an independent tar reader (tar-stream) and against tinydock's own
// unpacker (round trip): an overlay upper directory with every kind of entry becomes the layer.
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { extract } from "tar-stream";
import { treeTar, writeLayer } from "../../../src/rootfs/writelayer.ts";
import { unpackLayer } from "../../../src/rootfs/unpack.ts";
import { makedev, S_IFCHR, S_IFIFO, type Sys } from "../../../src/sys/sys.ts";
import { linuxSys } from "../../../src/sys/linux.ts";
import { tempDirEach } from "../../helpers/tmp.ts";
import { diffTrees, snapshotTree } from "../../helpers/tree.ts";

const sys = linuxSys();
let dir: string;
let upper: string;

tempDirEach("td-writelayer-", ["upper"], (d, u) => ([dir, upper] = [d, u!]));

interface Entry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string | null;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
  body: string;
}

async function readTar(gz: Uint8Array): Promise<Entry[]> {
  const ex = extract();
  const out: Entry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ex.on("entry", (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => void chunks.push(c as Buffer));
      stream.on("end", () => {
        out.push({ name: h.name, type: h.type!, mode: h.mode!, uid: h.uid!, gid: h.gid!, size: h.size!, mtime: h.mtime!.getTime() / 1000, linkname: h.linkname, devmajor: h.devmajor, devminor: h.devminor, ...(h.pax ? { pax: h.pax as Record<string, string> } : {}), body: Buffer.concat(chunks).toString() });
        next();
      });
      stream.resume();
    });
    ex.on("finish", resolve);
    ex.on("error", reject);
  });
  ex.end(Buffer.from(Bun.gunzipSync(gz as Uint8Array<ArrayBuffer>)));
  await done;
  return out;
}

function populate(): void {
  const p = (...r: string[]) => path.join(upper, ...r);
  fs.mkdirSync(p("etc"));
  fs.writeFileSync(p("etc", "conf"), "conf-data");
  fs.chownSync(p("etc", "conf"), 1000, 1001);
  fs.chmodSync(p("etc", "conf"), 0o4755);
  fs.linkSync(p("etc", "conf"), p("etc", "conf-link"));
  fs.symlinkSync("../etc/shadow", p("etc", "sym"));
  sys.mknod(p("gone"), S_IFCHR, makedev(0, 0)); // whiteout
  fs.mkdirSync(p("opaque"));
  sys.lsetxattr(p("opaque"), "trusted.overlay.opaque", new Uint8Array([0x79]));
  fs.writeFileSync(p("opaque", "kept"), "k");
  sys.lsetxattr(p("etc", "conf"), "user.note", new TextEncoder().encode("hello"));
  sys.lsetxattr(p("etc", "conf"), "trusted.overlay.origin", new Uint8Array([1, 2]));
  sys.mknod(p("null"), S_IFCHR | 0o666, makedev(1, 3));
  fs.chmodSync(p("null"), 0o666);
  sys.mknod(p("fifo"), S_IFIFO | 0o600, 0);
  const long = "d".repeat(60);
  fs.mkdirSync(p(long));
  fs.writeFileSync(p(long, "f".repeat(60)), "long");
  for (const f of ["etc", "etc/conf", "etc/sym", "opaque", "opaque/kept", "null", "fifo", long, `${long}/${"f".repeat(60)}`, "gone"]) {
    fs.lutimesSync(p(f), 2_000_000_000, 2_000_000_000);
  }
}

test("every entry kind: whiteouts, opaque markers, hard links, symlinks, devices, xattrs, long names", async () => {
  populate();
  const w = await writeLayer(upper, path.join(dir, "tmp"), { sys });
  const gz = new Uint8Array(fs.readFileSync(w.file));
  expect(w.digest).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(gz).digest("hex")}`);
  expect(w.diffId).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(Bun.gunzipSync(gz)).digest("hex")}`);
  const entries = await readTar(gz);
  const by = new Map(entries.map((e) => [e.name.replace(/\/$/, ""), e]));
  const long = "d".repeat(60);
  expect(entries.map((e) => e.name)).toEqual([
    `${long}/`,
    `${long}/${"f".repeat(60)}`,
    "etc/",
    "etc/conf",
    "etc/conf-link",
    "etc/sym",
    "fifo",
    ".wh.gone",
    "null",
    "opaque/",
    "opaque/.wh..wh..opq",
    "opaque/kept",
  ]);
  expect(by.get("etc/conf")).toMatchObject({ type: "file", mode: 0o4755, uid: 1000, gid: 1001, body: "conf-data", pax: { "SCHILY.xattr.user.note": "hello" } });
  expect(by.get("etc/conf-link")).toMatchObject({ type: "link", linkname: "etc/conf", size: 0 });
  expect(by.get("etc/sym")).toMatchObject({ type: "symlink", linkname: "../etc/shadow" });
  expect(by.get(".wh.gone")).toMatchObject({ type: "file", size: 0 });
  expect(by.get("null")).toMatchObject({ type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 });
  expect(by.get("fifo")).toMatchObject({ type: "fifo", mode: 0o600 });
  expect(by.get(`${long}/${"f".repeat(60)}`)).toMatchObject({ body: "long" });
  // overlay's own xattrs never go into a layer
  for (const e of entries) expect(Object.keys(e.pax ?? {}).filter((k) => k.includes("overlay"))).toEqual([]);
  expect(by.get("etc/sym")!.mtime).toBe(2_000_000_000);
});

test("SOURCE_DATE_EPOCH clamps every mtime; the same tree gives the same digests", async () => {
  populate();
  const a = await writeLayer(upper, path.join(dir, "tmp"), { sys, sourceDateEpoch: 1_000 });
  const entries = await readTar(new Uint8Array(fs.readFileSync(a.file)));
  expect(new Set(entries.map((e) => e.mtime))).toEqual(new Set([1_000]));
  const b = await writeLayer(upper, path.join(dir, "tmp"), { sys, sourceDateEpoch: 1_000 });
  expect([b.digest, b.diffId]).toEqual([a.digest, a.diffId]);
});

test("round trip through tinydock's unpacker: the same tree, whiteouts and opaque marks included", async () => {
  populate();
  const w = await writeLayer(upper, path.join(dir, "tmp"), { sys });
  const out = path.join(dir, "out");
  fs.mkdirSync(out);
  const res = await unpackLayer(Bun.file(w.file).stream(), "gzip", out, { sys, maxBytes: 1 << 30, what: "test layer" });
  expect(res.diffId).toBe(w.diffId);
  const strip = (t: ReturnType<typeof snapshotTree>) => t.map((r) => ({ ...r, mtime: undefined, atime: undefined, ctime: undefined }));
  expect(diffTrees(strip(snapshotTree(upper)), strip(snapshotTree(out)))).toEqual([]);
  expect(sys.lgetxattr(path.join(out, "opaque"), "trusted.overlay.opaque")).toEqual(new Uint8Array([0x79]));
});

/** Bytes this process has read through read(2) and friends so far (/proc/self/io rchar). */
const rchar = () => Number(/^rchar: (\d+)$/m.exec(fs.readFileSync("/proc/self/io", "utf8"))![1]);

/** sha256 of a file as a plain read gives it. */
const sha = (file: string) => new Bun.CryptoHasher("sha256").update(fs.readFileSync(file)).digest("hex");

test("sparse files: holes come out as zeros without being read, the bytes the same as a plain read's (no sparse headers)", () => {
  // A 64 MiB file that is all hole; one of data, a hole, data in the middle and a hole to its end.
  const B = 64 << 20;
  const M = 32 << 20;
  fs.writeFileSync(path.join(upper, "big"), "");
  fs.truncateSync(path.join(upper, "big"), B);
  const fd = fs.openSync(path.join(upper, "mixed"), "w");
  fs.writeSync(fd, "head", 0);
  fs.writeSync(fd, Buffer.alloc(3 << 20, 0x61), 0, 3 << 20, 10 << 20);
  fs.ftruncateSync(fd, M);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(upper, "small"), "x");

  // Entries in name order, each a 512-byte header and its bytes padded to 512; then two zero blocks.
  const contents: [string, number, number][] = [["big", 512, 512 + B], ["mixed", 1024 + B, 1024 + B + M], ["small", 1536 + B + M, 1537 + B + M]];
  /** Each file's bytes in the tar (hashed), the bytes read meanwhile, and the tar's length. */
  const tarOf = (with_: Sys) => {
    const hashers = contents.map(() => new Bun.CryptoHasher("sha256"));
    let at = 0;
    const before = rchar();
    for (const piece of treeTar(with_, upper)) {
      contents.forEach(([, start, end], i) => {
        const from = Math.max(start, at);
        const to = Math.min(end, at + piece.length);
        if (from < to) hashers[i]!.update(piece.subarray(from - at, to - at));
      });
      at += piece.length;
    }
    return { read: rchar() - before, length: at, files: contents.map(([name], i) => [name, hashers[i]!.digest("hex")]) };
  };
  const t = tarOf(sys);
  // The holes were not read: the 3 MiB of data and the directory's entries were.
  expect(t.read).toBeLessThan(8 << 20);
  expect(t.length).toBe(1536 + B + M + 512 + 1024);
  expect(t.files).toEqual(contents.map(([name]) => [name, sha(path.join(upper, name))]));
  // A file system that cannot tell holes (lseek fails): every byte read, the same tar.
  const blind = tarOf({ ...sys, seekExtent: () => { throw new Error("EINVAL"); } });
  expect(blind.read).toBeGreaterThan(B + M);
  expect(blind.files).toEqual(t.files);
}, 60_000);
