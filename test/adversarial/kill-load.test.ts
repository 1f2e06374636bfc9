// `load` SIGKILLed at random points (seeded; TD_KILL_SEED replays a run): while it spools the
// archive, ingests blobs, unpacks layers or writes the image record. After each kill the store
// tells the truth: `images` lists the image whole (every layer unpacked, config and manifest
// stored; untagged when the kill came between its record and its tag) or not at all. A later load succeeds, and
// `system prune -f` leaves no spool, ingest or half-unpacked layer behind.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { storeLayout } from "../../src/store/layout.ts";
import { recordCases } from "../helpers/adversarial.ts";
import { BINARY, cliEnv, requireBinary, tinydock, type CliEnv } from "../helpers/cli.ts";
import { newCliEnv } from "../helpers/e2e.ts";
import { buildImage, type BuiltImage } from "../helpers/image.ts";
import { buildTar } from "../helpers/tar.ts";
import { prng } from "../helpers/prng.ts";

const SEED = Number(process.env.TD_KILL_SEED ?? 0x10ad2026) >>> 0;
const KILLS = 12;

let dir: string;
let env: CliEnv;
let image: BuiltImage;
let archive: string;
const hex = (d: string) => d.slice(7);
const T = (args: string[]) => tinydock(env, args);

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-kill-load-"));
  env = newCliEnv(path.join(dir, "env"));
  // Three layers of 4 MiB of incompressible bytes each: spooling, ingest and unpack all take a while.
  const layer = (seed: number) => {
    const b = new Uint8Array(4 << 20);
    let x = seed;
    for (let i = 0; i < b.length; i++) b[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    return { entries: [{ name: `l${seed}`, content: b }] };
  };
  image = await buildImage({ layers: [layer(1), layer(2), layer(3)] });
  archive = path.join(dir, "a.tar");
  fs.writeFileSync(
    archive,
    await buildTar([
      { name: `${hex(image.configDigest)}.json`, content: image.config },
      ...image.layers.map((l, i) => ({ name: `${i}/layer.tar`, content: l.blob })),
      { name: "manifest.json", content: JSON.stringify([{ Config: `${hex(image.configDigest)}.json`, RepoTags: ["killme:v1"], Layers: image.layers.map((_, i) => `${i}/layer.tar`) }]) },
    ]),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** "" when the store holds no image, "whole" (or "dangling", untagged) when it holds it with all it needs, else what is wrong. */
function imageState(): string {
  const layout = storeLayout(env.root);
  const ids = T(["images", "-q", "--no-trunc"]).stdout.split("\n").filter(Boolean);
  if (ids.length === 0) return "";
  if (ids.length !== 1 || ids[0] !== image.configDigest) return `images: ${ids.join(",")}`;
  // A kill between the record and the tag leaves the image whole but untagged (dangling), as Docker's would.
  const inspect = T(["image", "inspect", "-f", "{{.Id}} {{json .RepoTags}}", image.configDigest]);
  const tagged = inspect.stdout.trim() === `${image.configDigest} ["killme:v1"]`;
  if (inspect.code !== 0 || (!tagged && inspect.stdout.trim() !== `${image.configDigest} []`)) return `inspect: ${inspect.code} ${inspect.stdout}${inspect.stderr}`.trim();
  const record = JSON.parse(fs.readFileSync(layout.image(image.configDigest), "utf8")) as { manifestDigest: string; layers: { diffId: string; key?: string }[] };
  const missing = [image.configDigest, record.manifestDigest].filter((d) => !fs.existsSync(layout.blob(d)));
  for (const l of record.layers) if (!fs.existsSync(path.join(layout.layerDiff(l.key ?? l.diffId), `l${record.layers.indexOf(l) + 1}`))) missing.push(`layer ${l.diffId}`);
  if (missing.length) return `missing: ${missing.join(", ")}`;
  return tagged ? "whole" : "dangling";
}

test("load killed at random points leaves the image whole or absent, and nothing after a prune", async () => {
  // Kill points spread over a whole load's time, measured on this host now.
  const t0 = performance.now();
  expect(T(["load", "-i", archive]).code).toBe(0);
  const maxDelay = Math.ceil((performance.now() - t0) * 1.1);
  expect(T(["rmi", "killme:v1"]).code).toBe(0);
  const next = prng(SEED);
  const seen: string[] = [];
  const wrong: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    const delay = Math.floor(next() * maxDelay);
    const p = Bun.spawn([BINARY, "load", "-i", archive], { env: cliEnv(env), stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(delay);
    p.kill("SIGKILL");
    await p.exited;
    const state = imageState();
    seen.push(`${delay}ms:${state || "none"}`);
    if (state !== "" && state !== "whole" && state !== "dangling") wrong.push(`kill ${k} after ${delay} ms: ${state}`);
    // Start over from an empty store half the time, so early kill points keep being reached.
    if (state !== "" && next() < 0.5) expect(T(["rmi", image.configDigest]).code).toBe(0);
  }
  console.log(`kill-load (seed ${SEED.toString(16)}, a load takes ${maxDelay} ms): ${seen.join(" ")}`);
  recordCases("load SIGKILLed at random points", KILLS);
  expect(wrong).toEqual([]);

  expect(T(["load", "-i", archive])).toEqual({ code: 0, stdout: "Loaded image: killme:v1\n", stderr: "" });
  expect(imageState()).toBe("whole");
  expect(T(["system", "prune", "-f"]).code).toBe(0);
  const scratch = (d: string, only = (_: string) => true) => (fs.existsSync(path.join(env.root, d)) ? fs.readdirSync(path.join(env.root, d)).filter(only).map((n) => `${d}/${n}`) : []);
  expect([...scratch("ingest"), ...scratch("tmp"), ...scratch("layers", (n) => n.startsWith(".tmp-"))]).toEqual([]);
}, 240_000);
