// Proves the test harness itself: the registry we start, the images we build and push, the
// oracles (skopeo, umoci) and the tree snapshots that later tests trust.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sha256Digest } from "../../src/image/digest.ts";
import { MediaType } from "../../src/image/manifest.ts";
import { buildAndPush } from "../../images/build.ts";
import { buildFixture, fixtureImages, type Fixture } from "../helpers/busybox.ts";
import { buildImage, pushImage, type BuiltImage, type BuiltIndex } from "../helpers/image.ts";
import { skopeoRawManifest, umociUnpack } from "../helpers/oracle.ts";
import { startRegistry, type TestRegistry } from "../helpers/registry.ts";
import { diffTrees, snapshotTree, type TreeRecord } from "../helpers/tree.ts";

const BUSYBOX_DEF = path.join(import.meta.dir, "../../images/busybox");
const isRoot = process.getuid?.() === 0;
const registries: TestRegistry[] = [];
const tempDirs: string[] = [];

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "tinydock-harness-"));
  tempDirs.push(d);
  return d;
}

afterAll(async () => {
  await Promise.all(registries.map((r) => r.stop()));
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

function byPath(records: TreeRecord[]): Map<string, TreeRecord> {
  return new Map(records.map((r) => [r.path, r]));
}

function checkExpectations(root: string, f: Fixture): void {
  const e = f.expect ?? {};
  for (const p of e.present ?? []) expect(fs.existsSync(path.join(root, p)) || isSymlink(path.join(root, p)), `${f.name}: ${p} present`).toBe(true);
  for (const p of e.absent ?? []) expect(fs.existsSync(path.join(root, p)) || isSymlink(path.join(root, p)), `${f.name}: ${p} absent`).toBe(false);
  for (const [p, content] of Object.entries(e.files ?? {})) expect(fs.readFileSync(path.join(root, p), "utf8")).toBe(content);
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

describe("registry and fixture images", () => {
  let registry: TestRegistry;
  const fixtures = fixtureImages();
  const built = new Map<string, BuiltImage | BuiltIndex>();

  beforeAll(async () => {
    registry = await startRegistry();
    registries.push(registry);
    for (const [name, f] of Object.entries(fixtures)) {
      const image = await buildFixture(f);
      built.set(name, image);
      await pushImage(registry, `fixtures/${name.toLowerCase()}`, "v1", image);
    }
  });

  test("the registry answers /v2/ on loopback and keeps its data in its own dir", async () => {
    expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(registry.url).toBe(`http://${registry.host}`);
    const res = await fetch(`${registry.url}/v2/`);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    expect(fs.existsSync(registry.dataDir)).toBe(true);
  });

  test.each(Object.keys(fixtureImages()))("%s: the registry serves the manifest we computed", (name) => {
    const image = built.get(name)!;
    const raw = skopeoRawManifest(registry, `fixtures/${name.toLowerCase()}`, "v1");
    expect(sha256Digest(raw)).toBe(image.manifestDigest);
    expect(Buffer.from(raw).equals(Buffer.from(image.manifest))).toBe(true);
  });

  test("media types: Docker v2s2 and OCI, gzip / zstd / uncompressed layers, 64 layers", () => {
    const img = (n: string) => built.get(n) as BuiltImage;
    expect(img("docker").manifestMediaType).toBe(MediaType.DockerManifest);
    expect(img("docker").layers.every((l) => l.mediaType === MediaType.DockerLayerGzip)).toBe(true);
    expect(JSON.parse(new TextDecoder().decode(img("docker").manifest)).config.mediaType).toBe(MediaType.DockerConfig);
    expect(img("oci").manifestMediaType).toBe(MediaType.OciManifest);
    expect(img("gzip").layers.every((l) => l.mediaType === MediaType.OciLayerGzip)).toBe(true);
    expect(img("zstd").layers.every((l) => l.mediaType === MediaType.OciLayerZstd)).toBe(true);
    expect(img("uncompressed").layers.every((l) => l.mediaType === MediaType.OciLayer && l.digest === l.diffId)).toBe(true);
    expect(img("mixedCompression").layers.map((l) => l.mediaType)).toEqual([MediaType.OciLayerGzip, MediaType.OciLayerZstd, MediaType.OciLayer]);
    expect(img("layers64").layers).toHaveLength(64);
    const index = built.get("index") as BuiltIndex;
    expect(index.mediaType).toBe(MediaType.OciIndex);
    expect(index.images.map((i) => `${i.platform.os}/${i.platform.architecture}`)).toEqual(["linux/amd64", "linux/arm64"]);
    expect((built.get("dockerList") as BuiltIndex).mediaType).toBe(MediaType.DockerManifestList);
  });

  test("config JSON carries architecture, os, rootfs.diff_ids, config and history", () => {
    const image = built.get("oci") as BuiltImage;
    const config = JSON.parse(new TextDecoder().decode(image.config));
    expect(config.architecture).toBe("amd64");
    expect(config.os).toBe("linux");
    expect(config.rootfs).toEqual({ type: "layers", diff_ids: image.layers.map((l) => l.diffId) });
    expect(config.config.Cmd).toEqual(["sh"]);
    expect(config.history).toHaveLength(image.layers.length);
    expect(sha256Digest(image.config)).toBe(image.configDigest);
  });

  test("blobs served by the registry match their digests", async () => {
    const image = built.get("zstd") as BuiltImage;
    for (const l of image.layers) {
      const res = await fetch(`${registry.url}/v2/fixtures/zstd/blobs/${l.digest}`);
      const body = new Uint8Array(await res.arrayBuffer());
      expect(res.status).toBe(200);
      expect(sha256Digest(body)).toBe(l.digest);
      expect(sha256Digest(Bun.zstdDecompressSync(body))).toBe(l.diffId);
    }
  });

  test("building the same spec twice gives the same digests", async () => {
    const again = await buildFixture(fixtureImages().entryKinds);
    expect(again.manifestDigest).toBe(built.get("entryKinds")!.manifestDigest);
  });

  test.skipIf(!isRoot)("umoci unpacks every entry kind as written", () => {
    const root = umociUnpack(registry, "fixtures/entrykinds", "v1", tempDir());
    checkExpectations(root, fixtures.entryKinds);
    const t = byPath(snapshotTree(root));
    const rec = (p: string): TreeRecord => {
      const r = t.get(p);
      if (!r) throw new Error(`${p} missing from the unpacked tree`);
      return r;
    };
    expect(rec("kinds/setuid")).toMatchObject({ type: "file", mode: 0o4755 });
    expect(rec("kinds/setgid")).toMatchObject({ type: "file", mode: 0o2755 });
    expect(rec("kinds/sticky")).toMatchObject({ type: "dir", mode: 0o1777 });
    expect(rec("kinds/setgid-dir")).toMatchObject({ type: "dir", mode: 0o2775 });
    expect(rec("kinds/owned")).toMatchObject({ uid: 1000, gid: 1000, mode: 0o640 });
    expect(rec("kinds/owned-dir")).toMatchObject({ type: "dir", uid: 1000, gid: 1000, mode: 0o700 });
    expect(rec("kinds/symlink")).toMatchObject({ type: "symlink", link: "file" });
    expect(rec("kinds/abs-symlink")).toMatchObject({ type: "symlink", link: "/kinds/file" });
    expect(rec("kinds/hardlink")).toMatchObject({ type: "file", nlink: 2, sha256: rec("kinds/file").sha256 });
    expect(rec("kinds/null")).toMatchObject({ type: "char", rdev: "1:3", mode: 0o666 });
    expect(rec("kinds/loop0")).toMatchObject({ type: "block", rdev: "7:0", gid: 6 });
    expect(rec("kinds/fifo")).toMatchObject({ type: "fifo" });
    expect(rec("kinds/xattr").xattrs).toEqual({ "user.note": "hello", "user.tinydock.second": "two" });
    expect(rec("kinds/empty")).toMatchObject({ size: 0, mode: 0o600 });
  });

  test.skipIf(!isRoot)("umoci applies whiteouts and picks amd64 from the index", () => {
    checkExpectations(umociUnpack(registry, "fixtures/whiteouts", "v1", tempDir()), fixtures.whiteouts);
    checkExpectations(umociUnpack(registry, "fixtures/index", "v1", tempDir()), fixtures.index);
    checkExpectations(umociUnpack(registry, "fixtures/layers64", "v1", tempDir()), fixtures.layers64);
  });

  test.skipIf(!isRoot)("diffTrees: identical unpacks match, changes are named", () => {
    const a = umociUnpack(registry, "fixtures/docker", "v1", tempDir());
    const b = umociUnpack(registry, "fixtures/oci", "v1", tempDir());
    const diff = diffTrees(snapshotTree(a), snapshotTree(b));
    expect(diff).toEqual([`~ format: size 7 → 4, sha256 ${sha256Digest("docker\n").slice(7, 19)} → ${sha256Digest("oci\n").slice(7, 19)}`]);
    fs.chmodSync(path.join(b, "tmp"), 0o755);
    fs.rmSync(path.join(b, "etc/hostname"));
    fs.writeFileSync(path.join(b, "extra"), "x");
    expect(diffTrees(snapshotTree(a), snapshotTree(b))).toEqual([
      "- etc/hostname (only in a: file)",
      "+ extra (only in b: file)",
      expect.stringMatching(/^~ format: /),
      "~ tmp: mode 01777 → 0755",
    ]);
  });
});

describe("htpasswd registry", () => {
  const creds = { user: "alice", password: "s3cret pass" };
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: creds });
    registries.push(registry);
  });

  const status = async (auth?: string): Promise<number> => {
    const res = await fetch(`${registry.url}/v2/`, auth ? { headers: { Authorization: `Basic ${btoa(auth)}` } } : {});
    await res.arrayBuffer();
    return res.status;
  };

  test("refuses anonymous and wrong passwords with a Basic challenge", async () => {
    const res = await fetch(`${registry.url}/v2/`);
    await res.arrayBuffer();
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    expect(await status(`${creds.user}:wrong`)).toBe(401);
    expect(await status(`bob:${creds.password}`)).toBe(401);
  });

  test("accepts the right password, for the API and for pushes", async () => {
    expect(await status(`${creds.user}:${creds.password}`)).toBe(200);
    const image = await buildImage({ layers: [{ entries: [{ name: "hello", content: "hi\n" }] }] });
    await expect(pushImage(registry, "private/hello", "v1", image)).rejects.toThrow(/401/);
    await pushImage(registry, "private/hello", "v1", image, creds);
    const raw = skopeoRawManifest(registry, "private/hello", "v1", creds);
    expect(sha256Digest(raw)).toBe(image.manifestDigest);
    expect(() => skopeoRawManifest(registry, "private/hello", "v1")).toThrow();
  });

  test("deletes are enabled", async () => {
    const image = await buildImage({ layers: [{ entries: [{ name: "gone", content: "x" }] }] });
    await pushImage(registry, "private/gone", "v1", image, creds);
    const res = await fetch(`${registry.url}/v2/private/gone/manifests/${image.manifestDigest}`, {
      method: "DELETE",
      headers: { Authorization: `Basic ${btoa(`${creds.user}:${creds.password}`)}` },
    });
    await res.arrayBuffer();
    expect(res.status).toBe(202);
  });
});

