// `import`: a tar (a file, STDIN or a URL; plain, gzip or zstd) becomes an image of one layer, its
// config made of the --change lines as commit makes it, its history saying where it came from.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError, UnavailableError } from "../errors.ts";
import { capped } from "../rootfs/decompress.ts";
import { decompressed } from "../rootfs/load.ts";
import { TarReader } from "../rootfs/tar.ts";
import { layerSink, type LayerSink } from "../rootfs/writelayer.ts";
import { openStore } from "../store/init.ts";
import { acquireLock } from "../store/lock.ts";
import { applyChanges } from "./commit.ts";
import { assembleImageConfig, createdTime } from "./config.ts";
import { saveBuiltImage, storeLayer } from "./imagestore.ts";

export interface ImportRequest {
  /** A file, "-" for STDIN, or an http(s) URL. */
  source: string;
  target?: string;
  changes: string[];
  message?: string;
}

async function open(ctx: Ctx, source: string): Promise<ReadableStream<Uint8Array>> {
  if (source === "-") return Bun.stdin.stream();
  if (/^https?:\/\//i.test(source)) {
    let res: Response;
    try {
      res = await ctx.fetch(source);
    } catch (err) {
      throw new UnavailableError(`Cannot import ${source}: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok || !res.body) throw new UnavailableError(`Cannot import ${source}: HTTP ${res.status}`);
    return res.body;
  }
  if (!fs.existsSync(source)) throw new InvalidArgumentError(`Cannot import "${source}": no such file`);
  if (fs.statSync(source).isDirectory()) throw new InvalidArgumentError(`Cannot import "${source}": is a directory, not a tar`);
  return Bun.file(source).stream();
}

/** Returns the new image's id. */
export async function importImage(ctx: Ctx, req: ImportRequest): Promise<string> {
  // The changes first: a bad --change is refused before any byte is read.
  const config = applyChanges({}, req.changes);
  const layout = openStore(ctx.root);
  const input = await open(ctx, req.source);
  const gcShared = await acquireLock(ctx, layout.gcLock, { shared: true });
  try {
    // The tar's headers are read as it streams, and a piece is staged for the layer only once the
    // reader asks for the next one: input that is not a tar (junk, a gzip of junk) is refused at
    // its first header, before a byte is written or compressed. Bounded as a pulled layer is: an
    // endless stream or a gzip bomb ends at max-layer-bytes.
    let sink: LayerSink | undefined;
    const stage = (piece: Uint8Array) => (sink ??= layerSink(layout.tmpDir)).write(piece);
    async function* staged(pieces: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      let read: Uint8Array | undefined;
      for await (const piece of pieces) {
        if (read) stage(read);
        read = piece;
        yield piece;
      }
      if (read) stage(read);
    }
    try {
      const what = `"${req.source}"`;
      const tar = new TarReader(staged(capped(decompressed(input, what), ctx.config.maxLayerBytes, what)), what);
      while (await tar.next()) {}
      await tar.drain(); // what follows the end of the archive is part of the layer too
    } catch (err) {
      sink?.destroy(err as Error);
      throw err;
    }
    sink ??= layerSink(layout.tmpDir);
    const { diffId, blob } = sink.end();
    const b = await blob;
    // storeLayer unpacks it: what the entries say (names, links, types) is checked there.
    const layer = await storeLayer(ctx, layout, { ...b, diffId, entries: 0 }, []);
    const created = createdTime(ctx.clock(), process.env.SOURCE_DATE_EPOCH);
    const cfg = assembleImageConfig({
      platform: { os: ctx.platform.os, architecture: ctx.platform.architecture, ...(ctx.platform.variant ? { variant: ctx.platform.variant } : {}) },
      config,
      diffIds: [layer.diffId],
      history: [{ created, comment: req.message ?? `Imported from ${req.source}` }],
      created,
    });
    const saved = await saveBuiltImage(ctx, layout, cfg, [layer], req.target ? [req.target] : []);
    return saved.id;
  } finally {
    gcShared.release();
  }
}
