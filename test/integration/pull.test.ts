// Pulls from a real registry (Debian's docker-registry) into a real store; the unpacked rootfs of
// every fixture is compared with what skopeo + umoci make of the same image.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { TinydockError } from "../../src/errors.ts";
import { mountImage, removeImage, unmountImage } from "../../src/rootfs/images.ts";
import { pullImage } from "../../src/rootfs/pull.ts";
import { listImages, readTags } from "../../src/store/images.ts";
import { storeLayout } from "../../src/store/layout.ts";
import { buildFixture, busyboxEntries, fixtureImages, type FixtureName } from "../helpers/busybox.ts";
import { storeSnapshot, testContext, type TestEnv } from "../helpers/ctx.ts";
import { buildImage, pushImage, type BuiltImage } from "../helpers/image.ts";
import { umociUnpack } from "../helpers/oracle.ts";
import { startRegistry, type TestRegistry } from "../helpers/registry.ts";
import { diffTrees, snapshotTree } from "../helpers/tree.ts";
import { recordCases } from "../helpers/adversarial.ts";

let reg: TestRegistry;
const envs: TestEnv[] = [];
const env = (config = {}) => {
  const e = testContext(config);
  envs.push(e);
  return e;
};

beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  for (const e of envs) e.cleanup();
  await reg?.stop();
});

async function expectTyped(p: Promise<unknown>, pattern: RegExp): Promise<TinydockError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TinydockError);
  expect((err as Error).message).toMatch(pattern);
  expect((err as Error).message).not.toContain("\n");
  return err as TinydockError;
}

describe("every fixture unpacks exactly as umoci unpacks it", () => {
  const fixtures = fixtureImages();
  for (const name of Object.keys(fixtures) as FixtureName[]) {
    test(name, async () => {
      const f = fixtures[name];
      await pushImage(reg, `fixtures/${name.toLowerCase()}`, "v1", await buildFixture(f));
      const e = env();
      const res = await pullImage(e.ctx, `${reg.host}/fixtures/${name.toLowerCase()}:v1`);
      expect(res.record.layers.length).toBeGreaterThan(0);
      const merged = mountImage(e.ctx, `${reg.host}/fixtures/${name.toLowerCase()}:v1`);
      try {
        const ours = snapshotTree(merged);
        const theirs = snapshotTree(umociUnpack(reg, `fixtures/${name.toLowerCase()}`, "v1", path.join(e.dir, "umoci")));
        expect(diffTrees(ours, theirs)).toEqual([]);
        for (const p of f.expect?.present ?? []) expect(fs.existsSync(path.join(merged, p)) || fs.lstatSync(path.join(merged, p), { throwIfNoEntry: false }) !== undefined).toBe(true);
        for (const p of f.expect?.absent ?? []) expect(fs.lstatSync(path.join(merged, p), { throwIfNoEntry: false })).toBeUndefined();
        for (const [p, c] of Object.entries(f.expect?.files ?? {})) expect(fs.readFileSync(path.join(merged, p), "utf8")).toBe(c);
      } finally {
        unmountImage(e.ctx, `${reg.host}/fixtures/${name.toLowerCase()}:v1`);
      }
    });
  }
});

