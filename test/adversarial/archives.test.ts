// Hostile and broken archives given to `tinydock load`: each is refused with one line and exit 1,
// and the store is left as it was (no tag, no image record, nothing in ingest/).
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { requireBinary, tinydock, type CliEnv } from "../helpers/cli.ts";
import { buildImage, type BuiltImage } from "../helpers/image.ts";
import { buildTar, concatBytes, END_OF_ARCHIVE, rawBody, rawHeader, type TarEntry } from "../helpers/tar.ts";

let dir: string;
let image: BuiltImage;
const hex = (d: string) => d.slice(7);

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-archives-"));
  image = await buildImage({ layers: [{ entries: [{ name: "hello", content: "hi\n" }] }], config: { Cmd: ["sh"] } });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function newEnv(): CliEnv {
  const d = fs.mkdtempSync(path.join(dir, "env-"));
  fs.writeFileSync(path.join(d, "config.json"), "{}");
  return { root: path.join(d, "root"), config: path.join(d, "config.json"), dockerConfig: path.join(d, "docker") };
}

/** An OCI layout of `image`, with `edit` applied to its entries first. */
function ociEntries(edit: (e: TarEntry[]) => TarEntry[] = (e) => e, annotations = { "org.opencontainers.image.ref.name": "evil:v1" }): Promise<Uint8Array> {
  const index = { schemaVersion: 2, manifests: [{ mediaType: image.manifestMediaType, digest: image.manifestDigest, size: image.manifest.length, annotations }] };
  const entries: TarEntry[] = [
    { name: "oci-layout", content: '{"imageLayoutVersion":"1.0.0"}' },
    { name: "index.json", content: JSON.stringify(index) },
    { name: `blobs/sha256/${hex(image.manifestDigest)}`, content: image.manifest },
    { name: `blobs/sha256/${hex(image.configDigest)}`, content: image.config },
    { name: `blobs/sha256/${hex(image.layers[0]!.digest)}`, content: image.layers[0]!.blob },
  ];
  return buildTar(edit(entries));
}

function dockerEntries(manifest: unknown, extra: TarEntry[] = []): Promise<Uint8Array> {
  return buildTar([
    { name: `${hex(image.configDigest)}.json`, content: image.config },
    { name: "layer/layer.tar", content: image.layers[0]!.blob },
    ...extra,
    { name: "manifest.json", content: JSON.stringify(manifest) },
  ]);
}

/** A docker-archive of `image` whose config has `edit` applied (its name follows its new digest). */
function dockerWithConfig(edit: (c: Record<string, unknown>) => Record<string, unknown>, layers = ["l.tar"], text = (t: string) => t): Promise<Uint8Array> {
  const config = new TextEncoder().encode(text(JSON.stringify(edit(JSON.parse(new TextDecoder().decode(image.config))))));
  const name = `${new Bun.CryptoHasher("sha256").update(config).digest("hex")}.json`;
  return buildTar([
    { name, content: config },
    { name: "l.tar", content: image.layers[0]!.blob },
    { name: "manifest.json", content: JSON.stringify([{ Config: name, RepoTags: ["evil:v1"], Layers: layers }]) },
  ]);
}

/** Config fields of a type Docker's Go structs would not decode: each once crashed a later verb. */
const CONFIG_FIELDS: [string, (c: Record<string, unknown>) => Record<string, unknown>, RegExp][] = [
  ["Env a string", (c) => ({ ...c, config: { Env: "PATH=/bin" } }), /config\.Env is not a list of strings/],
  ["Env of numbers", (c) => ({ ...c, config: { Env: [1, 2] } }), /config\.Env is not a list of strings/],
  ["WorkingDir an object", (c) => ({ ...c, config: { WorkingDir: {} } }), /config\.WorkingDir is not a string/],
  ["Volumes a string", (c) => ({ ...c, config: { Volumes: "/data" } }), /config\.Volumes is not an object of objects/],
  ["Labels of numbers", (c) => ({ ...c, config: { Labels: { a: 1 } } }), /config\.Labels is not an object of strings/],
  ["Healthcheck.Test a number", (c) => ({ ...c, config: { Healthcheck: { Test: 1 } } }), /config\.Healthcheck is not a health check/],
  ["config a string", (c) => ({ ...c, config: "x" }), /config is not an object/],
  ["history a number", (c) => ({ ...c, history: 5 }), /history is not a list/],
  ["a null history entry", (c) => ({ ...c, history: [null] }), /history\[0\] is not an object/],
  ["created an object", (c) => ({ ...c, created: { a: 1 } }), /created is not a string/],
  ["variant a number", (c) => ({ ...c, variant: 7 }), /variant is not a string/],
];

