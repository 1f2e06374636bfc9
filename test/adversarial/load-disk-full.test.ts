// `load` onto a store whose filesystem fills up (a tmpfs sized so the disk runs out while the archive
// is spooled, while a blob is stored, or while a layer is unpacked): one line naming what was being
// written and ENOSPC, exit code 1, no image, no spool or ingest left, and what was stored goes with
// `system prune -f`. Then the same archive loads onto a store with room.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { requireBinary, tinydock, type CliEnv } from "../helpers/cli.ts";
import { unmountUnder } from "../helpers/e2e.ts";
import { buildImage } from "../helpers/image.ts";
import { buildTar } from "../helpers/tar.ts";

const MIB = 1 << 20;
/** The layer, gzip of random bytes: spool, blob and unpacked file are each about this size. */
const SIZE = 6 * MIB;
let dir: string;
let archive: string;
const hex = (d: string) => d.slice(7);

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-load-full-"));
  const big = new Uint8Array(SIZE);
  for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
  const image = await buildImage({ layers: [{ entries: [{ name: "big", content: big }] }] });
  archive = path.join(dir, "a.tar");
  fs.writeFileSync(
    archive,
    await buildTar([
      { name: `${hex(image.configDigest)}.json`, content: image.config },
      { name: "l.tar.gz", content: image.layers[0]!.blob },
      { name: "manifest.json", content: JSON.stringify([{ Config: `${hex(image.configDigest)}.json`, RepoTags: ["full:v1"], Layers: ["l.tar.gz"] }]) },
    ]),
  );
});
afterAll(() => {
  unmountUnder(dir);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A store root on a tmpfs of `bytes`. */
function smallStore(name: string, bytes: number): CliEnv {
  const mnt = path.join(dir, name);
  fs.mkdirSync(mnt);
  const m = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", mnt], { stderr: "pipe" });
  if (m.exitCode !== 0) throw new Error(`mount tmpfs: ${m.stderr}`);
  fs.writeFileSync(path.join(dir, `${name}.json`), "{}");
  return { root: path.join(mnt, "root"), config: path.join(dir, `${name}.json`), dockerConfig: path.join(dir, "docker") };
}

const list = (env: CliEnv, d: string) => (fs.existsSync(path.join(env.root, d)) ? fs.readdirSync(path.join(env.root, d)).map((n) => `${d}/${n}`) : []);

test("a disk that fills during load: one line naming what and ENOSPC, no image, nothing left after a prune", () => {
  const cases: [string, number, RegExp][] = [
    ["while spooling", 4 * MIB, /^Error: Cannot load archive: spooling entry "l\.tar\.gz" into .*: ENOSPC$/],
    ["while storing the blob", 9 * MIB, /^Error: Cannot load archive: storing blob sha256:[0-9a-f]{64}: ENOSPC$/],
    ["while unpacking", 13 * MIB, /^Error: Cannot unpack layer sha256:[0-9a-f]{64}: entry "big": write: ENOSPC$/],
  ];
  const failures: string[] = [];
  for (const [what, bytes, message] of cases) {
    const env = smallStore(what.replace(/\W+/g, "-"), bytes);
    try {
      const r = tinydock(env, ["load", "-i", archive]);
      if (r.code !== 1 || r.stdout !== "" || !message.test(r.stderr.trimEnd())) failures.push(`${what}: ${r.code} ${JSON.stringify(r.stdout)} ${JSON.stringify(r.stderr)}`);
      const images = tinydock(env, ["images", "-q"]).stdout;
      const left = [...list(env, "tmp"), ...list(env, "ingest")];
      if (images !== "" || left.length) failures.push(`${what}: images ${JSON.stringify(images)}, left ${left.join(",")}`);
      expect(tinydock(env, ["system", "prune", "-f"]).code).toBe(0);
      const stored = [...list(env, "blobs/sha256"), ...list(env, "layers")];
      if (stored.length) failures.push(`${what}: after prune ${stored.join(",")}`);
    } finally {
      Bun.spawnSync(["umount", path.dirname(env.root)]);
    }
  }
  recordCases("load onto a filesystem that fills up", cases.length);
  expect(failures).toEqual([]);
  const roomy = smallStore("roomy", 64 * MIB);
  try {
    expect(tinydock(roomy, ["load", "-i", archive])).toEqual({ code: 0, stdout: "Loaded image: full:v1\n", stderr: "" });
  } finally {
    Bun.spawnSync(["umount", path.dirname(roomy.root)]);
  }
}, 120_000);