describe("pull", () => {
  test("docker.io names go through the registry mirror; a second pull is up to date", async () => {
    await pushImage(reg, "library/busybox", "latest", await buildImage({ layers: [{ entries: busyboxEntries() }], config: { Cmd: ["sh"] } }));
    const e = env({ registryMirrors: [reg.url] });
    const first = await pullImage(e.ctx, "busybox");
    expect(first.changed).toBe(true);
    expect(readTags(storeLayout(e.root))).toEqual({ "docker.io/library/busybox:latest": first.record.id });
    const second = await pullImage(e.ctx, "busybox");
    expect(second.changed).toBe(false);
    expect(second.record.id).toBe(first.record.id);
    // pull by digest reaches the same image
    const byDigest = await pullImage(e.ctx, `busybox@${first.digest}`);
    expect(byDigest.record.id).toBe(first.record.id);
  });

  test("--platform picks from an index; a missing platform is a one-line error", async () => {
    const f = fixtureImages().index;
    await pushImage(reg, "multi/arch", "v1", await buildFixture(f));
    const e = env();
    const arm = await pullImage(e.ctx, `${reg.host}/multi/arch:v1`, { platform: { os: "linux", architecture: "arm64", variant: "v8" } });
    expect(arm.record.platform.architecture).toBe("arm64");
    await expectTyped(pullImage(e.ctx, `${reg.host}/multi/arch:v1`, { platform: { os: "linux", architecture: "s390x" } }), /linux\/s390x/);
  });

  test("resumes a partial blob left by a killed process with a Range request", async () => {
    const big = crypto.getRandomValues(new Uint8Array(3 << 20));
    const img = await buildImage({ layers: [{ entries: [{ name: "big.bin", content: big }], compression: "none" }] });
    await pushImage(reg, "resume/me", "v1", img);
    const e = env();
    const layout = storeLayout(e.root);
    fs.mkdirSync(layout.ingestDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(layout.locksDir, { recursive: true, mode: 0o700 });
    const layer = img.layers[0]!;
    fs.writeFileSync(layout.ingest(layer.digest), layer.blob.subarray(0, 1_000_000));
    const ranges: string[] = [];
    const realFetch = e.ctx.fetch;
    e.ctx.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const h = new Headers(init?.headers);
      if (h.get("range")) ranges.push(h.get("range")!);
      return realFetch(input, init);
    }) as typeof fetch;
    await pullImage(e.ctx, `${reg.host}/resume/me:v1`);
    expect(ranges).toContain("bytes=1000000-");
    const merged = mountImage(e.ctx, `${reg.host}/resume/me:v1`);
    try {
      expect(new Uint8Array(fs.readFileSync(path.join(merged, "big.bin")))).toEqual(big);
    } finally {
      unmountImage(e.ctx, `${reg.host}/resume/me:v1`);
    }
  });

  test("rmi frees the layers no other image uses; shared base layers stay", async () => {
    const base = { entries: busyboxEntries() };
    const a = await buildImage({ layers: [base, { entries: [{ name: "a", content: "a" }] }] });
    const b = await buildImage({ layers: [base, { entries: [{ name: "b", content: "b" }] }] });
    await pushImage(reg, "share/a", "v1", a);
    await pushImage(reg, "share/b", "v1", b);
    const e = env();
    await pullImage(e.ctx, `${reg.host}/share/a:v1`);
    await pullImage(e.ctx, `${reg.host}/share/b:v1`);
    const layout = storeLayout(e.root);
    const layerDirs = () => fs.readdirSync(layout.layersDir).sort();
    expect(layerDirs().length).toBe(3);
    const ev = await removeImage(e.ctx, `${reg.host}/share/a:v1`);
    expect(ev.deleted).toEqual([a.configDigest]);
    expect(layerDirs()).toEqual([b.layers[0]!.diffId.slice(7), b.layers[1]!.diffId.slice(7)].sort());
    expect(fs.existsSync(layout.blob(a.layers[1]!.digest))).toBe(false);
    expect(fs.existsSync(layout.blob(a.manifestDigest))).toBe(false);
    expect(fs.existsSync(layout.blob(b.manifestDigest))).toBe(true);
    // Compressed layers are kept (push sends them, save unpacks them) while an image uses them.
    expect(fs.existsSync(layout.blob(b.layers[0]!.digest))).toBe(true);
    expect(fs.readdirSync(layout.ingestDir)).toEqual([]);
    expect(fs.readdirSync(layout.linksDir).length).toBe(2);
    await removeImage(e.ctx, `${reg.host}/share/b:v1`);
    expect(layerDirs()).toEqual([]);
    expect(fs.readdirSync(layout.blobsDir)).toEqual([]);
    expect(listImages(layout)).toEqual([]);
  });

  test("rmi of a tag with other tags only untags; by id with several tags needs -f", async () => {
    const img = await buildImage({ layers: [{ entries: [{ name: "x", content: "x" }] }] });
    await pushImage(reg, "tags/x", "v1", img);
    await pushImage(reg, "tags/x", "v2", img);
    const e = env();
    await pullImage(e.ctx, `${reg.host}/tags/x:v1`);
    await pullImage(e.ctx, `${reg.host}/tags/x:v2`);
    await expectTyped(removeImage(e.ctx, img.configDigest.slice(7, 19)), /referenced in multiple repositories/);
    const ev = await removeImage(e.ctx, `${reg.host}/tags/x:v1`);
    expect(ev).toEqual({ untagged: [`${reg.host}/tags/x:v1`], deleted: [] });
    const ev2 = await removeImage(e.ctx, `${reg.host}/tags/x:v2`);
    expect(ev2.deleted).toEqual([img.configDigest]);
  });
});

