// Root filesystems and fixture images for tests, all built in code from the host's static busybox
// (Debian's busybox-static). The recipe of every fixture is here; no opaque blobs.
import fs from "node:fs";
import path from "node:path";
import { buildImage, buildIndex, type BuiltImage, type BuiltIndex, type ImageSpec, type LayerSpec } from "./image.ts";
import type { TarEntry } from "./tar.ts";

export const HOST_BUSYBOX = "/bin/busybox";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "user:x:1000:1000:user:/home/user:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "",
].join("\n");

const GROUP = ["root:x:0:", "user:x:1000:", "nobody:x:65534:", ""].join("\n");

/**
 * A storage root laid out for an overlay of one lower layer, without a store: root/images/busybox (the
 * host's busybox, the `applets` linked to it, and the mount points a container needs), reached as
 * l/busybox, and root/empty.
 */
export function busyboxLowerRoot(root: string, applets: string[], extraDirs: string[] = []): void {
  const image = path.join(root, "images/busybox");
  for (const d of ["l", "empty", ...extraDirs]) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const d of ["bin", "proc", "sys", "dev", "tmp", "etc"]) fs.mkdirSync(path.join(image, d), { recursive: true });
  fs.copyFileSync(HOST_BUSYBOX, path.join(image, "bin/busybox"));
  fs.chmodSync(path.join(image, "bin/busybox"), 0o755);
  for (const a of applets) fs.symlinkSync("busybox", path.join(image, "bin", a));
  fs.symlinkSync("../images/busybox", path.join(root, "l", "busybox"));
}

let appletCache: string[] | undefined;

/** Paths (relative, e.g. "usr/bin/wget") of every applet the host's busybox offers. */
export function busyboxApplets(busybox = HOST_BUSYBOX): string[] {
  if (busybox === HOST_BUSYBOX && appletCache) return appletCache;
  const out = Bun.spawnSync([busybox, "--list-full"], { stdout: "pipe", stderr: "pipe" });
  if (out.exitCode !== 0) throw new Error(`Cannot list applets of "${busybox}": exit ${out.exitCode} ${out.stderr.toString()}`);
  const applets = out.stdout
    .toString()
    .split("\n")
    .map((l) => l.trim())
    // bin/busybox is the binary itself; linuxrc is an initrd's init, not a command.
    .filter((l) => l && l !== "bin/busybox" && l !== "linuxrc")
    .sort();
  if (busybox === HOST_BUSYBOX) appletCache = applets;
  return applets;
}

/**
 * A minimal Linux root filesystem: bin/busybox, one symlink per applet, etc/passwd and etc/group
 * (root, user 1000, nobody), tmp with 1777, and the usual empty directories.
 */
