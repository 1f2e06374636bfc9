// Fuzzing of what a registry, a config file or a format string hands tinydock: image references,
// WWW-Authenticate challenges, manifests, indexes and image configs (random JSON and mutations of
// real ones), the engine config, Docker's config.json credentials, mirror URLs, and the Go
// templates of --format. Every input either parses or throws one of src/errors.ts's kinds,
// within a second. Seeded; counts go to the adversarial tally.
import { afterAll, describe, test } from "bun:test";
import fc from "fast-check";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { compileTemplate } from "../../src/cli/template.ts";
import { parseEngineConfig } from "../../src/context.ts";
import { MediaType, parseImageConfig, parseManifest, pickPlatform } from "../../src/image/manifest.ts";
import { parseReference } from "../../src/image/reference.ts";
import { parseChallenges } from "../../src/registry/challenge.ts";
import { readCredentials } from "../../src/registry/credentials.ts";
import { parseMirror } from "../../src/registry/endpoints.ts";
import { fuzz, JUNK, NUMBERS, tokens, typedOrNothing } from "../helpers/fuzz.ts";

const RUNS = 3000;
const HEX = "0123456789abcdef".repeat(4);
const DIGEST = `sha256:${HEX}`;
const bytes = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-fuzz-registry-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** JSON whose leaves are sometimes the wrong type: objects where strings go, numbers as text, nulls. */
const anyJson = fc.jsonValue({ maxDepth: 2 });
const mediaTypes = fc.constantFrom<unknown>(...Object.values(MediaType), "application/json", "", null, 7, ["x"]);
const descriptor = fc.record(
  {
    mediaType: mediaTypes,
    digest: fc.oneof(fc.constant<unknown>(DIGEST), fc.constant(`sha512:${HEX}`), fc.string(), anyJson),
    size: fc.oneof(fc.integer(), fc.double(), fc.constant<unknown>("12"), fc.constant(-1), fc.constant(2 ** 64)),
    platform: fc.oneof(
      fc.record({ os: fc.oneof(fc.constant<unknown>("linux"), anyJson), architecture: fc.oneof(fc.constant<unknown>("amd64"), anyJson), variant: anyJson }, { requiredKeys: [] }),
      anyJson,
    ),
    annotations: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), anyJson)), anyJson),
    urls: anyJson,
  },
  { requiredKeys: [] },
);
const manifest = fc.record(
  {
    schemaVersion: fc.oneof(fc.constant<unknown>(2), fc.constant(1), anyJson),
    mediaType: mediaTypes,
    config: fc.oneof(descriptor, anyJson),
    layers: fc.oneof(fc.array(fc.oneof(descriptor, anyJson), { maxLength: 4 }), anyJson),
    manifests: fc.oneof(fc.array(fc.oneof(descriptor, anyJson), { maxLength: 4 }), anyJson),
  },
  { requiredKeys: [] },
);
const imageConfig = fc.record(
  {
    architecture: fc.oneof(fc.constant<unknown>("amd64"), anyJson),
    os: fc.oneof(fc.constant<unknown>("linux"), anyJson),
    rootfs: fc.oneof(
      fc.record({ type: fc.oneof(fc.constant<unknown>("layers"), anyJson), diff_ids: fc.oneof(fc.array(fc.oneof(fc.constant<unknown>(DIGEST), anyJson), { maxLength: 3 }), anyJson) }, { requiredKeys: [] }),
      anyJson,
    ),
    config: fc.oneof(
      fc.record({ Env: anyJson, Cmd: anyJson, Entrypoint: anyJson, WorkingDir: anyJson, User: anyJson, ExposedPorts: anyJson, Volumes: anyJson }, { requiredKeys: [] }),
      anyJson,
    ),
  },
  { requiredKeys: [] },
);