const CASES: [string, () => Promise<Uint8Array>, RegExp][] = [
  ["an index annotation that is a number", () => ociEntries((e) => e, { "org.opencontainers.image.ref.name": 7 } as never), /annotations are not an object of strings/],
  ["an index annotation that is an object", () => ociEntries((e) => e, { "io.containerd.image.name": { a: 1 } } as never), /annotations are not an object of strings/],
  [
    "126 layers, one more than Docker's max depth",
    () => dockerWithConfig((c) => ({ ...c, rootfs: { type: "layers", diff_ids: Array(126).fill(image.layers[0]!.diffId) } }), Array(126).fill("l.tar")),
    /126 layers, more than the 125 an image may have \(max depth exceeded\)/,
  ],
  [
    // Parses, then overflows the stack of the JSON.stringify of every later inspect ("Out of memory").
    "a config with an unknown field nested 600000 deep",
    () => dockerWithConfig((c) => ({ ...c, config: { "x-deep": 0 } }), ["l.tar"], (t) => t.replace('"x-deep":0', `"x-deep":${"[".repeat(600_000)}${"]".repeat(600_000)}`)),
    /JSON nested deeper than 10000 levels/,
  ],
  ...CONFIG_FIELDS.map(([what, edit, message]): [string, () => Promise<Uint8Array>, RegExp] => [`a config with ${what}`, () => dockerWithConfig(edit), message]),
  ["path traversal in an entry name", () => ociEntries((e) => [...e, { name: "../../escape", content: "x" }]), /leads outside the archive/],
  ["absolute entry name", () => ociEntries((e) => [{ name: "/etc/evil", content: "x" }, ...e]), /leads outside the archive/],
  ["a device entry", () => ociEntries((e) => [...e, { name: "dev", type: "character-device", devmajor: 1, devminor: 3 }]), /not a file/],
  ["manifest naming a missing layer", () => ociEntries((e) => e.filter((x) => !x.name.endsWith(hex(image.layers[0]!.digest)))), /does not have/],
  [
    "a blob whose bytes do not match its digest",
    () => ociEntries((e) => e.map((x) => (x.name.endsWith(hex(image.layers[0]!.digest)) ? { ...x, content: new Uint8Array(image.layers[0]!.blob.length) } : x))),
    /hashes to/,
  ],
  [
    "a descriptor declaring 10 GB",
    async () => {
      const m = JSON.parse(new TextDecoder().decode(image.manifest));
      m.layers[0].size = 10 * 1024 ** 3;
      const body = new TextEncoder().encode(JSON.stringify(m));
      const digest = new Bun.CryptoHasher("sha256").update(body).digest("hex");
      const index = { schemaVersion: 2, manifests: [{ mediaType: image.manifestMediaType, digest: `sha256:${digest}`, size: body.length }] };
      return buildTar([
        { name: "index.json", content: JSON.stringify(index) },
        { name: `blobs/sha256/${digest}`, content: body },
        { name: `blobs/sha256/${hex(image.configDigest)}`, content: image.config },
        { name: `blobs/sha256/${hex(image.layers[0]!.digest)}`, content: image.layers[0]!.blob },
      ]);
    },
    /descriptor says 10737418240/,
  ],
  [
    "a tar entry declaring 10 GB, then ending",
    async () => concatBytes([rawHeader({ name: "blobs/sha256/" + "a".repeat(64), typeflag: "0", size: 10 * 1024 ** 3 }), rawBody(new Uint8Array(4096))]),
    /truncated|ends|unexpected/i,
  ],
  ["a JSON entry of 10 GB", async () => concatBytes([rawHeader({ name: "index.json", typeflag: "0", size: 10 * 1024 ** 3 }), END_OF_ARCHIVE]), /more than the 4194304 allowed/],
  ["a truncated archive", async () => (await ociEntries()).subarray(0, 1500), /truncated|ends|unexpected/i],
  ["a symlink loop", () => dockerEntries([{ Config: `${hex(image.configDigest)}.json`, RepoTags: ["evil:v1"], Layers: ["a"] }], [{ name: "a", type: "symlink", linkname: "b" }, { name: "b", type: "symlink", linkname: "a" }]), /loop/],
  ["a docker manifest naming a missing layer", () => dockerEntries([{ Config: `${hex(image.configDigest)}.json`, RepoTags: ["evil:v1"], Layers: ["nope/layer.tar"] }]), /does not have/],
  ["a docker manifest with a traversing layer path", () => dockerEntries([{ Config: `${hex(image.configDigest)}.json`, RepoTags: ["evil:v1"], Layers: ["../../etc/passwd"] }]), /leads outside/],
  ["a config whose name is not its digest", () => buildTar([
    { name: `${"0".repeat(64)}.json`, content: image.config },
    { name: "l.tar", content: image.layers[0]!.blob },
    { name: "manifest.json", content: JSON.stringify([{ Config: `${"0".repeat(64)}.json`, RepoTags: ["evil:v1"], Layers: ["l.tar"] }]) },
  ]), /hashes to/],
  ["a layer whose content is not the config's diff_id", () => dockerEntries([{ Config: `${hex(image.configDigest)}.json`, RepoTags: ["evil:v1"], Layers: ["other.tar"] }], [{ name: "other.tar", content: new Uint8Array(1024) }]), /diff_id|hashes to|config says/],
  ["not an archive", async () => new TextEncoder().encode("hello, I am not a tar\n".repeat(40)), /checksum|neither|corrupt/i],
  ["an empty input", async () => new Uint8Array(0), /empty/],
];

