// The bench image: ~300 MB unpacked in 8 gzip layers, built from a seeded PRNG so every machine and
// every run gets the same bytes for the same busybox. It mixes incompressible data (libraries,
// assets), compressible text (sources, docs, logs) and many small files, so a pull pays for
// transfer, gunzip, tar parsing and file creation alike. Building takes ~20 s, so the result is
// cached under /var/tmp/tinydock-bench/, keyed by a hash of the recipe below.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { busyboxEntries } from "../test/helpers/busybox.ts";
import { buildImage, type BuiltImage, type BuiltLayer, type LayerSpec } from "../test/helpers/image.ts";
import type { TarEntry } from "../test/helpers/tar.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

interface FileSet {
  count: number;
  min: number;
  max: number;
}

interface LayerRecipe {
  createdBy: string;
  /** Directory the layer's files go under. */
  dir: string;
  /** Files of random bytes: shared objects, images, archives. */
  binary?: FileSet;
  /** Files of source-like text, which gzip shrinks about 3-4×. */
  text?: FileSet;
  /** Files per directory, so trees look like real ones rather than one huge directory. */
  perDir: number;
}

/** Layer 0 is busybox; these are layers 1-7. Any change to this file changes the cache key. */
const RECIPE: LayerRecipe[] = [
  {
    createdBy: "COPY libs/ /usr/lib/x86_64-linux-gnu/",
    dir: "usr/lib/x86_64-linux-gnu",
    binary: { count: 24, min: 1 * MiB, max: 5 * MiB },
    text: { count: 200, min: 4 * KiB, max: 40 * KiB },
    perDir: 50,
  },
  { createdBy: "COPY src/ /usr/src/app/", dir: "usr/src/app", text: { count: 4000, min: 1 * KiB, max: 20 * KiB }, perDir: 80 },
  {
    createdBy: "COPY data/ /opt/data/",
    dir: "opt/data",
    binary: { count: 12, min: 4 * MiB, max: 4 * MiB },
    text: { count: 1, min: 16 * MiB, max: 16 * MiB },
    perDir: 20,
  },
  { createdBy: "RUN make docs", dir: "usr/share/doc", text: { count: 1500, min: 2 * KiB, max: 40 * KiB }, perDir: 60 },
  {
    createdBy: "RUN npm ci",
    dir: "app/node_modules",
    text: { count: 6000, min: 1 * KiB, max: 8 * KiB },
    binary: { count: 2000, min: 1 * KiB, max: 8 * KiB },
    perDir: 25,
  },
  { createdBy: "COPY assets/ /opt/assets/", dir: "opt/assets", binary: { count: 300, min: 50 * KiB, max: 250 * KiB }, perDir: 100 },
  { createdBy: "COPY etc/ /etc/app/", dir: "etc/app", text: { count: 200, min: 512, max: 4 * KiB }, perDir: 50 },
];

const CONFIG = {
  Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  Cmd: ["sh"],
  WorkingDir: "/app",
};

export const CACHE_ROOT = "/var/tmp/tinydock-bench";
const CACHE_FORMAT = 1;

export interface BenchImage {
  image: BuiltImage;
  /** Sum of the layer tars, i.e. what a pull writes to disk (before whiteouts). */
  unpackedBytes: number;
  /** Entries in all layer tars. */
  entries: number;
  cacheDir: string;
  /** Path of each layer blob in the cache, in layer order. */
  layerFiles: string[];
}

interface CacheMeta {
  format: number;
  manifestMediaType: string;
  manifestDigest: string;
  configDigest: string;
  platform: BuiltImage["platform"];
  layers: Omit<BuiltLayer, "blob">[];
  unpackedBytes: number;
  entries: number;
}

/** The cache key: this file (recipe and generator) and the busybox it embeds. */
function cacheKey(): string {
  const h = createHash("sha256");
  // The generator's own code, so any change to how bytes are made rebuilds the image.
  h.update(fs.readFileSync(import.meta.path));
  h.update(fs.readFileSync("/bin/busybox"));
  return h.digest("hex").slice(0, 12);
}