describe.skipIf(!isRoot)("images/busybox", () => {
  test("builds deterministically, pushes, and unpacks into a working busybox", async () => {
    const registry = await startRegistry();
    registries.push(registry);
    const first = await buildAndPush(BUSYBOX_DEF, `${registry.url}/library/busybox:latest`, { log: () => {} });
    const second = await buildAndPush(BUSYBOX_DEF, `${registry.url}/library/busybox:again`, { log: () => {} });
    expect(second.manifestDigest).toBe(first.manifestDigest);
    const root = umociUnpack(registry, "library/busybox", "latest", tempDir());
    expect(fs.readlinkSync(path.join(root, "bin/sh"))).toBe("/bin/busybox");
    expect(fs.readFileSync(path.join(root, "www/index.html"), "utf8")).toContain("tinydock");
    expect(fs.statSync(path.join(root, "tmp")).mode & 0o7777).toBe(0o1777);
    const out = Bun.spawnSync(["chroot", root, "/bin/sh", "-c", "echo $((6 * 7)); id -u user"], { stdout: "pipe" });
    expect(out.stdout.toString()).toBe("42\n1000\n");
    const config = JSON.parse(new TextDecoder().decode(first.config)).config;
    expect(config).toMatchObject({ Cmd: ["sh"], ExposedPorts: { "8080/tcp": {} }, User: "root" });
  });
});
