import { describe, expect, test } from "bun:test";
import {
  DataLossError,
  InvalidArgumentError,
  NotFoundError,
  ParseError,
  PermissionError,
  TinydockError,
  UnauthenticatedError,
  UnavailableError,
} from "../../../src/errors.ts";
import { sha256Digest } from "../../../src/image/digest.ts";
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, MediaType } from "../../../src/image/manifest.ts";
import { RegistryClient } from "../../../src/registry/client.ts";
import { writeCredentials } from "../../../src/registry/credentials.ts";
import type { Handler } from "./fake-server.ts";
import { bytes, collect, descriptorOf, errorBody, perTest, rejection, repoHandler, type testCtx } from "./fixtures.ts";
import { hostileTest } from "../../helpers/adversarial.ts";

const hostile = hostileTest("registry fault");

const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] });
const MANIFEST_DIGEST = sha256Digest(MANIFEST);
const LAYER = bytes(200_000);
const LAYER_DESC = descriptorOf(LAYER);
const CONFIG = new TextEncoder().encode('{"architecture":"amd64","os":"linux"}');
const CONFIG_DESC = descriptorOf(CONFIG, MediaType.OciConfig);

const { serve, makeCtx } = perTest();
const content = () => ({ manifests: { latest: { body: MANIFEST } }, blobs: [LAYER, CONFIG] });

/** A registry on a fake server, a ctx, and a client for 127.0.0.1:PORT/app. */
function setup(handler?: (base: Handler) => Handler, ctxOver: Parameters<typeof testCtx>[0] = {}) {
  const base = repoHandler("app", content());
  const server = serve(handler ? handler(base) : base);
  const t = makeCtx(ctxOver);
  const client = new RegistryClient(t.ctx, { registry: server.host, repository: "app" });
  return { server, t, client, base };
}