describe("fuzz: registry and config input throws only typed errors", () => {
  test("image references", () => {
    const arb = tokens([
      ...JUNK, "a", "b", "Z", "0", "9", ".", "-", "_", "__", "/", ":", "@", "sha256:", HEX, "localhost", ":5000", "docker.io", "library/",
      "index.docker.io", "latest", "[::1]", "..", "//", "a".repeat(130), "A".repeat(5), "x".repeat(256),
    ]);
    fuzz("image references", arb, 2000, (s) => {
      typedOrNothing(s, () => parseReference(s));
      typedOrNothing(s, () => parseReference(s, { defaultTag: false }));
    });
  }, 30_000);

  test("WWW-Authenticate challenges", () => {
    const arb = tokens([...JUNK, "Bearer", "Basic", "Digest", " ", "realm=", "service=", "scope=", "error=", '"', '\\"', "\\", ",", "=", "http://r/token", "a", "\t", "  ,"], 16);
    fuzz("auth challenges", arb, RUNS, (s) => {
      typedOrNothing(s, () => parseChallenges(s));
    });
  }, 30_000);

  test("manifests, indexes, image configs and the platform pick", () => {
    const body = fc.oneof(
      { weight: 4, arbitrary: manifest.map(bytes) },
      { weight: 1, arbitrary: anyJson.map(bytes) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    );
    const contentType = fc.oneof(mediaTypes.filter((m): m is string => typeof m === "string"), fc.constant(null), fc.string());
    fuzz("manifests", fc.tuple(body, contentType), 2000, ([b, ct]) => {
      let parsed: ReturnType<typeof parseManifest> | undefined;
      typedOrNothing({ body: new TextDecoder().decode(b), ct }, () => {
        parsed = parseManifest(b, ct, "manifest");
      });
      if (parsed?.kind === "index") {
        const index = parsed;
        typedOrNothing(index, () => pickPlatform(index, { os: "linux", architecture: "amd64" }, "index"));
        typedOrNothing(index, () => pickPlatform(index, { os: "linux", architecture: "arm64", variant: "v8" }, "index"));
      }
    });
    const config = fc.oneof({ weight: 4, arbitrary: imageConfig.map(bytes) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) });
    fuzz("image configs", config, 2000, (b) => {
      typedOrNothing(new TextDecoder().decode(b), () => parseImageConfig(b, "config"));
    });
  }, 30_000);

  test("the engine config (/etc/tinydock/config.json)", () => {
    const value = fc.oneof(anyJson, fc.array(fc.string(), { maxLength: 3 }), fc.integer(), fc.double(), fc.constant(2 ** 53 + 2));
    const config = fc.record(
      {
        "registry-mirrors": fc.oneof(value, fc.array(tokens(["http://", "https://", "localhost", ":5000", "/", "?", "#", "@", ...JUNK]), { maxLength: 3 })),
        "mirror-fallback": value,
        "insecure-registries": value,
        "max-layer-bytes": value,
        "max-concurrent-downloads": value,
        bip: fc.oneof(value, tokens([...NUMBERS, ".", "/", "10.29.0.1", "/16", "/33", ...JUNK], 6)),
        "default-address-pools": fc.oneof(value, fc.array(fc.record({ base: value, size: value }, { requiredKeys: [] }), { maxLength: 3 })),
        mtu: value,
      },
      { requiredKeys: [] },
    );
    const text = fc.oneof({ weight: 4, arbitrary: config.map((c) => JSON.stringify(c)) }, { weight: 1, arbitrary: anyJson.map((j) => JSON.stringify(j)) }, { weight: 1, arbitrary: fc.string() });
    fuzz("engine config", text, RUNS, (t) => {
      typedOrNothing(t, () => parseEngineConfig(t, "/etc/tinydock/config.json"));
    });
  }, 30_000);

  test("registry mirrors", () => {
    const arb = tokens([...JUNK, "http://", "https://", "ftp://", "localhost", "127.0.0.1", "[::1]", ":5000", ":99999", "/", "/v2/", "?", "#", "@", "user:pw@", "a"]);
    fuzz("registry mirrors", arb, RUNS, (s) => {
      typedOrNothing(s, () => parseMirror(s));
    });
  }, 30_000);

  test("Docker config.json credentials", () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const auth = fc.oneof(
      fc.string().map(b64),
      fc.constantFrom("dTpw", b64("u:p"), b64("u"), b64(":"), b64("u:p:q"), "%%%", "", "====", b64("\0:\0")),
      anyJson,
    );
    const entry = fc.oneof(fc.record({ auth, username: anyJson, password: anyJson, identitytoken: anyJson }, { requiredKeys: [] }), anyJson);
    const config = fc.oneof(
      { weight: 4, arbitrary: fc.record({ auths: fc.oneof(fc.dictionary(fc.constantFrom("reg.example", "https://reg.example/v1/", "REG.EXAMPLE", "https://index.docker.io/v1/", "docker.io", ""), entry), anyJson), credsStore: anyJson }, { requiredKeys: [] }).map((c) => JSON.stringify(c)) },
      { weight: 1, arbitrary: fc.string() },
    );
    const file = path.join(dir, "config.json");
    fuzz("docker config.json", config, 2000, (text) => {
      fs.writeFileSync(file, text);
      typedOrNothing(text, () => readCredentials(dir, "reg.example"));
      typedOrNothing(text, () => readCredentials(dir, "docker.io"));
    });
  }, 30_000);

  test("Go templates of --format, rendered against a container-like object", () => {
    const arb = tokens([
      ...JUNK, "{{", "}}", "{{.", "{{ ", " }}", ".", "ID", "Names", "State", "Labels", "json", "index", "join", "upper", "lower", "len",
      "println", "table", "range", "end", "if", '"key"', '","', '"\\q"', '"\\u12"', "`", "|", "$", "(", ")", "-", "\\t", "\\n", "{{-", "-}}", "{{.}}",
    ], 14);
    // Well-formed actions with hostile arguments: quoted strings with any escape, numbers, paths.
    const quoted = tokens(["a", "key", "\\", "\\n", "\\q", "\\u12", "\\u0041", "\\x41", "'", "\t", ...JUNK.filter((j) => j !== '"')], 4).map((t) => `"${t}"`);
    const arg = fc.oneof(quoted, fc.constantFrom(".", ".ID", ".Labels", ".Names", ".State.Pid", ".Nope.Deeper", "1", "-1", "99999999999999999999", "true", "`a`", "`"), tokens(NUMBERS, 1));
    const action = fc
      .tuple(fc.constantFrom("", "json", "index", "join", "upper", "lower", "len", "println", "table", "nope"), fc.array(arg, { maxLength: 3 }))
      .map(([fn, args]) => `{{${[fn, ...args].filter(Boolean).join(" ")}}}`);
    const structured = fc.array(fc.oneof(action, tokens(["x", " ", "\\t", "|", "{", "}"], 3)), { maxLength: 4 }).map((p) => p.join(""));
    const data = { ID: "abc", Names: ["/x"], State: { Running: true, Pid: 7 }, Labels: { key: "v", "a.b": "c" }, Ports: null, Size: 2 ** 53, Nested: [[1], { a: [] }] };
    fuzz("go templates", fc.oneof(arb, structured), RUNS, (s) => {
      typedOrNothing(s, () => compileTemplate(s)(data));
    });
  }, 30_000);
});
