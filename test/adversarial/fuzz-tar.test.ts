// Fuzzing of the tar reader that every layer passes through: archives of a few entries whose
// header fields (numbers in octal, base-256 and junk; names; type flags; ustar magic), PAX and GNU
// long-name records and bodies are hostile, each header with a valid checksum so the reader gets
// past its first check, and cut off at a random point or fed in odd chunk sizes. Reading every
// entry and its body either succeeds or throws one of src/errors.ts's kinds, within a second.
import { describe, test } from "bun:test";
import fc from "fast-check";
import { TarReader } from "../../src/rootfs/tar.ts";
import { concatBytes } from "../helpers/tar.ts";
import { fuzzAsync, JUNK, NUMBERS, tokens, typedOrNothingAsync } from "../helpers/fuzz.ts";

const enc = new TextEncoder();

/** A 512-byte header: `fields` written at their offsets, then the checksum made valid (or not). */
function header(fields: { name: string; mode: string; uid: string; size: Uint8Array; mtime: string; flag: string; link: string; magic: string; prefix: string }, goodSum: boolean): Uint8Array {
  const b = new Uint8Array(512);
  const put = (s: string | Uint8Array, at: number, len: number) => b.set((typeof s === "string" ? enc.encode(s) : s).subarray(0, len), at);
  put(fields.name, 0, 100);
  put(fields.mode, 100, 8);
  put(fields.uid, 108, 8);
  put(fields.uid, 116, 8);
  put(fields.size, 124, 12);
  put(fields.mtime, 136, 12);
  put(fields.flag, 156, 1);
  put(fields.link, 157, 100);
  put(fields.magic, 257, 8);
  put(fields.prefix, 345, 155);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  put(`${(goodSum ? sum : sum + 1).toString(8).padStart(6, "0")}\0 `, 148, 8);
  return b;
}

/** A PAX record with a length that is right, or off by a little, or absurd. */
function paxRecord(key: string, value: string, lie: number): string {
  const rest = enc.encode(key).length + enc.encode(value).length + 3;
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return `${lie === 0 ? len : lie === 1 ? len + 1 : lie === 2 ? len - 1 : lie === 3 ? 99999999 : -1} ${key}=${value}\n`;
}

const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, "0")}\0`;
const numberText = tokens([...NUMBERS, "0", "7", "777", " ", "\0", "8", "-", "+", "x"], 6);
const sizeField = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 1500 }).map((n) => enc.encode(octal(n, 12))) },
  { weight: 1, arbitrary: numberText.map((s) => enc.encode(s)) },
  // base-256: the high bit set, then big-endian bytes (sizes up to 2^88)
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 11, maxLength: 11 }).map((rest) => Uint8Array.of(0x80, ...rest)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 12, maxLength: 12 }) },
);
const name = tokens([...JUNK, "a", "b", "/", "..", ".", "./", ".wh.", ".wh..wh..opq", "etc/passwd", "x".repeat(99), "\u00e9"], 8);
const fields = fc.record({
  name,
  mode: fc.oneof(fc.constant(octal(0o644, 8)), numberText),
  uid: fc.oneof(fc.constant(octal(0, 8)), numberText),
  size: sizeField,
  mtime: fc.oneof(fc.constant(octal(1704164645, 12)), numberText),
  flag: fc.constantFrom("0", "\0", "1", "2", "3", "4", "5", "6", "7", "x", "g", "L", "K", "S", "V", "D", "Z"),
  link: name,
  magic: fc.constantFrom("ustar\u000000", "ustar  \0", "\0\0\0\0\0\0\0\0", "garbage!"),
  prefix: fc.oneof(fc.constant(""), name),
});
const paxKeys = fc.constantFrom("path", "linkpath", "size", "uid", "gid", "mtime", "atime", "uname", "SCHILY.xattr.user.a", "GNU.sparse.map", "", "=", "comment");
const paxValue = tokens([...NUMBERS, ...JUNK, "a", "/", "..", "-1.5", "1e3"], 6);
const entry = fc.record({
  fields,
  goodSum: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  pax: fc.array(fc.tuple(paxKeys, paxValue, fc.integer({ min: 0, max: 6 })), { maxLength: 3 }),
  body: fc.uint8Array({ maxLength: 1100 }),
});
const archive = fc.record({
  entries: fc.array(entry, { minLength: 1, maxLength: 4 }),
  cut: fc.option(fc.integer({ min: 0, max: 8000 })),
  chunk: fc.integer({ min: 1, max: 1500 }),
});

type ArchiveSpec = typeof archive extends fc.Arbitrary<infer T> ? T : never;

function build(a: ArchiveSpec): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of a.entries) {
    if (e.pax.length) {
      const body = enc.encode(e.pax.map(([k, v, lie]) => paxRecord(k, v, lie)).join(""));
      parts.push(header({ ...e.fields, flag: "x", size: enc.encode(octal(body.length, 12)) }, true), body, new Uint8Array((512 - (body.length % 512)) % 512));
    }
    parts.push(header(e.fields, e.goodSum), e.body, new Uint8Array((512 - (e.body.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  const all = concatBytes(parts);
  return a.cut === null ? all : all.subarray(0, Math.min(all.length, a.cut));
}

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < bytes.length; off += size) yield bytes.slice(off, off + size);
}

describe("fuzz: the tar reader throws only typed errors", () => {
  test("hostile headers, PAX records, bodies, truncation and chunking", async () => {
    await fuzzAsync("tar headers", archive, 2500, async (a) => {
      const bytes = build(a);
      await typedOrNothingAsync({ entries: a.entries.length, cut: a.cut, chunk: a.chunk }, async () => {
        const r = new TarReader(chunks(bytes, a.chunk)[Symbol.asyncIterator](), "layer sha256:fuzz");
        // Bounded: an archive of n bytes has at most n/512 headers.
        for (let i = 0; i <= bytes.length / 512 + 1; i++) {
          const h = await r.next();
          if (!h) break;
          await r.body(() => {});
        }
      });
    });
  }, 60_000);
});
