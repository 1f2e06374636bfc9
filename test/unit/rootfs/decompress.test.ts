import { describe, expect, test } from "bun:test";
import { DataLossError, UnavailableError } from "../../../src/errors.ts";
import { decompress } from "../../../src/rootfs/decompress.ts";
import type { Compression } from "../../../src/image/manifest.ts";

const WHAT = "layer sha256:0123abcd";
const enc = new TextEncoder();

function streamOf(parts: Uint8Array[], opts: { failAfter?: unknown } = {}): { stream: ReadableStream<Uint8Array>; state: { pulled: number; cancelled: boolean } } {
  const state = { pulled: 0, cancelled: false };
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < parts.length) {
        state.pulled++;
        c.enqueue(parts[i++]!);
      } else if (opts.failAfter !== undefined) c.error(opts.failAfter);
      else c.close();
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

async function text(input: ReadableStream<Uint8Array>, compression: Compression): Promise<string> {
  const out: Uint8Array[] = [];
  for await (const c of decompress(input, compression, WHAT)) out.push(c);
  return Buffer.concat(out).toString();
}

function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe("decompress", () => {
  test("none passes bytes through", async () => {
    expect(await text(streamOf([enc.encode("ab"), enc.encode("c")]).stream, "none")).toBe("abc");
  });

  test("gzip, in small chunks", async () => {
    const body = "hello ".repeat(10_000);
    expect(await text(streamOf(split(Bun.gzipSync(enc.encode(body)), 7)).stream, "gzip")).toBe(body);
  });

  test("gzip with several members (pigz, concatenated layers)", async () => {
    const two = Buffer.concat([Bun.gzipSync(enc.encode("first ")), Bun.gzipSync(enc.encode("second"))]);
    expect(await text(streamOf([two]).stream, "gzip")).toBe("first second");
  });

  test("zstd, with several frames", async () => {
    const two = Buffer.concat([Bun.zstdCompressSync(enc.encode("one ")), Bun.zstdCompressSync(enc.encode("two"))]);
    expect(await text(streamOf(split(two, 5)).stream, "zstd")).toBe("one two");
  });

  for (const compression of ["gzip", "zstd"] as const) {
    test(`corrupt and truncated ${compression} is a one-line DataLossError`, async () => {
      const good = compression === "gzip" ? Bun.gzipSync(enc.encode("x".repeat(1000))) : Bun.zstdCompressSync(enc.encode("x".repeat(1000)));
      for (const bad of [good.subarray(0, good.length - 6), enc.encode("this is not compressed at all")]) {
        const err = await text(streamOf([bad]).stream, compression).catch((e) => e);
        expect(err).toBeInstanceOf(DataLossError);
        expect(err.message).toStartWith(`Cannot unpack ${WHAT}: ${compression} data is corrupt`);
        expect(err.message).not.toContain("\n");
      }
    });
  }

  test("an error of the input itself passes through unchanged", async () => {
    const cause = new UnavailableError("Cannot fetch blob: connection reset");
    for (const compression of ["gzip", "zstd", "none"] as const) {
      const packed = compression === "zstd" ? Bun.zstdCompressSync(enc.encode("x")) : Bun.gzipSync(enc.encode("x"));
      const { stream } = streamOf([packed.subarray(0, 5)], { failAfter: cause });
      expect(await text(stream, compression).catch((e) => e)).toBe(cause);
    }
  });

  test("stopping early cancels the input", async () => {
    const big = Bun.gzipSync(new Uint8Array(8 << 20));
    const { stream, state } = streamOf(split(big, 1024));
    const gen = decompress(stream, "gzip", WHAT);
    await gen.next();
    await gen.return();
    expect(state.cancelled).toBe(true);
    expect(state.pulled).toBeLessThan(split(big, 1024).length);
  });
});