describe("bad input: one-line typed error, store unchanged", () => {
  let e: TestEnv;
  let before: string[];
  beforeAll(async () => {
    e = env();
    await pushImage(reg, "ok/base", "v1", await buildImage({ layers: [{ entries: [{ name: "ok", content: "ok" }] }] }));
    await pullImage(e.ctx, `${reg.host}/ok/base:v1`);
  });
  const unchanged = async (p: Promise<unknown>, pattern: RegExp) => {
    before = storeSnapshot(e.root);
    await expectTyped(p, pattern);
    expect(storeSnapshot(e.root)).toEqual(before);
  };

  const registryBlob = (digest: string) =>
    path.join(reg.dataDir, "docker/registry/v2/blobs/sha256", digest.slice(7, 9), digest.slice(7), "data");

  test("a tampered blob", async () => {
    const img = await buildImage({ layers: [{ entries: [{ name: "t", content: "x".repeat(5000) }], compression: "none" }] });
    await pushImage(reg, "bad/tampered", "v1", img);
    const file = registryBlob(img.layers[0]!.digest);
    const bytes = fs.readFileSync(file);
    bytes[600] = bytes[600]! ^ 0xff; // inside the file's content, past its header
    fs.writeFileSync(file, bytes);
    await unchanged(pullImage(e.ctx, `${reg.host}/bad/tampered:v1`), /Cannot verify blob sha256:[a-f0-9]{64}: content hashes to/);
  });

  test("a wrong size in the manifest", async () => {
    const img = await buildImage({ layers: [{ entries: [{ name: "s", content: "size" }] }] });
    const m = JSON.parse(new TextDecoder().decode(img.manifest));
    m.layers[0].size -= 10;
    const body = new TextEncoder().encode(JSON.stringify(m));
    await pushImage(reg, "bad/size", "v0", img);
    const res = await fetch(`${reg.url}/v2/bad/size/manifests/v1`, { method: "PUT", body, headers: { "Content-Type": img.manifestMediaType } });
    expect(res.status).toBe(201);
    await unchanged(pullImage(e.ctx, `${reg.host}/bad/size:v1`), /bytes/);
  });

  test("a missing layer", async () => {
    const img = await buildImage({ layers: [{ entries: [{ name: "m", content: "missing" }] }] });
    await pushImage(reg, "bad/missing", "v1", img);
    const del = await fetch(`${reg.url}/v2/bad/missing/blobs/${img.layers[0]!.digest}`, { method: "DELETE" });
    expect(del.status).toBe(202);
    await unchanged(pullImage(e.ctx, `${reg.host}/bad/missing:v1`), /blob|not found|unknown/i);
  });

  test("an unknown layer media type", async () => {
    const img = await buildImage({ layers: [{ entries: [{ name: "u", content: "u" }] }] });
    const m = JSON.parse(new TextDecoder().decode(img.manifest));
    m.layers[0].mediaType = "application/vnd.example.layer.v1.tar+lz4";
    await pushImage(reg, "bad/mediatype", "v0", img);
    const res = await fetch(`${reg.url}/v2/bad/mediatype/manifests/v1`, {
      method: "PUT",
      body: JSON.stringify(m),
      headers: { "Content-Type": img.manifestMediaType },
    });
    expect(res.status).toBe(201);
    await unchanged(pullImage(e.ctx, `${reg.host}/bad/mediatype:v1`), /unsupported layer media type "application\/vnd.example.layer.v1.tar\+lz4"/);
  });

  test("126 layers: refused as Docker's max depth, with nothing stored", async () => {
    const layers = Array.from({ length: 126 }, (_, i) => ({ entries: [{ name: `f${i}`, content: String(i) }] }));
    const img = await buildImage({ layers });
    await pushImage(reg, "bad/deep", "v1", img);
    await unchanged(pullImage(e.ctx, `${reg.host}/bad/deep:v1`), /126 layers, more than the 125 an image may have \(max depth exceeded\)/);
  }, 120_000);

  test("a bad reference", async () => {
    await unchanged(pullImage(e.ctx, "Not A/Valid:ref"), /Cannot parse reference/);
  });

  test("a missing tag", async () => {
    await unchanged(pullImage(e.ctx, `${reg.host}/ok/base:nope`), /not found/);
  });

  test("a hostile layer writes nothing outside the store", async () => {
    const sentinel = path.join(e.dir, "outside");
    const img = await buildImage({
      layers: [
        {
          entries: [
            { name: "../../../outside/escaped", content: "x" },
            { name: "link", type: "symlink", linkname: sentinel },
            { name: "link/through", content: "x" },
            { name: "hard", type: "link", linkname: "/etc/passwd" },
          ],
        },
      ],
    });
    await pushImage(reg, "bad/hostile", "v1", img);
    before = storeSnapshot(e.root);
    try {
      await pullImage(e.ctx, `${reg.host}/bad/hostile:v1`);
    } catch (err) {
      expect(err).toBeInstanceOf(TinydockError);
      expect(storeSnapshot(e.root)).toEqual(before);
    }
    expect(fs.existsSync(sentinel)).toBe(false);
    expect(fs.existsSync(path.join(e.dir, "escaped"))).toBe(false);
    recordCases("evil image: a layer escaping by .., a symlink and a hard link", 3);
  });

  test("a decompression bomb stops at the layer size bound", async () => {
    const small = env({ maxLayerBytes: 8 << 20 });
    const zeros = new Uint8Array(64 << 20);
    const img = await buildImage({ layers: [{ entries: [{ name: "bomb", content: zeros }] }] });
    expect(img.layers[0]!.size).toBeLessThan(1 << 20);
    await pushImage(reg, "bad/bomb", "v1", img);
    await expectTyped(pullImage(small.ctx, `${reg.host}/bad/bomb:v1`), /bomb|larger than|exceeds|limit/i);
    expect(fs.readdirSync(storeLayout(small.root).layersDir)).toEqual([]);
    recordCases("evil image: a decompression bomb", 1);
  });
});

