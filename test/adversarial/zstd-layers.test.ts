// zstd layers whose sizes lie. A zstd frame declares its content size in its header; `load` must
// refuse a layer whose frames declare more or fewer bytes than they hold, and `save` must not take
// a layer's recorded unpacked size on trust when it writes the docker-archive's layer.tar header
// (a record that disagrees with the blob, as a store written by an older tinydock has, must still
// give a whole archive that loads, never a truncated one).
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { requireBinary, tinydock, type CliEnv } from "../helpers/cli.ts";
import { buildImage, type BuiltImage } from "../helpers/image.ts";
import { buildTar } from "../helpers/tar.ts";

let dir: string;
let image: BuiltImage;
const hex = (d: string) => d.slice(7);

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-zstd-"));
  image = await buildImage({ layers: [{ entries: [{ name: "hello", content: "hi\n".repeat(3000) }], compression: "zstd" }], config: { Cmd: ["sh"] } });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function newEnv(): CliEnv {
  const d = fs.mkdtempSync(path.join(dir, "env-"));
  fs.writeFileSync(path.join(d, "config.json"), "{}");
  return { root: path.join(d, "root"), config: path.join(d, "config.json"), dockerConfig: path.join(d, "docker") };
}

/** The zstd frame `blob` with its declared content size moved by `delta` (its header's field rewritten). */
function lyingFrame(blob: Uint8Array, delta: number): Uint8Array {
  const b = Buffer.from(blob);
  const fhd = b[4]!;
  const single = (fhd >> 5) & 1;
  const bytes = [single ? 1 : 0, 2, 4, 8][fhd >> 6]!;
  const at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!;
  if (bytes === 2) b.writeUInt16LE(b.readUInt16LE(at) + delta, at);
  else if (bytes === 4) b.writeUInt32LE(b.readUInt32LE(at) + delta, at);
  else throw new Error(`test layer's frame declares its size in ${bytes} bytes`);
  return new Uint8Array(b);
}

function dockerArchive(layer: Uint8Array): Promise<Uint8Array> {
  return buildTar([
    { name: `${hex(image.configDigest)}.json`, content: image.config },
    { name: "layer/layer.tar.zst", content: layer },
    { name: "manifest.json", content: JSON.stringify([{ Config: `${hex(image.configDigest)}.json`, RepoTags: ["zstd:lie"], Layers: ["layer/layer.tar.zst"] }]) },
  ]);
}

test("a zstd layer whose frame declares more or fewer bytes than it holds is refused by load", async () => {
  const blob = image.layers[0]!.blob;
  const cases = [1, -1, 512, -512, 4096];
  for (const delta of cases) {
    const env = newEnv();
    const file = path.join(dir, `lie${delta}.tar`);
    fs.writeFileSync(file, await dockerArchive(lyingFrame(blob, delta)));
    const r = tinydock(env, ["load", "-i", file]);
    expect(`${delta}: ${r.code} ${r.stderr.trimEnd().split("\n").length} ${r.stdout}`).toBe(`${delta}: 1 1 `);
    expect(r.stderr).toMatch(/zstd data is corrupt|diff_id|config says/);
    expect(tinydock(env, ["images", "-q"]).stdout).toBe("");
  }
  // The frame as it was loads: the cases above fail for their lie alone.
  const env = newEnv();
  const file = path.join(dir, "true.tar");
  fs.writeFileSync(file, await dockerArchive(blob));
  expect(tinydock(env, ["load", "-i", file])).toEqual({ code: 0, stdout: "Loaded image: zstd:lie\n", stderr: "" });
  recordCases("zstd layers whose frame content size lies, given to load", cases.length);
});

test("save of a zstd layer whose recorded unpacked size is wrong checks it against the blob: the archive is whole and loads", async () => {
  const env = newEnv();
  const file = path.join(dir, "oci.tar");
  fs.writeFileSync(file, await dockerArchive(image.layers[0]!.blob));
  expect(tinydock(env, ["load", "-i", file]).code).toBe(0);
  const record = path.join(env.root, "images", `${hex(image.configDigest)}.json`);
  const good = JSON.parse(fs.readFileSync(record, "utf8"));
  const cases = [-512, 512, 1];
  for (const delta of cases) {
    const r = { ...good, layers: [{ ...good.layers[0], unpackedSize: good.layers[0].unpackedSize + delta }] };
    fs.writeFileSync(record, JSON.stringify(r));
    const out = path.join(dir, `saved${delta}.tar`);
    const s = tinydock(env, ["save", "-o", out, "zstd:lie"]);
    expect(`${delta}: ${s.code} ${s.stderr}`).toBe(`${delta}: 0 `);
    const again = newEnv();
    expect(tinydock(again, ["load", "-i", out])).toEqual({ code: 0, stdout: "Loaded image: zstd:lie\n", stderr: "" });
  }
  recordCases("zstd layers whose recorded unpacked size is wrong, given to save", cases.length);
});
