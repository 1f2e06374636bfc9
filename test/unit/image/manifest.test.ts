import { describe, expect, test } from "bun:test";
import { DataLossError, FailedPreconditionError, NotFoundError } from "../../../src/errors.ts";
import { jsonTooDeep, MediaType, MAX_MANIFEST_BYTES, layerCompression, parseImageConfig, parseManifest, pickPlatform, type ImageIndex } from "../../../src/image/manifest.ts";
import { hostPlatform, parsePlatform, platformMatches } from "../../../src/image/platform.ts";

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const dg = (c: string) => `sha256:${c.repeat(64)}`;
const ociManifest = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, digest: dg("c"), size: 100 },
  layers: [
    { mediaType: MediaType.OciLayerGzip, digest: dg("1"), size: 10 },
    { mediaType: MediaType.OciLayerZstd, digest: dg("2"), size: 20 },
    { mediaType: MediaType.OciLayer, digest: dg("3"), size: 30 },
  ],
};

describe("parseManifest", () => {
  test("OCI manifest with gzip, zstd and plain layers", () => {
    const m = parseManifest(enc(ociManifest), MediaType.OciManifest, "m");
    expect(m.kind).toBe("manifest");
    if (m.kind !== "manifest") return;
    expect(m.layers.map((l) => layerCompression(l.mediaType))).toEqual(["gzip", "zstd", "none"]);
  });
  test("Docker v2s2 manifest", () => {
    const m = parseManifest(
      enc({
        schemaVersion: 2,
        mediaType: MediaType.DockerManifest,
        config: { mediaType: MediaType.DockerConfig, digest: dg("c"), size: 1 },
        layers: [{ mediaType: MediaType.DockerLayerGzip, digest: dg("1"), size: 1 }],
      }),
      null,
      "m",
    );
    expect(m.kind).toBe("manifest");
  });
  test("OCI manifest without mediaType field uses the header, or the shape", () => {
    const { mediaType: _, ...noType } = ociManifest;
    expect(parseManifest(enc(noType), MediaType.OciManifest, "m").kind).toBe("manifest");
    expect(parseManifest(enc(noType), "application/json", "m").kind).toBe("manifest");
    expect(parseManifest(enc({ schemaVersion: 2, manifests: [] }), null, "m").kind).toBe("index");
  });
  const bad: [string, unknown, new (...a: never[]) => Error, RegExp][] = [
    ["not JSON", "{", DataLossError, /not valid JSON/],
    ["schema 1", { schemaVersion: 1, name: "x" }, FailedPreconditionError, /schema 1/],
    ["unknown media type", { ...ociManifest, mediaType: "application/x-foo" }, FailedPreconditionError, /unsupported manifest media type/],
    ["unknown layer type", { ...ociManifest, layers: [{ mediaType: "application/x-tar+lz4", digest: dg("1"), size: 1 }] }, FailedPreconditionError, /unsupported layer media type "application\/x-tar\+lz4"/],
    ["helm chart config", { ...ociManifest, config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: dg("c"), size: 1 } }, FailedPreconditionError, /not a container image/],
    ["digest with path", { ...ociManifest, layers: [{ mediaType: MediaType.OciLayer, digest: "sha256:../../etc/passwd", size: 1 }] }, DataLossError, /not sha256/],
    ["negative size", { ...ociManifest, layers: [{ mediaType: MediaType.OciLayer, digest: dg("1"), size: -1 }] }, DataLossError, /size/],
    ["no layers", { ...ociManifest, layers: undefined }, DataLossError, /no layers/],
  ];
  for (const [name, body, type, msg] of bad) {
    test(`rejects ${name}`, () => {
      const bytes = typeof body === "string" ? new TextEncoder().encode(body) : enc(body);
      expect(() => parseManifest(bytes, null, "manifest of x")).toThrow(type);
      expect(() => parseManifest(bytes, null, "manifest of x")).toThrow(msg);
    });
  }
  test("rejects oversized manifests before parsing", () => {
    expect(() => parseManifest(new Uint8Array(MAX_MANIFEST_BYTES + 1), null, "m")).toThrow(/larger than/);
  });
});

