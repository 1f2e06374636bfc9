// Endpoint order and fallback: docker.io mirrors before Docker Hub (reached here through a fetch
// that routes https://registry-1.docker.io to a local fake), insecure HTTPS → HTTP, and what is
// remembered between calls.
import { describe, expect, test } from "bun:test";
import { DataLossError, NotFoundError, UnavailableError } from "../../../src/errors.ts";
import { sha256Digest } from "../../../src/image/digest.ts";
import { MediaType } from "../../../src/image/manifest.ts";
import { RegistryClient } from "../../../src/registry/client.ts";
import { DOCKER_HUB_URL } from "../../../src/registry/endpoints.ts";
import { startFakeServer, type FakeServer } from "./fake-server.ts";
import { descriptorOf, perTest, rejection, repoHandler } from "./fixtures.ts";
import { hostileTest } from "../../helpers/adversarial.ts";

const hostile = hostileTest("registry fault");

const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] });
const DIGEST = sha256Digest(MANIFEST);
const CONFIG = new TextEncoder().encode('{"os":"linux"}');
const CONFIG_DESC = descriptorOf(CONFIG, MediaType.OciConfig);
const REPO = "library/busybox";
const full = () => repoHandler(REPO, { manifests: { latest: { body: MANIFEST } }, blobs: [CONFIG] });

const { serve, makeCtx } = perTest();

/** A port nothing listens on. */
function deadUrl(): string {
  const s = startFakeServer(() => ({ status: 500 }));
  const url = s.url;
  s.stop();
  return url;
}

/** A ctx whose fetch sends Docker Hub requests (and any `routes`) to local servers, recording every URL. */
function hubCtx(hub: FakeServer | null, mirrors: string[], routes: Record<string, string> = {}) {
  const t = makeCtx({ config: { registryMirrors: mirrors } });
  const urls: string[] = [];
  const all: Record<string, string> = { ...routes };
  if (hub) all[DOCKER_HUB_URL] = hub.url;
  t.ctx.fetch = (async (input: string | URL | Request, init?: BunFetchRequestInit) => {
    let url = String(input);
    urls.push(url);
    for (const [from, to] of Object.entries(all)) if (url.startsWith(from)) url = to + url.slice(from.length);
    return fetch(url, init);
  }) as typeof fetch;
  return { t, urls };
}

describe("docker.io mirrors", () => {
  test("a mirror that has the image serves it; the Hub is not asked", async () => {
    const mirror = serve(full());
    const hub = serve(full());
    const { t } = hubCtx(hub, [mirror.url]);
    const client = new RegistryClient(t.ctx, { registry: "docker.io", repository: REPO });
    expect((await client.getManifest("latest")).digest).toBe(DIGEST);
    expect(hub.requests.length).toBe(0);
  });

  test("a mirror with a path prefix", async () => {
    const mirror = serve(repoHandler(REPO, { manifests: { latest: { body: MANIFEST } } }, { prefix: "/cache/hub" }));
    const { t } = hubCtx(null, [`${mirror.url}/cache/hub/`]);
    const client = new RegistryClient(t.ctx, { registry: "docker.io", repository: REPO });
    expect((await client.getManifest("latest")).digest).toBe(DIGEST);
    expect(mirror.requests[0]!.target).toBe(`/cache/hub/v2/${REPO}/manifests/latest`);
  });

  hostile("404 at a mirror, a dead mirror, 500s at a mirror, 401 at a mirror: on to the Hub", async () => {
    const m404 = serve(repoHandler(REPO, {}));
    const m500 = serve(() => ({ status: 500 }));
    const m401 = serve(() => ({ status: 401, headers: { "WWW-Authenticate": 'Basic realm="x"' } }));
    const hub = serve(full());
    const { t } = hubCtx(hub, [m404.url, deadUrl(), m500.url, m401.url]);
    const client = new RegistryClient(t.ctx, { registry: "docker.io", repository: REPO });
    expect((await client.getManifest("latest")).digest).toBe(DIGEST);
    expect(m404.requests.length).toBe(1);
    expect(m500.requests.length).toBe(3); // retried, then skipped
    expect(hub.requests.length).toBe(1);
  });

  test("the endpoint that worked is remembered for later calls", async () => {
    const m404 = serve(repoHandler(REPO, {}));
    const hub = serve(full());
    const { t } = hubCtx(hub, [m404.url]);
    const client = new RegistryClient(t.ctx, { registry: "docker.io", repository: REPO });
    await client.getManifest("latest");
    await client.getBlob(CONFIG_DESC, 1024);
    await client.getManifest(DIGEST);
    expect(m404.requests.length).toBe(1);
    expect(hub.requests.length).toBe(3);
  });

  test("a blob missing at the mirror that served the manifest comes from the Hub", async () => {
    const mirror = serve(repoHandler(REPO, { manifests: { latest: { body: MANIFEST } } }));
    const hub = serve(full());
    const { t } = hubCtx(hub, [mirror.url]);
    const client = new RegistryClient(t.ctx, { registry: "docker.io", repository: REPO });
    await client.getManifest("latest");
    expect(await client.getBlob(CONFIG_DESC, 1024)).toEqual(CONFIG);
  });

  hostile("DataLoss at a mirror stops the pull: no fallback past it", async () => {
    const liar = serve(() => ({ status: 200, body: "{}", headers: { "Content-Type": MediaType.OciManifest } }));
    const hub = serve(full());
    const { t } = hubCtx(hub, [liar.url]);
    const client = new RegistryClient(t.ctx, { registry: "docker.io", repository: REPO });
    expect(await rejection(client.getManifest(DIGEST))).toBeInstanceOf(DataLossError);
    expect(hub.requests.length).toBe(0);
  });

  test("errors at the last endpoint are what the user sees", async () => {
    const m404 = serve(repoHandler(REPO, {}));
    const hub = serve(repoHandler(REPO, {}));
    const { t } = hubCtx(hub, [m404.url]);
    const client = new RegistryClient(t.ctx, { registry: "docker.io", repository: REPO });
    const err = await rejection(client.getManifest("nope"));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe("manifest for busybox:nope not found: manifest unknown");
  });
});