describe("credentials", () => {
  let secure: TestRegistry;
  beforeAll(async () => {
    secure = await startRegistry({ htpasswd: { user: "alice", password: "s3cret" } });
    await pushImage(secure, "priv/app", "v1", await buildImage({ layers: [{ entries: [{ name: "p", content: "p" }] }] }), {
      user: "alice",
      password: "s3cret",
    });
  });
  afterAll(async () => {
    await secure?.stop();
  });

  test("a wrong password is a one-line error; the right one from config.json pulls", async () => {
    const e = env();
    fs.mkdirSync(e.dockerConfig, { recursive: true });
    const write = (pw: string) =>
      fs.writeFileSync(
        path.join(e.dockerConfig, "config.json"),
        JSON.stringify({ auths: { [secure.host]: { auth: btoa(`alice:${pw}`) } } }),
      );
    await expectTyped(pullImage(e.ctx, `${secure.host}/priv/app:v1`), /unauthorized|authentication|credentials|password/i);
    write("wrong");
    const before = storeSnapshot(e.root);
    await expectTyped(pullImage(e.ctx, `${secure.host}/priv/app:v1`), /unauthorized|authentication|credentials|password/i);
    expect(storeSnapshot(e.root)).toEqual(before);
    write("s3cret");
    const ok = await pullImage(e.ctx, `${secure.host}/priv/app:v1`);
    expect(ok.record.layers.length).toBe(1);
  });
});