test("hostile archives are refused with one line and leave the store untouched", async () => {
  const failures: string[] = [];
  for (const [what, make, message] of CASES) {
    const env = newEnv();
    const file = path.join(dir, `${what.replace(/\W+/g, "-")}.tar`);
    fs.writeFileSync(file, await make());
    const r = tinydock(env, ["load", "-i", file]);
    const lines = r.stderr.trimEnd().split("\n");
    if (r.code !== 1 || lines.length !== 1 || !message.test(r.stderr) || r.stdout !== "") {
      failures.push(`${what}: code ${r.code}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
      continue;
    }
    const images = tinydock(env, ["images", "-q"]);
    const ingest = path.join(env.root, "ingest");
    const tmp = path.join(env.root, "tmp");
    const leftovers = [...(fs.existsSync(ingest) ? fs.readdirSync(ingest) : []), ...(fs.existsSync(tmp) ? fs.readdirSync(tmp) : [])];
    if (images.stdout !== "" || leftovers.length > 0 || fs.existsSync(path.join(dir, "escape"))) {
      failures.push(`${what}: store left with images ${JSON.stringify(images.stdout)}, leftovers ${leftovers.join(",")}`);
    }
  }
  recordCases("hostile image archives given to load", CASES.length);
  expect(failures).toEqual([]);
}, 120_000);

test("the same archive, unbroken, loads (the cases above fail for their fault alone)", async () => {
  const env = newEnv();
  const file = path.join(dir, "good.tar");
  fs.writeFileSync(file, await ociEntries());
  expect(tinydock(env, ["load", "-i", file])).toEqual({ code: 0, stdout: "Loaded image: evil:v1\n", stderr: "" });
  const dfile = path.join(dir, "good-docker.tar");
  fs.writeFileSync(dfile, await dockerEntries([{ Config: `${hex(image.configDigest)}.json`, RepoTags: ["good:v2"], Layers: ["layer/layer.tar"] }]));
  expect(tinydock(env, ["load", "-i", dfile])).toEqual({ code: 0, stdout: "Loaded image: good:v2\n", stderr: "" });
});