describe("insecure registries and loopback", () => {
  test("configured insecure registry: HTTPS first, then HTTP at once on a TLS failure", async () => {
    const plain = serve(repoHandler("app", { manifests: { latest: { body: MANIFEST } } }));
    const t = makeCtx({ config: { insecureRegistries: ["10.0.0.0/8"] } });
    const seen: { url: string; tls: unknown }[] = [];
    t.ctx.fetch = (async (input: string | URL | Request, init?: BunFetchRequestInit) => {
      const url = String(input);
      seen.push({ url, tls: init?.tls });
      if (url.startsWith("https://10.1.2.3:5000/")) throw Object.assign(new TypeError("EPROTO: The TLS handshake failed"), { code: "EPROTO" });
      return fetch(url.replace("http://10.1.2.3:5000", plain.url), init);
    }) as typeof fetch;
    const client = new RegistryClient(t.ctx, { registry: "10.1.2.3:5000", repository: "app" });
    expect((await client.getManifest("latest")).digest).toBe(DIGEST);
    expect(seen.map((s) => s.url)).toEqual(["https://10.1.2.3:5000/v2/app/manifests/latest", "http://10.1.2.3:5000/v2/app/manifests/latest"]);
    expect(seen[0]!.tls).toEqual({ rejectUnauthorized: false });
    expect(t.sleeps).toEqual([]);
  });

  hostile("a secure registry is only ever reached over verified HTTPS", async () => {
    const t = makeCtx();
    const seen: { url: string; tls: unknown }[] = [];
    t.ctx.fetch = (async (input: string | URL | Request, init?: BunFetchRequestInit) => {
      seen.push({ url: String(input), tls: init?.tls });
      throw Object.assign(new TypeError("ECONNREFUSED"), { code: "ECONNREFUSED" });
    }) as unknown as typeof fetch;
    const client = new RegistryClient(t.ctx, { registry: "registry.example", repository: "app" });
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe('Cannot fetch manifest for registry.example/app:latest: https://registry.example: connection refused');
    expect(seen.every((s) => s.url.startsWith("https://registry.example/") && s.tls === undefined)).toBe(true);
    expect(seen.length).toBe(3);
    expect(t.sleeps).toEqual([1, 2]);
  });

  test("loopback: HTTP first; a 5xx there does not send us to HTTPS", async () => {
    const server = serve(() => ({ status: 503 }));
    const t = makeCtx();
    const urls: string[] = [];
    const real = t.ctx.fetch;
    t.ctx.fetch = ((input: string | URL | Request, init?: BunFetchRequestInit) => {
      urls.push(String(input));
      return real(input, init);
    }) as typeof fetch;
    const client = new RegistryClient(t.ctx, { registry: server.host, repository: "app" });
    const err = await rejection(client.getManifest("latest"));
    expect(err.message).toContain("503");
    expect(urls.every((u) => u.startsWith("http://"))).toBe(true);
  });

  hostile("loopback with nothing listening: HTTP, then HTTPS, then the error", async () => {
    const host = deadUrl().slice("http://".length);
    const t = makeCtx();
    const client = new RegistryClient(t.ctx, { registry: host, repository: "app" });
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toContain("connection refused");
  });
});