/** The bench image from the cache, built (and cached) first if needed. */
export async function benchImage(log: (line: string) => void): Promise<BenchImage> {
  const dir = path.join(CACHE_ROOT, `image-${cacheKey()}`);
  const cached = loadCache(dir);
  if (cached) return cached;
  log(`building the bench image into ${dir} (once; later runs reuse it)`);
  const t0 = performance.now();
  const built = await buildBenchImage();
  saveCache(dir, built.image, built.unpackedBytes, built.entries);
  // Older recipes' caches are dead weight.
  for (const name of fs.readdirSync(CACHE_ROOT)) {
    if (name.startsWith("image-") && path.join(CACHE_ROOT, name) !== dir) {
      fs.rmSync(path.join(CACHE_ROOT, name), { recursive: true, force: true });
    }
  }
  log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const loaded = loadCache(dir);
  if (!loaded) throw new Error(`Cannot read back the bench image cache "${dir}"`);
  return loaded;
}

async function buildBenchImage(): Promise<{ image: BuiltImage; unpackedBytes: number; entries: number }> {
  const specs: LayerSpec[] = [{ entries: busyboxEntries(), createdBy: "ADD busybox rootfs" }];
  RECIPE.forEach((recipe, i) => specs.push({ entries: layerEntries(recipe, i + 1), createdBy: recipe.createdBy }));
  // The last layer also changes what is below it, as real images do.
  specs[specs.length - 1]!.entries!.push(
    { name: "etc/hostname", content: "bench\n" },
    ...["usr/", "usr/share/", "usr/share/doc/", "usr/share/doc/d000/"].map((name): TarEntry => ({ name, type: "directory" })),
    { name: "usr/share/doc/d000/.wh.doc-00000.md", content: "" },
  );
  const unpackedBytes = specs.reduce((n, s) => n + s.entries!.reduce((m, e) => m + byteLength(e.content), 0), 0);
  const entries = specs.reduce((n, s) => n + s.entries!.length, 0);
  const image = await buildImage({ layers: specs, config: CONFIG });
  return { image, unpackedBytes, entries };
}

function byteLength(content: TarEntry["content"]): number {
  if (content === undefined) return 0;
  return typeof content === "string" ? Buffer.byteLength(content) : content.length;
}

function layerEntries(recipe: LayerRecipe, seed: number): TarEntry[] {
  const rng = new Xoshiro128(seed);
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  const addDir = (dir: string): void => {
    const parts = dir.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!dirs.has(d)) {
        dirs.add(d);
        entries.push({ name: `${d}/`, type: "directory", mode: 0o755 });
      }
    }
  };
  const place = (index: number, name: string): string => {
    const dir = `${recipe.dir}/d${String(Math.floor(index / recipe.perDir)).padStart(3, "0")}`;
    addDir(dir);
    return `${dir}/${name}`;
  };
  let n = 0;
  const kinds: ["text" | "binary", FileSet | undefined][] = [
    ["text", recipe.text],
    ["binary", recipe.binary],
  ];
  for (const [kind, set] of kinds) {
    if (!set) continue;
    for (let i = 0; i < set.count; i++, n++) {
      const size = set.min + rng.below(set.max - set.min + 1);
      if (kind === "text") {
        const ext = recipe.dir.includes("doc") ? "md" : "js";
        const prefix = recipe.dir.includes("doc") ? "doc" : "src";
        entries.push({ name: place(n, `${prefix}-${String(i).padStart(5, "0")}.${ext}`), content: text(rng, size) });
      } else {
        entries.push({ name: place(n, `lib${String(i).padStart(5, "0")}.so`), content: rng.bytes(size), mode: 0o755 });
      }
    }
  }
  return entries;
}

const encoder = new TextEncoder();
let vocabulary: Uint8Array[] | undefined;
const PUNCT = [" = ", "(", ") ", ", ", ".", "; ", " { ", " } ", " => ", " + ", ": "].map((s) => encoder.encode(s));

/** 4096 made-up identifiers from a fixed seed: the words source files share. */
function words(): Uint8Array[] {
  if (vocabulary) return vocabulary;
  const rng = new Xoshiro128(0x5eed);
  const syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "der", "ion", "get", "set", "buf", "len", "ptr", "map", "_", "x"];
  vocabulary = Array.from({ length: 4096 }, () => {
    let w = "";
    const parts = 1 + rng.below(4);
    for (let i = 0; i < parts; i++) w += syllables[rng.below(syllables.length)];
    return encoder.encode(w);
  });
  return vocabulary;
}

