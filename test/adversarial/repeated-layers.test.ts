// An image that lists the same layer more than once (identical build steps give identical diffs;
// an archive or a registry may also repeat one on purpose). Docker stores each position as its own
// snapshot and runs such an image; overlay refuses the same lower directory twice (ELOOP). The
// image loads, runs, and shows what applying its layers in order gives: the topmost copy of a
// repeated layer wins over the layers between the copies.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { requireBinary, tinydock, type CliEnv } from "../helpers/cli.ts";
import { busyboxImage, newCliEnv, releaseDir, removeAll } from "../helpers/e2e.ts";
import { buildLayer, type BuiltImage, type BuiltLayer } from "../helpers/image.ts";
import { buildTar } from "../helpers/tar.ts";

let dir: string;
let env: CliEnv;
let busybox: BuiltImage;
const T = (args: string[]) => tinydock(env, args);
const hex = (d: string) => d.slice(7);

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-repeated-layers-"));
  env = newCliEnv(path.join(dir, "env"));
  busybox = await busyboxImage();
});

afterAll(async () => {
  if (env) removeAll(T);
  await releaseDir(dir);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A docker-archive of busybox's layers, then `extra` in order (repeats stored once, named twice). */
async function archive(tag: string, extra: BuiltLayer[]): Promise<string> {
  const layers = [...busybox.layers, ...extra];
  const config = JSON.parse(new TextDecoder().decode(busybox.config));
  config.rootfs.diff_ids = layers.map((l) => l.diffId);
  delete config.history;
  const body = new TextEncoder().encode(JSON.stringify(config));
  const name = `${new Bun.CryptoHasher("sha256").update(body).digest("hex")}.json`;
  const files = new Map(layers.map((l) => [`${hex(l.digest)}.tar`, l.blob]));
  const file = path.join(dir, `${tag.replace(/\W/g, "-")}.tar`);
  fs.writeFileSync(
    file,
    await buildTar([
      { name, content: body },
      ...[...files].map(([n, content]) => ({ name: n, content })),
      { name: "manifest.json", content: JSON.stringify([{ Config: name, RepoTags: [tag], Layers: layers.map((l) => `${hex(l.digest)}.tar`) }]) },
    ]),
  );
  return file;
}

test("an image repeating a layer loads and runs, its topmost copy winning", async () => {
  const one = await buildLayer({ entries: [{ name: "a", content: "one\n" }, { name: "only-one", content: "1\n" }] });
  const two = await buildLayer({ entries: [{ name: "a", content: "two\n" }, { name: ".wh.only-one", content: "" }, { name: "b", content: "two\n" }] });
  const cases: [string, BuiltLayer[], string][] = [
    ["rep:twice", [one, one], "one\n1\nno b\n"],
    ["rep:between", [one, two, one], "one\n1\ntwo\n"],
    ["rep:thrice", [two, one, two, one, one], "one\n1\ntwo\n"],
  ];
  const failures: string[] = [];
  for (const [tag, layers, want] of cases) {
    const load = T(["load", "-i", await archive(tag, layers)]);
    if (load.code !== 0) {
      failures.push(`${tag}: load: ${load.code} ${load.stderr}`);
      continue;
    }
    const r = T(["run", "--rm", "--network", "none", tag, "sh", "-c", "cat /a /only-one; cat /b 2>/dev/null || echo no b"]);
    if (r.code !== 0 || r.stdout !== want) failures.push(`${tag}: run: ${r.code} ${JSON.stringify(r.stdout)} ${r.stderr.trim()}`);
  }
  recordCases("images repeating a layer", cases.length);
  expect(failures).toEqual([]);
}, 120_000);
