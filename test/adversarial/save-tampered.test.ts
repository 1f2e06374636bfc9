// `save` from a store whose blobs were changed behind its back (disk corruption, a hand edit):
// the config, the manifest or a layer no longer hashes to its name. An archive written from it
// would lie (a blob or a config named by one digest holding another's bytes), so save refuses in
// one line with exit code 1, in both formats: no file for -o; on STDOUT, which cannot be taken
// back, at most an archive cut short inside an entry, which tar itself refuses to read.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { storeLayout } from "../../src/store/layout.ts";
import { recordCases } from "../helpers/adversarial.ts";
import { BINARY, cliEnv, requireBinary, tinydock, type CliEnv } from "../helpers/cli.ts";
import { buildImage, type BuiltImage } from "../helpers/image.ts";
import { buildTar } from "../helpers/tar.ts";

let dir: string;
let image: BuiltImage;
let archive: string;
const hex = (d: string) => d.slice(7);

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-save-tampered-"));
  // An uncompressed layer: a changed byte still unpacks, so only its digest can tell.
  image = await buildImage({ layers: [{ entries: [{ name: "hello", content: "hello, world\n" }], compression: "none" }], config: { Cmd: ["sh"] } });
  archive = path.join(dir, "good.tar");
  fs.writeFileSync(
    archive,
    await buildTar([
      { name: `${hex(image.configDigest)}.json`, content: image.config },
      { name: "l.tar", content: image.layers[0]!.blob },
      { name: "manifest.json", content: JSON.stringify([{ Config: `${hex(image.configDigest)}.json`, RepoTags: ["saved:v1"], Layers: ["l.tar"] }]) },
    ]),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function loadedEnv(): CliEnv {
  const d = fs.mkdtempSync(path.join(dir, "env-"));
  fs.writeFileSync(path.join(d, "config.json"), "{}");
  const env = { root: path.join(d, "root"), config: path.join(d, "config.json"), dockerConfig: path.join(d, "docker") };
  expect(tinydock(env, ["load", "-i", archive]).code).toBe(0);
  return env;
}

/** The stored blob `digest` with one byte changed in place: same size, other content. */
function flipByte(env: CliEnv, digest: string, needle: string): void {
  const file = storeLayout(env.root).blob(digest);
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf(needle);
  expect(at).toBeGreaterThanOrEqual(0);
  bytes[at] = bytes[at]! ^ 0x20;
  fs.chmodSync(file, 0o600);
  fs.writeFileSync(file, bytes);
}

const TAMPERED: [string, (env: CliEnv) => void][] = [
  ["the config", (env) => flipByte(env, image.configDigest, "sh")],
  ["the layer", (env) => flipByte(env, image.layers[0]!.digest, "hello, world")],
  [
    "the manifest",
    (env) => {
      const id = tinydock(env, ["image", "inspect", "-f", "{{.Id}}", "saved:v1"]).stdout.trim();
      const record = JSON.parse(fs.readFileSync(storeLayout(env.root).image(id), "utf8")) as { manifestDigest: string };
      flipByte(env, record.manifestDigest, "schemaVersion");
    },
  ],
];

/** Whether GNU tar reads `bytes` through to the end without an error. */
function tarReads(bytes: Uint8Array): boolean {
  return Bun.spawnSync(["tar", "-tf", "-"], { stdin: bytes, stdout: "ignore", stderr: "ignore" }).exitCode === 0;
}

test("save refuses a store whose blobs no longer match their digests, writing nothing readable", () => {
  const failures: string[] = [];
  let n = 0;
  for (const [what, tamper] of TAMPERED) {
    const env = loadedEnv();
    tamper(env);
    for (const format of ["docker-archive", "oci-archive"]) {
      for (const to of ["file", "stdout"]) {
        n++;
        const out = path.join(dir, `out-${n}.tar`);
        const p = Bun.spawnSync([BINARY, "save", "--format", format, ...(to === "file" ? ["-o", out] : []), "saved:v1"], { env: cliEnv(env), stdout: "pipe", stderr: "pipe" });
        const stderr = p.stderr.toString();
        const lines = stderr.trimEnd().split("\n");
        const readable = p.stdout.length > 0 && tarReads(p.stdout);
        const file = fs.readdirSync(dir).some((f) => f.startsWith(`out-${n}.tar`));
        if (p.exitCode !== 1 || lines.length !== 1 || !/^Error: .*(hashes to|hashing to)/.test(lines[0]!) || readable || file) {
          failures.push(`${what}, ${format} to ${to}: code ${p.exitCode}, ${p.stdout.length} bytes out (tar reads it: ${readable}), file ${file}, stderr ${JSON.stringify(stderr.slice(0, 300))}`);
        }
      }
    }
  }
  recordCases("save from a store with tampered blobs", n);
  expect(failures).toEqual([]);
}, 120_000);

test("the same store, untouched, saves in both formats and loads back", () => {
  const env = loadedEnv();
  for (const format of ["docker-archive", "oci-archive"]) {
    const out = path.join(dir, `good-${format}.tar`);
    expect(tinydock(env, ["save", "--format", format, "-o", out, "saved:v1"])).toEqual({ code: 0, stdout: "", stderr: "" });
    const d = fs.mkdtempSync(path.join(dir, "reload-"));
    const fresh = { root: path.join(d, "root"), config: env.config, dockerConfig: path.join(d, "docker") };
    expect(tinydock(fresh, ["load", "-i", out])).toEqual({ code: 0, stdout: "Loaded image: saved:v1\n", stderr: "" });
  }
});