export function busyboxEntries(busybox = HOST_BUSYBOX): TarEntry[] {
  const applets = busyboxApplets(busybox);
  const dirs = new Set(["bin", "dev", "etc", "home", "home/user", "proc", "root", "sys", "tmp", "usr", "var", "var/tmp", "usr/bin", "usr/sbin", "sbin"]);
  for (const a of applets) {
    const parts = a.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  const dirMode: Record<string, number> = { tmp: 0o1777, "var/tmp": 0o1777, root: 0o700 };
  const dirOwner: Record<string, number> = { "home/user": 1000 };
  const entries: TarEntry[] = [...dirs].sort().map((d) => ({
    name: `${d}/`,
    type: "directory",
    mode: dirMode[d] ?? 0o755,
    uid: dirOwner[d] ?? 0,
    gid: dirOwner[d] ?? 0,
  }));
  entries.push({ name: "bin/busybox", content: fs.readFileSync(busybox), mode: 0o755 });
  for (const a of applets) entries.push({ name: a, type: "symlink", linkname: "/bin/busybox", mode: 0o777 });
  entries.push({ name: "etc/passwd", content: PASSWD });
  entries.push({ name: "etc/group", content: GROUP });
  entries.push({ name: "etc/hostname", content: "busybox\n" });
  return entries;
}

/** What a correct unpacker leaves behind, for tests that check a fixture's rootfs. */
export interface FixtureExpectation {
  /** Paths (relative to the rootfs) that must exist. */
  present?: string[];
  /** Paths that must not exist (whited out, never shipped). */
  absent?: string[];
  /** Regular files and their exact content. */
  files?: Record<string, string>;
}

export type Fixture =
  | { name: string; description: string; image: ImageSpec; expect?: FixtureExpectation }
  | { name: string; description: string; index: ImageSpec[]; format?: "oci" | "docker"; expect?: FixtureExpectation };

export async function buildFixture(f: Fixture): Promise<BuiltImage | BuiltIndex> {
  if ("image" in f) return buildImage(f.image);
  const images: BuiltImage[] = [];
  for (const spec of f.index) images.push(await buildImage(spec));
  return buildIndex(images, f.format);
}

const BUSYBOX_CONFIG = {
  Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  Cmd: ["sh"],
};

/** One file whose content names the fixture, so a test can tell which image it got. */
function marker(path: string, content: string): TarEntry {
  return { name: path, content };
}

/** Every entry kind a layer tar can hold, with the modes and owners that are easy to get wrong. */
export function entryKindsEntries(): TarEntry[] {
  return [
    { name: "kinds/", type: "directory", mode: 0o755 },
    { name: "kinds/dir/", type: "directory", mode: 0o750 },
    { name: "kinds/sticky/", type: "directory", mode: 0o1777 },
    { name: "kinds/setgid-dir/", type: "directory", mode: 0o2775 },
    { name: "kinds/owned-dir/", type: "directory", mode: 0o700, uid: 1000, gid: 1000 },
    { name: "kinds/file", content: "regular file\n", mode: 0o644 },
    { name: "kinds/empty", content: "", mode: 0o600 },
    { name: "kinds/exec", content: "#!/bin/sh\necho hi\n", mode: 0o755 },
    { name: "kinds/setuid", content: "setuid\n", mode: 0o4755 },
    { name: "kinds/setgid", content: "setgid\n", mode: 0o2755 },
    { name: "kinds/sticky-file", content: "sticky\n", mode: 0o1644 },
    { name: "kinds/owned", content: "owned by 1000\n", mode: 0o640, uid: 1000, gid: 1000 },
    { name: "kinds/owned-split", content: "uid 1000, gid 0\n", mode: 0o644, uid: 1000, gid: 0 },
    { name: "kinds/symlink", type: "symlink", linkname: "file", mode: 0o777 },
    { name: "kinds/abs-symlink", type: "symlink", linkname: "/kinds/file", mode: 0o777 },
    { name: "kinds/dangling", type: "symlink", linkname: "does-not-exist", mode: 0o777 },
    { name: "kinds/hardlink", type: "link", linkname: "kinds/file" },
    { name: "kinds/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
    { name: "kinds/loop0", type: "block-device", devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
    { name: "kinds/fifo", type: "fifo", mode: 0o644 },
    {
      name: "kinds/xattr",
      content: "has xattrs\n",
      pax: { "SCHILY.xattr.user.note": "hello", "SCHILY.xattr.user.tinydock.second": "two" },
    },
    { name: `kinds/long/${"a".repeat(120)}/${"b".repeat(120)}`, content: "long name via PAX path\n" },
    { name: "kinds/unicode-é✓", content: "utf-8 name\n" },
  ];
}

/** Lower layer and upper layer with OCI whiteouts: a plain file, a directory, and an opaque dir. */
export function whiteoutLayers(): { lower: TarEntry[]; upper: TarEntry[] } {
  return {
    lower: [
      { name: "wh/", type: "directory" },
      { name: "wh/keep", content: "kept\n" },
      { name: "wh/gone", content: "whited out\n" },
      { name: "wh/gone-dir/", type: "directory" },
      { name: "wh/gone-dir/inner", content: "inside a whited-out dir\n" },
      { name: "wh/opaque/", type: "directory", mode: 0o755 },
      { name: "wh/opaque/old1", content: "hidden by opaque\n" },
      { name: "wh/opaque/sub/", type: "directory" },
      { name: "wh/opaque/sub/old2", content: "hidden by opaque\n" },
      { name: "wh/replaced", content: "lower version\n" },
    ],
    upper: [
      { name: "wh/", type: "directory" },
      { name: "wh/.wh.gone", content: "" },
      { name: "wh/.wh.gone-dir", content: "" },
      { name: "wh/opaque/", type: "directory", mode: 0o755 },
      { name: "wh/opaque/.wh..wh..opq", content: "" },
      { name: "wh/opaque/new", content: "added above the opaque whiteout\n" },
      { name: "wh/replaced", content: "upper version\n" },
      { name: "wh/added", content: "new in upper\n" },
    ],
  };
}

/** The fixture images the suite pushes to its registries, by name. Each call builds fresh specs. */
export function fixtureImages(): Record<FixtureName, Fixture> {
  const base = (): LayerSpec => ({ entries: busyboxEntries(), createdBy: "busybox rootfs" });
  const compressed = (compression: "gzip" | "zstd" | "none"): Fixture => ({
    name: compression === "none" ? "uncompressed" : compression,
    description: `busybox with every layer ${compression === "none" ? "uncompressed" : `${compression}-compressed`}`,
    image: {
      layers: [
        { ...base(), compression },
        { entries: [marker("compression", `${compression}\n`)], compression },
      ],
      config: BUSYBOX_CONFIG,
    },
    expect: { present: ["bin/busybox", "bin/sh"], files: { compression: `${compression}\n` } },
  });
  const kinds = entryKindsEntries();
  const { lower, upper } = whiteoutLayers();
  const many: LayerSpec[] = [base()];
  for (let i = 1; i < 64; i++) {
    const n = String(i).padStart(2, "0");
    many.push({
      entries: [
        { name: "layers/", type: "directory" },
        marker(`layers/${n}`, `layer ${n}\n`),
        marker("layers/top", `${n}\n`),
      ],
      createdBy: `layer ${n}`,
    });
  }
  return {
    oci: {
      name: "oci",
      description: "busybox as an OCI image manifest",
      image: { format: "oci", layers: [base(), { entries: [marker("format", "oci\n")] }], config: BUSYBOX_CONFIG },
      expect: { present: ["bin/busybox", "bin/sh", "etc/passwd"], files: { format: "oci\n" } },
    },
    docker: {
      name: "docker",
      description: "busybox as a Docker v2 schema 2 manifest",
      image: { format: "docker", layers: [base(), { entries: [marker("format", "docker\n")] }], config: BUSYBOX_CONFIG },
      expect: { present: ["bin/busybox", "bin/sh"], files: { format: "docker\n" } },
    },
    index: {
      name: "index",
      description: "an OCI index with linux/amd64 (busybox) and linux/arm64/v8 (a marker only)",
      index: [
        {
          layers: [base(), { entries: [marker("arch", "amd64\n")] }],
          config: BUSYBOX_CONFIG,
          platform: { os: "linux", architecture: "amd64" },
        },
        {
          layers: [{ entries: [marker("arch", "arm64\n")] }],
          config: { Cmd: ["/bin/false"] },
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
        },
      ],
      expect: { files: { arch: "amd64\n" } },
    },
    dockerList: {
      name: "dockerList",
      description: "a Docker manifest list with linux/amd64 and linux/arm64/v8",
      format: "docker",
      index: [
        {
          format: "docker",
          layers: [base(), { entries: [marker("arch", "amd64\n")] }],
          config: BUSYBOX_CONFIG,
          platform: { os: "linux", architecture: "amd64" },
        },
        {
          format: "docker",
          layers: [{ entries: [marker("arch", "arm64\n")] }],
          config: { Cmd: ["/bin/false"] },
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
        },
      ],
      expect: { files: { arch: "amd64\n" } },
    },
    gzip: compressed("gzip"),
    zstd: compressed("zstd"),
    uncompressed: compressed("none"),
    mixedCompression: {
      name: "mixedCompression",
      description: "one gzip, one zstd and one uncompressed layer in the same image",
      image: {
        layers: [
          { ...base(), compression: "gzip" },
          { entries: [marker("zstd-layer", "zstd\n")], compression: "zstd" },
          { entries: [marker("plain-layer", "none\n")], compression: "none" },
        ],
        config: BUSYBOX_CONFIG,
      },
      expect: { files: { "zstd-layer": "zstd\n", "plain-layer": "none\n" } },
    },
    layers64: {
      name: "layers64",
      description: "busybox plus 63 small layers (64 in all), each overwriting layers/top",
      image: { layers: many, config: BUSYBOX_CONFIG },
      expect: { files: { "layers/top": "63\n", "layers/01": "layer 01\n", "layers/63": "layer 63\n" } },
    },
    entryKinds: {
      name: "entryKinds",
      description: "one layer with every tar entry kind: modes with setuid/setgid/sticky, links, devices, fifo, owners, xattrs",
      image: { layers: [{ entries: kinds }], config: { Cmd: ["/bin/sh"] } },
      expect: {
        present: kinds.map((e) => e.name.replace(/\/$/, "")),
        files: { "kinds/file": "regular file\n", "kinds/hardlink": "regular file\n" },
      },
    },
    whiteouts: {
      name: "whiteouts",
      description: "a lower layer and an upper layer with .wh.<name> and .wh..wh..opq whiteouts",
      image: { layers: [{ entries: lower }, { entries: upper }], config: {} },
      expect: {
        present: ["wh/keep", "wh/opaque", "wh/opaque/new", "wh/replaced", "wh/added"],
        absent: [
          "wh/gone",
          "wh/gone-dir",
          "wh/gone-dir/inner",
          "wh/opaque/old1",
          "wh/opaque/sub",
          "wh/.wh.gone",
          "wh/.wh.gone-dir",
          "wh/opaque/.wh..wh..opq",
        ],
        files: { "wh/replaced": "upper version\n", "wh/keep": "kept\n" },
      },
    },
  };
}

export type FixtureName =
  | "oci"
  | "docker"
  | "index"
  | "dockerList"
  | "gzip"
  | "zstd"
  | "uncompressed"
  | "mixedCompression"
  | "layers64"
  | "entryKinds"
  | "whiteouts";