describe("getManifest", () => {
  hostile("a body dripped a byte at a time (never a stall) ends soon after the budget, below a floor of 1 KiB/s", async () => {
    // 100 kB at 50 bytes/s would take half an hour; each byte alone is progress.
    const { client } = setup(() => () => ({ status: 200, body: `{"schemaVersion":2}${" ".repeat(100_000)}`, dripEveryMs: 20 }), { config: { downloadStallTimeoutMs: 1_000 } });
    const t0 = performance.now();
    const err = await rejection(client.getManifest("latest"));
    expect(performance.now() - t0).toBeLessThan(4_000);
    expect(err).toBeInstanceOf(TinydockError);
    expect(err.message).toMatch(/^Cannot fetch manifest for .*: body slower than 1024 bytes\/s \(\d+ bytes so far\)$/);
  });

  test("by tag: body, content type, digest; Accept header sent", async () => {
    const { server, client } = setup();
    const m = await client.getManifest("latest");
    expect(new TextDecoder().decode(m.body)).toBe(MANIFEST);
    expect(m.contentType).toBe(MediaType.OciManifest);
    expect(m.digest).toBe(MANIFEST_DIGEST);
    expect(server.requests[0]!.headers.get("accept")).toBe(MANIFEST_ACCEPT);
    expect(server.requests[0]!.target).toBe("/v2/app/manifests/latest");
  });

  test("by digest: verified", async () => {
    const { client } = setup();
    expect((await client.getManifest(MANIFEST_DIGEST)).digest).toBe(MANIFEST_DIGEST);
  });

  hostile("by digest: content that hashes otherwise is DataLoss, and not retried elsewhere", async () => {
    const wanted = sha256Digest("something else");
    const { server, client } = setup(() => () => ({ status: 200, body: MANIFEST, headers: { "Content-Type": MediaType.OciManifest } }));
    const err = await rejection(client.getManifest(wanted));
    expect(err).toBeInstanceOf(DataLossError);
    expect(err.message).toContain(MANIFEST_DIGEST);
    expect(server.requests.length).toBe(1);
  });

  hostile("a lying Docker-Content-Digest is DataLoss", async () => {
    const { client } = setup(() => () => ({ status: 200, body: MANIFEST, headers: { "Docker-Content-Digest": sha256Digest("x") } }));
    expect(await rejection(client.getManifest("latest"))).toBeInstanceOf(DataLossError);
  });

  test("404 is NotFound with the registry's message", async () => {
    const { server, client } = setup();
    const err = await rejection(client.getManifest("nope"));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe(`manifest for ${server.host}/app:nope not found: manifest unknown`);
  });

  hostile("oversized manifest (declared) is refused without reading it", async () => {
    const { server, client } = setup(() => () => ({ status: 200, body: "{}", contentLength: MAX_MANIFEST_BYTES + 1, stallAfter: 2 }));
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(DataLossError);
    expect(err.message).toContain(`larger than ${MAX_MANIFEST_BYTES} bytes`);
    expect(server.requests.length).toBe(1);
  });

  hostile("oversized manifest (undeclared, streamed) stops at the cap", async () => {
    const huge = new Uint8Array(MAX_MANIFEST_BYTES + 100_000).fill(0x20);
    const { client } = setup(() => () => ({ status: 200, body: huge, contentLength: null }));
    expect(await rejection(client.getManifest("latest"))).toBeInstanceOf(DataLossError);
  });

  test("rejects references that are neither tag nor digest, before any request", async () => {
    const { server, client } = setup();
    for (const ref of ["../x", "sha256:abc", "a/b", "", "sha256:" + "A".repeat(64), "x?y"]) {
      expect(await rejection(client.getManifest(ref))).toBeInstanceOf(ParseError);
    }
    expect(server.requests.length).toBe(0);
  });

  hostile("5xx is retried with exponential backoff", async () => {
    let n = 0;
    const { server, t, client } = setup((base) => (req, s) => (++n <= 2 ? { status: 503, body: "busy" } : base(req, s)));
    expect((await client.getManifest("latest")).digest).toBe(MANIFEST_DIGEST);
    expect(server.requests.length).toBe(3);
    expect(t.sleeps).toEqual([1, 2]);
  });

  hostile("429 is retried", async () => {
    let n = 0;
    const { client } = setup((base) => (req, s) => (++n === 1 ? { status: 429, body: errorBody("TOOMANYREQUESTS", "slow down") } : base(req, s)));
    expect((await client.getManifest("latest")).digest).toBe(MANIFEST_DIGEST);
  });

  hostile("5xx every time: Unavailable after ctx.retry.attempts tries, message from the registry", async () => {
    const { server, client } = setup(() => () => ({ status: 500, body: errorBody("UNKNOWN", "disk on fire") }));
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toContain("500");
    expect(err.message).toContain("disk on fire");
    expect(server.requests.length).toBe(3);
  });

  hostile("a connection reset mid-manifest is retried", async () => {
    let n = 0;
    const { client } = setup((base) => (req, s) => (++n === 1 ? { status: 200, body: MANIFEST, cutAfter: 10 } : base(req, s)));
    expect((await client.getManifest("latest")).digest).toBe(MANIFEST_DIGEST);
  });

  hostile("no answer at all (stalled headers) counts as a failure and is retried", async () => {
    let n = 0;
    const { client } = setup((base) => (req, s) => (++n === 1 ? { status: 200, silent: true } : base(req, s)), { stallTimeoutMs: 100 });
    const started = Date.now();
    expect((await client.getManifest("latest")).digest).toBe(MANIFEST_DIGEST);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  hostile("error bodies are capped and hostile text is cleaned to one bounded line", async () => {
    const body = errorBody("MANIFEST_UNKNOWN", `\x1b[31mred\nline${"x".repeat(2_000_000)}`);
    const { client } = setup(() => () => ({ status: 404, body }));
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).not.toContain("\x1b");
    expect(err.message).not.toContain("\n");
    expect(err.message.length).toBeLessThan(500);
  });

  test("403 is Permission", async () => {
    const { client } = setup(() => () => ({ status: 403, body: errorBody("DENIED", "requested access to the resource is denied") }));
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(PermissionError);
    expect(err.message).toContain("denied: requested access to the resource is denied");
  });

  test("the repository name is validated at construction", () => {
    const t = makeCtx();
    for (const repository of ["../etc", "App", "a//b", "a/", "a?b=c", ""]) {
      expect(() => new RegistryClient(t.ctx, { registry: "127.0.0.1:5000", repository })).toThrow(ParseError);
    }
  });
});

describe("redirects", () => {
  test("followed by hand; Authorization dropped on another host", async () => {
    const cdn = serve((req) => {
      if (req.url.pathname === `/cdn/${LAYER_DESC.digest}`) return { status: 200, body: LAYER };
      return { status: 404 };
    });
    const { server, client, t } = setup(
      (base) => (req, s) => {
        if (req.headers.get("authorization") !== "Basic dTpw") {
          return { status: 401, headers: { "WWW-Authenticate": 'Basic realm="r"' } };
        }
        if (req.url.pathname.includes("/blobs/")) return { status: 307, headers: { Location: `${cdn.url}/cdn/${LAYER_DESC.digest}` } };
        return base(req, s);
      },
    );
    writeCredentials(t.dockerConfigDir, server.host, "u", "p");
    expect(await client.getBlob(LAYER_DESC, 1 << 20)).toEqual(LAYER);
    expect(cdn.requests.length).toBe(1);
    expect(cdn.requests[0]!.headers.get("authorization")).toBeNull();
  });

  test("relative Location on the same host keeps Authorization", async () => {
    const { server, client, t } = setup((base) => (req, s) => {
      if (req.headers.get("authorization") !== "Basic dTpw") return { status: 401, headers: { "WWW-Authenticate": 'Basic realm="r"' } };
      if (req.url.pathname === "/v2/app/manifests/latest") return { status: 302, headers: { Location: `/v2/app/manifests/${MANIFEST_DIGEST}` } };
      return base(req, s);
    });
    writeCredentials(t.dockerConfigDir, server.host, "u", "p");
    expect((await client.getManifest("latest")).digest).toBe(MANIFEST_DIGEST);
    expect(server.requests.at(-1)!.headers.get("authorization")).toBe("Basic dTpw");
  });

  hostile("more than 10 redirects fail", async () => {
    const { client } = setup(() => (req) => ({ status: 302, headers: { Location: `${req.url.pathname}x` } }));
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toContain("more than 10");
  });

  hostile("non-HTTP Location is refused", async () => {
    const { client } = setup(() => () => ({ status: 302, headers: { Location: "file:///etc/passwd" } }));
    expect((await rejection(client.getManifest("latest"))).message).toContain("unusable Location");
  });
});

describe("auth", () => {
  /** Registry + token server on one fake server; the token server wants u:p when `needCreds`. */
  function bearerSetup(opts: { needCreds?: boolean; expiresIn?: number; tokenField?: string } = {}) {
    let issued = 0;
    const { server, t, client } = setup((base) => (req, s) => {
      if (req.url.pathname === "/token") {
        const auth = req.headers.get("authorization");
        if (opts.needCreds && auth !== `Basic ${btoa("u:p")}`) {
          return { status: 401, body: JSON.stringify({ details: "incorrect username or password" }) };
        }
        issued++;
        const body: Record<string, unknown> = { [opts.tokenField ?? "token"]: `tok${issued}` };
        if (opts.expiresIn) body.expires_in = opts.expiresIn;
        return { status: 200, body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
      }
      if (req.headers.get("authorization") !== `Bearer tok${issued}` || issued === 0) {
        return {
          status: 401,
          body: errorBody("UNAUTHORIZED", "authentication required"),
          headers: { "WWW-Authenticate": `Bearer realm="${s.url}/token",service="fake registry",scope="repository:app:pull"` },
        };
      }
      return base(req, s);
    });
    return { server, t, client, issued: () => issued };
  }

  test("bearer: token fetched with service and scope, cached for later requests", async () => {
    const { server, client } = bearerSetup();
    await client.getManifest("latest");
    await client.getBlob(CONFIG_DESC, 1024);
    const tokenReqs = server.requests.filter((r) => r.url.pathname === "/token");
    expect(tokenReqs.length).toBe(1);
    expect(tokenReqs[0]!.url.searchParams.get("service")).toBe("fake registry");
    expect(tokenReqs[0]!.url.searchParams.get("scope")).toBe("repository:app:pull");
    expect(tokenReqs[0]!.headers.get("authorization")).toBeNull(); // no stored credentials: anonymous
    // 401, token, manifest, then the blob straight away with the cached token
    expect(server.requests.map((r) => r.url.pathname)).toEqual(["/v2/app/manifests/latest", "/token", "/v2/app/manifests/latest", `/v2/app/blobs/${CONFIG_DESC.digest}`]);
  });

  test("bearer: access_token is accepted; stored credentials are sent to the token server", async () => {
    const { server, t, client } = bearerSetup({ needCreds: true, tokenField: "access_token" });
    writeCredentials(t.dockerConfigDir, server.host, "u", "p");
    expect((await client.getManifest("latest")).digest).toBe(MANIFEST_DIGEST);
  });

  test("bearer: an expired token is replaced (expires_in, ctx.clock)", async () => {
    let now = 1_000_000;
    const { t, client, issued } = (() => {
      const b = bearerSetup({ expiresIn: 120 });
      b.t.ctx.clock = () => now;
      return b;
    })();
    void t;
    await client.getManifest("latest");
    now += 119_000;
    await client.getManifest("latest");
    expect(issued()).toBe(1);
    now += 2_000;
    await client.getManifest("latest");
    expect(issued()).toBe(2);
  });

  hostile("bearer: wrong credentials are Unauthenticated, one line naming the repository", async () => {
    const { server, t, client } = bearerSetup({ needCreds: true });
    writeCredentials(t.dockerConfigDir, server.host, "u", "wrong");
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect(err.message).toBe(`Cannot pull "${server.host}/app": unauthorized: incorrect username or password`);
  });

  hostile("bearer: a token the registry keeps refusing ends in Unauthenticated, not a loop", async () => {
    const { server, client } = setup(() => (req, s) => {
      if (req.url.pathname === "/token") return { status: 200, body: '{"token":"useless"}' };
      return {
        status: 401,
        body: errorBody("UNAUTHORIZED", "authentication required"),
        headers: { "WWW-Authenticate": `Bearer realm="${s.url}/token",service="x"` },
      };
    });
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect(err.message).toContain(`Cannot pull "${server.host}/app": access denied`);
    expect(server.requests.length).toBe(3);
  });

  hostile("bearer: a token with control characters is refused", async () => {
    const { client } = setup(() => (req, s) => {
      if (req.url.pathname === "/token") return { status: 200, body: JSON.stringify({ token: "a\r\nX-Evil: 1" }) };
      return { status: 401, headers: { "WWW-Authenticate": `Bearer realm="${s.url}/token"` } };
    });
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toContain("no usable token");
  });

  hostile("bearer: a token body dripped a byte at a time ends within the operation's budget", async () => {
    const { client } = setup(
      () => (req, s) => {
        if (req.url.pathname === "/token") return { status: 200, body: `{"token":"t"}${" ".repeat(60_000)}`, dripEveryMs: 50 };
        return { status: 401, headers: { "WWW-Authenticate": `Bearer realm="${s.url}/token"` } };
      },
      { config: { downloadStallTimeoutMs: 1_000 } },
    );
    const t0 = performance.now();
    const err = await rejection(client.getManifest("latest"));
    expect(performance.now() - t0).toBeLessThan(4_000);
    expect(err).toBeInstanceOf(TinydockError);
    expect(err.message).toContain("no progress for 1 s");
  });

  hostile("bearer: token response is capped at 64 KiB", async () => {
    const { client } = setup(() => (req, s) => {
      if (req.url.pathname === "/token") return { status: 200, body: JSON.stringify({ token: "t".repeat(100_000) }) };
      return { status: 401, headers: { "WWW-Authenticate": `Bearer realm="${s.url}/token"` } };
    });
    expect((await rejection(client.getManifest("latest"))).message).toContain("larger than 65536 bytes");
  });

  hostile("bearer: credentials are not sent to a plain-HTTP realm on another, untrusted host", async () => {
    const seen: (string | null)[] = [];
    const { server, t, client } = setup((base) => (req, s) => {
      if (req.headers.get("authorization") === "Bearer anon") return base(req, s);
      return { status: 401, headers: { "WWW-Authenticate": `Bearer realm="http://token.invalid/token"` } };
    });
    t.ctx.fetch = (async (input: string | URL | Request, init?: BunFetchRequestInit) => {
      const url = String(input);
      if (url.startsWith("http://token.invalid/")) {
        seen.push(new Headers(init?.headers).get("authorization"));
        return new Response('{"token":"anon"}');
      }
      return fetch(input, init);
    }) as typeof fetch;
    writeCredentials(t.dockerConfigDir, server.host, "u", "p");
    expect((await client.getManifest("latest")).digest).toBe(MANIFEST_DIGEST);
    expect(seen).toEqual([null]);
    expect(t.warnings.join("\n")).toContain("not sending credentials");
  });

  test("basic: stored credentials sent after the challenge, then up front", async () => {
    const { server, t, client } = setup((base) => (req, s) =>
      req.headers.get("authorization") === `Basic ${btoa("u:p")}` ? base(req, s) : { status: 401, headers: { "WWW-Authenticate": 'Basic realm="Registry"' } },
    );
    writeCredentials(t.dockerConfigDir, server.host, "u", "p");
    await client.getManifest("latest");
    await client.getManifest("latest");
    expect(server.requests.map((r) => r.headers.get("authorization") !== null)).toEqual([false, true, true]);
  });

  test("basic: wrong password", async () => {
    const { server, t, client } = setup((base) => (req, s) =>
      req.headers.get("authorization") === `Basic ${btoa("u:p")}` ? base(req, s) : { status: 401, headers: { "WWW-Authenticate": 'Basic realm="Registry"' } },
    );
    writeCredentials(t.dockerConfigDir, server.host, "u", "nope");
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect(err.message).toBe(`Cannot pull "${server.host}/app": unauthorized: incorrect username or password`);
  });

  test("basic without stored credentials: a hint to log in", async () => {
    const { server, client } = setup(() => () => ({
      status: 401,
      headers: { "WWW-Authenticate": 'Basic realm="Registry"' },
      body: errorBody("UNAUTHORIZED", "authentication required"),
    }));
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect(err.message).toBe(
      `Cannot pull "${server.host}/app": access denied, the repository does not exist or needs 'tinydock login': unauthorized: authentication required`,
    );
  });

  hostile("a 401 without a usable challenge", async () => {
    const { client } = setup(() => () => ({ status: 401 }));
    expect((await rejection(client.getManifest("latest"))).message).toContain("unusable challenge");
  });
});

describe("getBlob", () => {
  test("reads, checks size and digest", async () => {
    const { client } = setup();
    expect(await client.getBlob(CONFIG_DESC, 1024)).toEqual(CONFIG);
  });

  hostile("descriptor larger than max: refused before any request", async () => {
    const { server, client } = setup();
    const err = await rejection(client.getBlob(CONFIG_DESC, 10));
    expect(err).toBeInstanceOf(DataLossError);
    expect(server.requests.length).toBe(0);
  });

  hostile("wrong content is DataLoss", async () => {
    const other = new Uint8Array(CONFIG.length).fill(1);
    const { client } = setup(() => () => ({ status: 200, body: other }));
    const err = await rejection(client.getBlob(CONFIG_DESC, 1024));
    expect(err).toBeInstanceOf(DataLossError);
    expect(err.message).toContain("digest");
  });

  hostile("more bytes than the descriptor is DataLoss", async () => {
    const { client } = setup(() => () => ({ status: 200, body: new Uint8Array(CONFIG.length + 5), contentLength: null }));
    expect(await rejection(client.getBlob(CONFIG_DESC, 1024))).toBeInstanceOf(DataLossError);
  });

  hostile("an invalid digest never reaches a URL", async () => {
    const { server, client } = setup();
    for (const digest of ["sha256:../../../etc/passwd", "sha512:" + "a".repeat(128), "sha256:" + "g".repeat(64)]) {
      expect(await rejection(client.getBlob({ ...CONFIG_DESC, digest }, 1024))).toBeInstanceOf(ParseError);
    }
    expect(server.requests.length).toBe(0);
  });

  test("404 is NotFound", async () => {
    const { client } = setup();
    const d = descriptorOf(bytes(10, 99));
    const err = await rejection(client.getBlob(d, 1024));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toContain("blob unknown to registry");
  });
});

describe("openBlob", () => {
  test("whole blob", async () => {
    const { client, server } = setup();
    expect(await collect(await client.openBlob(LAYER_DESC, 0))).toEqual(LAYER);
    expect(server.requests[0]!.headers.get("range")).toBeNull();
    expect(server.requests[0]!.headers.get("accept-encoding")).toBe("identity");
  });

  test("from an offset: Range sent, 206 used", async () => {
    const { client, server } = setup();
    expect(await collect(await client.openBlob(LAYER_DESC, 12_345))).toEqual(LAYER.subarray(12_345));
    expect(server.requests[0]!.headers.get("range")).toBe("bytes=12345-");
  });

  test("from an offset, Range ignored (200): the prefix is discarded", async () => {
    const base = repoHandler("app", content(), { ignoreRange: true });
    const server = serve(base);
    const t = makeCtx();
    const client = new RegistryClient(t.ctx, { registry: server.host, repository: "app" });
    expect(await collect(await client.openBlob(LAYER_DESC, 77_777))).toEqual(LAYER.subarray(77_777));
  });

  test("at the end: an empty stream, no request", async () => {
    const { client, server } = setup();
    expect((await collect(await client.openBlob(LAYER_DESC, LAYER.length))).length).toBe(0);
    expect(server.requests.length).toBe(0);
  });

  hostile("bad offsets", async () => {
    const { client } = setup();
    for (const off of [-1, LAYER.length + 1, 1.5, Number.NaN]) {
      expect(await rejection(client.openBlob(LAYER_DESC, off))).toBeInstanceOf(InvalidArgumentError);
    }
  });

  hostile("connection reset mid-body: resumes with Range from the byte reached", async () => {
    let n = 0;
    const { client, server } = setup((base) => (req, s) => (++n === 1 ? { status: 200, body: LAYER, cutAfter: 50_000 } : base(req, s)));
    expect(await collect(await client.openBlob(LAYER_DESC, 0))).toEqual(LAYER);
    expect(server.requests.length).toBe(2);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(server.requests[1]!.headers.get("range")!)![1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(50_000);
  });

  hostile("several resets, each resume answered with 200 (Range ignored)", async () => {
    let n = 0;
    const base = repoHandler("app", content(), { ignoreRange: true });
    const server = serve((req, s) => (++n <= 3 ? { status: 200, body: LAYER, cutAfter: n * 40_000 } : base(req, s)));
    const t = makeCtx();
    const client = new RegistryClient(t.ctx, { registry: server.host, repository: "app" });
    expect(await collect(await client.openBlob(LAYER_DESC, 1000))).toEqual(LAYER.subarray(1000));
    expect(server.requests.length).toBe(4);
  });

  hostile("a stalled body is aborted after stallTimeoutMs and resumed", async () => {
    let n = 0;
    const { client } = setup(
      (base) => (req, s) => (++n === 1 ? { status: 200, body: LAYER, stallAfter: 30_000 } : base(req, s)),
      { stallTimeoutMs: 150 },
    );
    const started = Date.now();
    expect(await collect(await client.openBlob(LAYER_DESC, 0))).toEqual(LAYER);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  hostile("a body that ends early (clean close) is resumed", async () => {
    let n = 0;
    const { client } = setup((base) => (req, s) =>
      ++n === 1 ? { status: 200, body: LAYER.subarray(0, 1000), contentLength: null } : base(req, s),
    );
    expect(await collect(await client.openBlob(LAYER_DESC, 0))).toEqual(LAYER);
  });

  hostile("breaks that never stop: Unavailable after ctx.retry.attempts reconnects without progress", async () => {
    let n = 0;
    const { client, t } = setup(() => () => (++n === 1 ? { status: 200, body: LAYER, cutAfter: 10_000 } : { status: 503 }));
    const stream = await client.openBlob(LAYER_DESC, 0);
    const err = await rejection(collect(stream));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(t.sleeps).toEqual([1, 2, 4]);
  });

  hostile("progress resets the reconnect budget", async () => {
    let n = 0;
    // Every answer breaks after 20 000 more bytes: 10 breaks, more than attempts (3), but each makes progress.
    const { client } = setup(() => (req) => {
      n++;
      const from = Number(/^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "")?.[1] ?? 0);
      const rest = LAYER.subarray(from);
      const headers = from ? { "Content-Range": `bytes ${from}-${LAYER.length - 1}/${LAYER.length}` } : undefined;
      return { status: from ? 206 : 200, body: rest, headers, cutAfter: rest.length > 20_000 ? 20_000 : undefined };
    });
    expect(await collect(await client.openBlob(LAYER_DESC, 0))).toEqual(LAYER);
    expect(n).toBeGreaterThan(5);
  });

  hostile("never yields more than size - offset: extra bytes are DataLoss", async () => {
    const longer = new Uint8Array(LAYER.length + 10);
    longer.set(LAYER);
    const { client } = setup(() => () => ({ status: 200, body: longer, contentLength: null }));
    const stream = await client.openBlob(LAYER_DESC, 0);
    let got = 0;
    const reader = stream.getReader();
    const err = await rejection(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          got += value.length;
        }
      })(),
    );
    expect(err).toBeInstanceOf(DataLossError);
    expect(got).toBeLessThanOrEqual(LAYER.length);
  });

  hostile("a declared length beyond the descriptor is DataLoss up front", async () => {
    const { client } = setup(() => () => ({ status: 200, body: LAYER, contentLength: LAYER.length + 1, cutAfter: 0 }));
    expect(await rejection(client.openBlob(LAYER_DESC, 0))).toBeInstanceOf(DataLossError);
  });

  hostile("a 206 from the wrong offset is DataLoss", async () => {
    const { client } = setup(() => () => ({ status: 206, body: LAYER.subarray(5), headers: { "Content-Range": `bytes 5-${LAYER.length - 1}/${LAYER.length}` } }));
    expect(await rejection(client.openBlob(LAYER_DESC, 100))).toBeInstanceOf(DataLossError);
  });

  test("cancel closes the connection", async () => {
    const { client } = setup(() => () => ({ status: 200, body: LAYER, stallAfter: 1000 }), { stallTimeoutMs: 5000 });
    const stream = await client.openBlob(LAYER_DESC, 0);
    const reader = stream.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
  });

  test("a 404 blob rejects openBlob itself", async () => {
    const { client } = setup();
    expect(await rejection(client.openBlob(descriptorOf(bytes(5, 3)), 0))).toBeInstanceOf(NotFoundError);
  });
});