/** `size` bytes of indented, code-like lines. */
function text(rng: Xoshiro128, size: number): Uint8Array {
  const vocab = words();
  const out = new Uint8Array(size + 256);
  let at = 0;
  while (at < size) {
    const indent = 2 * rng.below(5);
    out.fill(0x20, at, at + indent);
    at += indent;
    const tokens = 3 + rng.below(10);
    for (let t = 0; t < tokens; t++) {
      // A few identifiers are everywhere and most are rare, as in real code: gzip gets ~3.5×.
      const common = Math.floor(vocab.length * (rng.next() / 2 ** 32) ** 3);
      const word = rng.below(12) === 0 ? encoder.encode(String(rng.below(1000))) : vocab[common]!;
      out.set(word, at);
      at += word.length;
      const p = PUNCT[rng.below(PUNCT.length)]!;
      out.set(p, at);
      at += p.length;
    }
    out[at++] = 0x0a;
  }
  return out.subarray(0, size);
}

/** xoshiro128**: small, fast, and the same sequence on every machine for the same seed. */
class Xoshiro128 {
  private s = new Uint32Array(4);

  constructor(seed: number) {
    // splitmix32 spreads a small seed over the whole state.
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** An integer in [0, n). The modulo bias is irrelevant for a bench. */
  below(n: number): number {
    return this.next() % n;
  }

  bytes(n: number): Uint8Array {
    const words = new Uint32Array(Math.ceil(n / 4));
    for (let i = 0; i < words.length; i++) words[i] = this.next();
    return new Uint8Array(words.buffer, 0, n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function saveCache(dir: string, image: BuiltImage, unpackedBytes: number, entries: number): void {
  fs.mkdirSync(CACHE_ROOT, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, "blobs"), { recursive: true });
  for (const layer of image.layers) fs.writeFileSync(path.join(tmp, "blobs", hex(layer.digest)), layer.blob);
  fs.writeFileSync(path.join(tmp, "blobs", hex(image.configDigest)), image.config);
  fs.writeFileSync(path.join(tmp, "manifest.json"), image.manifest);
  const meta: CacheMeta = {
    format: CACHE_FORMAT,
    manifestMediaType: image.manifestMediaType,
    manifestDigest: image.manifestDigest,
    configDigest: image.configDigest,
    platform: image.platform,
    layers: image.layers.map(({ blob: _blob, ...rest }) => rest),
    unpackedBytes,
    entries,
  };
  // meta.json last: a cache without it is incomplete and gets rebuilt.
  fs.writeFileSync(path.join(tmp, "meta.json"), JSON.stringify(meta, null, 2));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
}

function loadCache(dir: string): BenchImage | undefined {
  let meta: CacheMeta;
  try {
    meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8")) as CacheMeta;
  } catch {
    return undefined;
  }
  if (meta.format !== CACHE_FORMAT) return undefined;
  const layerFiles = meta.layers.map((l) => path.join(dir, "blobs", hex(l.digest)));
  // Sizes only: the registry checks every digest on push, so a corrupt cache cannot go unnoticed.
  const sizesOk = meta.layers.every((l, i) => fs.statSync(layerFiles[i]!, { throwIfNoEntry: false })?.size === l.size);
  if (!sizesOk) return undefined;
  const layers = meta.layers.map((l, i) => ({ ...l, blob: new Uint8Array(fs.readFileSync(layerFiles[i]!)) }));
  const image: BuiltImage = {
    format: "oci",
    manifest: new Uint8Array(fs.readFileSync(path.join(dir, "manifest.json"))),
    manifestDigest: meta.manifestDigest,
    manifestMediaType: meta.manifestMediaType,
    config: new Uint8Array(fs.readFileSync(path.join(dir, "blobs", hex(meta.configDigest)))),
    configDigest: meta.configDigest,
    layers,
    platform: meta.platform,
  };
  return { image, unpackedBytes: meta.unpackedBytes, entries: meta.entries, cacheDir: dir, layerFiles };
}

function hex(digest: string): string {
  return digest.slice("sha256:".length);
}
