import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { DataLossError } from "../../../src/errors.ts";
import { MAX_META_BYTES, TarReader, type TarHeader } from "../../../src/rootfs/tar.ts";
import { buildTar, concatBytes, END_OF_ARCHIVE, paxHeader, rawBody, rawHeader, type TarEntry } from "../../helpers/tar.ts";
import { recordCases } from "../../helpers/adversarial.ts";

const WHAT = "layer sha256:0123abcd";

async function* chunked(bytes: Uint8Array, sizes: number[] = [bytes.length]): AsyncGenerator<Uint8Array> {
  let off = 0;
  for (let i = 0; off < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]!);
    yield bytes.subarray(off, off + n);
    off += n;
  }
}

interface Read {
  header: TarHeader;
  body: string;
}

async function readAll(bytes: Uint8Array, sizes?: number[]): Promise<Read[]> {
  const tar = new TarReader(chunked(bytes, sizes), WHAT);
  const out: Read[] = [];
  for (let h = await tar.next(); h; h = await tar.next()) {
    const parts: Uint8Array[] = [];
    if (h.type === "file") await tar.body((b) => parts.push(b.slice()));
    out.push({ header: h, body: Buffer.concat(parts).toString() });
  }
  await tar.drain();
  return out;
}

async function readError(bytes: Uint8Array): Promise<Error> {
  try {
    await readAll(bytes);
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the archive to be refused");
}

describe("TarReader", () => {
  test("reads every entry kind with its metadata", async () => {
    const tar = await buildTar([
      { name: "dir/", type: "directory", mode: 0o1777, uid: 7, gid: 8 },
      { name: "dir/file", content: "hello", mode: 0o4755, uid: 1000, gid: 1001, mtime: new Date(1_700_000_000_000) },
      { name: "dir/sym", type: "symlink", linkname: "../target" },
      { name: "dir/hard", type: "link", linkname: "dir/file" },
      { name: "null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
      { name: "loop0", type: "block-device", devmajor: 7, devminor: 0 },
      { name: "pipe", type: "fifo" },
    ]);
    const got = await readAll(tar);
    expect(got.map((r) => [r.header.name, r.header.type])).toEqual([
      ["dir/", "directory"],
      ["dir/file", "file"],
      ["dir/sym", "symlink"],
      ["dir/hard", "hardlink"],
      ["null", "char"],
      ["loop0", "block"],
      ["pipe", "fifo"],
    ]);
    const [dir, file, sym, hard, chr, blk] = got.map((r) => r.header);
    expect(dir).toMatchObject({ mode: 0o1777, uid: 7, gid: 8 });
    expect(file).toMatchObject({ mode: 0o4755, uid: 1000, gid: 1001, size: 5, mtime: 1_700_000_000 });
    expect(got[1]!.body).toBe("hello");
    expect(sym!.linkname).toBe("../target");
    expect(hard!.linkname).toBe("dir/file");
    expect(chr).toMatchObject({ devmajor: 1, devminor: 3, mode: 0o666 });
    expect(blk).toMatchObject({ devmajor: 7, devminor: 0 });
  });

  test("long names, PAX times and binary xattrs", async () => {
    const long = `${"d".repeat(120)}/${"f".repeat(150)}`;
    const cap = new Uint8Array([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0xfe, 0x80, 0x00]);
    const tar = await buildTar([
      { name: long, content: "x" },
      { name: "ping", content: "", pax: { "SCHILY.xattr.security.capability": cap, "SCHILY.xattr.user.note": "hi=there" } },
      { name: "t", content: "", pax: { mtime: "1700000000.5", atime: "1600000000" } },
    ]);
    const [a, b, c] = (await readAll(tar)).map((r) => r.header);
    expect(a!.name).toBe(long);
    expect(b!.name).toBe("ping");
    expect(b!.xattrs).toEqual([
      ["security.capability", cap],
      ["user.note", new TextEncoder().encode("hi=there")],
    ]);
    expect(c!.mtime).toBe(1_700_000_000.5);
    expect(c!.atime).toBe(1_600_000_000);
  });

  test("GNU long names and base-256 numbers", async () => {
    const longName = `gnu/${"n".repeat(200)}`;
    const longLink = `/${"l".repeat(300)}`;
    const header = rawHeader({ name: "short", typeflag: "2", magic: "gnu" });
    // uid 2^33 in base-256 would be refused (uid range); use 2^21 to exercise the encoding.
    header.set([0x80, 0, 0, 0, 0, 0x20, 0, 0], 108);
    let sum = 0;
    header.fill(0x20, 148, 156);
    for (const c of header) sum += c;
    header.set(Buffer.from(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
    const tar = concatBytes([
      rawHeader({ name: "././@LongLink", typeflag: "L", size: longName.length + 1, magic: "gnu" }),
      rawBody(Buffer.from(`${longName}\0`)),
      rawHeader({ name: "././@LongLink", typeflag: "K", size: longLink.length, magic: "gnu" }),
      rawBody(Buffer.from(longLink)),
      header,
      END_OF_ARCHIVE,
    ]);
    const [h] = (await readAll(tar)).map((r) => r.header);
    expect(h).toMatchObject({ name: longName, linkname: longLink, type: "symlink", uid: 0x200000 });
  });

  test("chunk boundaries do not matter", async () => {
    const entries: TarEntry[] = [
      { name: "a", content: "x".repeat(1000) },
      { name: "b".repeat(150), content: "y".repeat(513) },
      { name: "c", content: "", pax: { "SCHILY.xattr.user.k": new Uint8Array([0, 1, 2, 255]) } },
      { name: "d/", type: "directory" },
    ];
    const tar = await buildTar(entries);
    const want = await readAll(tar);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
        expect(await readAll(tar, sizes)).toEqual(want);
      }),
      { numRuns: 60 },
    );
    recordCases("property unit/rootfs/tar.test.ts: chunk boundaries do not matter", 60);
    expect(await readAll(tar, [1])).toEqual(want);
  });

  test("an empty stream and a bare end marker are empty archives", async () => {
    expect(await readAll(new Uint8Array(0))).toEqual([]);
    expect(await readAll(END_OF_ARCHIVE)).toEqual([]);
  });

  test("old archives mark directories with a trailing slash", async () => {
    const tar = concatBytes([rawHeader({ name: "olddir/", typeflag: "0" }), END_OF_ARCHIVE]);
    expect((await readAll(tar))[0]!.header.type).toBe("directory");
  });

  const hostile: [string, () => Uint8Array, RegExp][] = [
    ["a bad checksum", () => concatBytes([rawHeader({ name: "a", typeflag: "0", badChecksum: true }), END_OF_ARCHIVE]), /checksum mismatch/],
    [
      "a PAX header larger than the bound, refused before it is read",
      () => rawHeader({ name: "PaxHeader", typeflag: "x", size: MAX_META_BYTES + 1 }),
      /extended header of 1048577 bytes/,
    ],
    ["a truncated body", () => rawHeader({ name: "a", typeflag: "0", size: 100 }), /ends in the middle of an entry/],
    ["an extended header with no entry", () => concatBytes([paxHeader({ path: "x" }), END_OF_ARCHIVE]), /ends after an extended header/],
    ["a sparse file", () => concatBytes([rawHeader({ name: "s", typeflag: "S" }), END_OF_ARCHIVE]), /unsupported type "S"/],
    [
      "a PAX sparse file",
      () => concatBytes([paxHeader({ "GNU.sparse.major": "1" }), rawHeader({ name: "s", typeflag: "0" }), END_OF_ARCHIVE]),
      /sparse file/,
    ],
    ["a malformed PAX record", () => concatBytes([rawHeader({ name: "P", typeflag: "x", size: 9 }), rawBody(Buffer.from("99 a=b\n\n\n")), END_OF_ARCHIVE]), /malformed PAX/],
    ["a PAX size that is not a number", () => concatBytes([paxHeader({ size: "1e9" }), rawHeader({ name: "a", typeflag: "0" }), END_OF_ARCHIVE]), /PAX size/],
    ["a name longer than PATH_MAX", () => concatBytes([paxHeader({ path: "a/".repeat(3000) }), rawHeader({ name: "a", typeflag: "0" }), END_OF_ARCHIVE]), /longer than 4096/],
    ["a non-octal number", () => {
      const h = rawHeader({ name: "a", typeflag: "0" });
      h.set(Buffer.from("12x"), 100);
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const c of h) sum += c;
      h.set(Buffer.from(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
      return concatBytes([h, END_OF_ARCHIVE]);
    }, /mode field is not octal/],
  ];
  for (const [what, bytes, message] of hostile) {
    test(`refuses ${what} with a one-line DataLossError`, async () => {
      const err = await readError(bytes());
      expect(err).toBeInstanceOf(DataLossError);
      expect(err.message).toMatch(message);
      expect(err.message).toStartWith(`Cannot unpack ${WHAT}: `);
      expect(err.message).not.toContain("\n");
      recordCases(`hostile tar header: ${what}`, 1);
    });
  }

  test("drain reads the source to its end", async () => {
    const tar = await buildTar([{ name: "a", content: "x" }]);
    const trailing = concatBytes([tar, new Uint8Array(4096).fill(7)]);
    let pulled = 0;
    async function* counting() {
      for await (const c of chunked(trailing, [100])) {
        pulled += c.length;
        yield c;
      }
    }
    const reader = new TarReader(counting(), WHAT);
    while (await reader.next());
    await reader.drain();
    expect(pulled).toBe(trailing.length);
  });
});