describe("platforms", () => {
  const index: ImageIndex = {
    kind: "index",
    mediaType: MediaType.OciIndex,
    manifests: [
      { mediaType: MediaType.OciManifest, digest: dg("a"), size: 1, platform: { os: "linux", architecture: "amd64" } },
      { mediaType: MediaType.OciManifest, digest: dg("b"), size: 1, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      { mediaType: MediaType.OciManifest, digest: dg("c"), size: 1, platform: { os: "linux", architecture: "arm", variant: "v6" } },
      { mediaType: MediaType.OciManifest, digest: dg("d"), size: 1, platform: { os: "unknown", architecture: "unknown" } },
    ],
  };
  test("picks by os/arch/variant", () => {
    expect(pickPlatform(index, parsePlatform("linux/amd64"), "i").digest).toBe(dg("a"));
    expect(pickPlatform(index, parsePlatform("linux/arm64"), "i").digest).toBe(dg("b"));
    expect(pickPlatform(index, parsePlatform("linux/arm/v6"), "i").digest).toBe(dg("c"));
  });
  test("missing platform names what the index has", () => {
    expect(() => pickPlatform(index, parsePlatform("linux/s390x"), "the index of x")).toThrow(NotFoundError);
    expect(() => pickPlatform(index, parsePlatform("linux/s390x"), "the index of x")).toThrow(/linux\/amd64, linux\/arm64\/v8, linux\/arm\/v6/);
    expect(() => pickPlatform(index, parsePlatform("linux/arm/v7"), "i")).toThrow(NotFoundError);
  });
  test("parsePlatform", () => {
    expect(parsePlatform("linux/x86_64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(parsePlatform("linux/aarch64")).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(parsePlatform("linux", { os: "linux", architecture: "amd64" })).toEqual({ os: "linux", architecture: "amd64" });
    expect(() => parsePlatform("linux/amd64/v2/x")).toThrow(/Cannot parse platform/);
    expect(() => parsePlatform("")).toThrow(/Cannot parse platform/);
    expect(hostPlatform("x64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(platformMatches({ os: "linux", architecture: "arm64" }, { os: "linux", architecture: "arm64", variant: "v8" })).toBe(true);
  });
});

describe("parseImageConfig", () => {
  test("accepts a config and validates diff_ids", () => {
    const c = parseImageConfig(enc({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [dg("1")] } }), "c");
    expect(c.rootfs.diff_ids).toEqual([dg("1")]);
    expect(() => parseImageConfig(enc({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: ["x"] } }), "c")).toThrow(DataLossError);
    expect(() => parseImageConfig(enc({ os: "linux", rootfs: { type: "layers", diff_ids: [] } }), "c")).toThrow(/architecture/);
  });

  // What a pull and a load both go through: the later readers of a stored config trust its types.
  test("refuses fields of a type Docker's Go structs would not decode, and takes Go's nulls", () => {
    const base = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } };
    const full = {
      ...base,
      created: "2024-01-02T03:04:05Z",
      author: null,
      config: {
        User: "1:1", Env: ["A=b"], Entrypoint: null, Cmd: ["sh"], WorkingDir: "/", Labels: { a: "b" }, ExposedPorts: { "80/tcp": {} },
        Volumes: { "/d": {} }, StopSignal: "SIGTERM", StopTimeout: 3, OnBuild: null, Healthcheck: { Test: ["NONE"], Interval: 3e10, Retries: 3 },
      },
      history: [{ created: "2024-01-02T03:04:05Z", created_by: "x", empty_layer: true }],
    };
    expect(parseImageConfig(enc(full), "c").config?.Cmd).toEqual(["sh"]);
    const bad: [unknown, RegExp][] = [
      [{ ...base, config: { Cmd: "sh" } }, /config\.Cmd is not a list of strings/],
      [{ ...base, config: { ExposedPorts: ["80/tcp"] } }, /config\.ExposedPorts is not an object of objects/],
      [{ ...base, config: { User: 0 } }, /config\.User is not a string/],
      [{ ...base, config: { Healthcheck: { Interval: "30s" } } }, /config\.Healthcheck is not a health check/],
      [{ ...base, history: [{ empty_layer: "yes" }] }, /history\[0\]\.empty_layer is not true or false/],
      [{ ...base, author: ["x"] }, /author is not a string/],
    ];
    for (const [config, message] of bad) expect(() => parseImageConfig(enc(config), "c")).toThrow(message);
    for (const [config] of bad) expect(() => parseImageConfig(enc(config), "c")).toThrow(DataLossError);
  });

  test("refuses JSON nested deeper than Go's 10000 levels; brackets inside strings do not count", () => {
    const deep = (n: number) => new TextEncoder().encode(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"x":${"[".repeat(n)}${"]".repeat(n)}}`);
    expect(() => parseImageConfig(deep(9_990), "c")).not.toThrow();
    expect(() => parseImageConfig(deep(200_000), "c")).toThrow(/JSON nested deeper than 10000 levels/);
    expect(jsonTooDeep(enc({ s: "[".repeat(20_000), t: '\\"{{{' }), 10)).toBe(false);
    expect(jsonTooDeep(enc([[[["\\"]]]]), 3)).toBe(true);
  });

  test("refuses descriptor annotations that are not strings (load reads them as names)", () => {
    const index = (annotations: unknown) => enc({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: dg("1"), size: 1, annotations }] });
    expect(parseManifest(index({ a: "b" }), null, "i")).toMatchObject({ kind: "index" });
    for (const a of [{ a: 1 }, { a: null }, ["x"], "x"]) expect(() => parseManifest(index(a), null, "i")).toThrow(/annotations are not an object of strings/);
  });
});
