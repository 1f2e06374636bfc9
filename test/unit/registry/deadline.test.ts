// The no-progress deadline: one budget per registry operation, shared by its retries, reconnects,
// backoff sleeps and endpoints, so a registry that stalls (before the status line, or after half a
// blob) ends a pull in bounded time however many retries are allowed; a pull that failed so keeps
// its verified bytes and a later pull from a healthy registry resumes them.
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseEngineConfig } from "../../../src/context.ts";
import { UnavailableError } from "../../../src/errors.ts";
import { sha256Digest } from "../../../src/image/digest.ts";
import { MediaType } from "../../../src/image/manifest.ts";
import { RegistryClient } from "../../../src/registry/client.ts";
import { ProgressDeadline } from "../../../src/registry/transport/deadline.ts";
import { pullImage } from "../../../src/rootfs/pull.ts";
import { storeLayout } from "../../../src/store/layout.ts";
import { storeSnapshot, testContext, type TestEnv } from "../../helpers/ctx.ts";
import { buildImage, type BuiltImage } from "../../helpers/image.ts";
import type { FakeReply, Handler } from "./fake-server.ts";
import { bytes, collect, descriptorOf, perTest, rejection, repoHandler } from "./fixtures.ts";

const LAYER = bytes(200_000);
const LAYER_DESC = descriptorOf(LAYER);
const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] });

const { serve, makeCtx: ctxFor } = perTest();
const base = repoHandler("app", { manifests: { latest: { body: MANIFEST } }, blobs: [LAYER] });

/** A clock that only moves when the client sleeps: backoff is all the time that passes. */
function sleepClock(): { clock: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    clock: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
      await Bun.sleep(0);
    },
    slept,
  };
}

describe("ProgressDeadline", () => {
  test("progress starts the budget over; without it the time runs out", () => {
    let now = 0;
    const d = new ProgressDeadline(() => now, 1000);
    now = 900;
    expect(d.remaining()).toBe(100);
    d.progress();
    now = 1500;
    expect(d.remaining()).toBe(400);
    now = 2000;
    expect(d.remaining()).toBe(-100);
    expect(d.expired("x").message).toBe("no progress for 1 s (x)");
  });
});

describe("download-stall-timeout", () => {
  test("seconds in the engine config; 30 s by default; bad values refused", () => {
    expect(parseEngineConfig("{}", "t").downloadStallTimeoutMs).toBe(30_000);
    expect(parseEngineConfig('{"download-stall-timeout": 5}', "t").downloadStallTimeoutMs).toBe(5_000);
    for (const bad of ["0", "-1", "1.5", '"30"']) {
      expect(() => parseEngineConfig(`{"download-stall-timeout": ${bad}}`, "t")).toThrow('"download-stall-timeout" must be a positive integer');
    }
  });
});

describe("retries share one budget", () => {
  test("a registry that answers 503 forever: backoff stops at the budget, not at the attempt count", async () => {
    const c = sleepClock();
    const server = serve(() => ({ status: 503 }));
    const t = ctxFor({ clock: c.clock, sleep: c.sleep, retry: { attempts: 50, baseDelayMs: 1000 }, config: { downloadStallTimeoutMs: 30_000 } });
    const client = new RegistryClient(t.ctx, { registry: server.host, repository: "app" });
    const err = await rejection(client.getManifest("latest"));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toMatch(/^Cannot fetch manifest for 127\.0\.0\.1:\d+\/app:latest: no progress for 30 s \(.*503.*\)$/);
    // 1 + 2 + 4 + 8 s slept; the next 16 s would pass 30 s without a byte.
    expect(c.slept).toEqual([1000, 2000, 4000, 8000]);
    expect(server.requests.length).toBe(5);
  });

  test("stalls before the status line, every time: ends at the budget (retries included)", async () => {
    const server = serve(() => ({ status: 200, silent: true }));
    const t = ctxFor({ stallTimeoutMs: 200, retry: { attempts: 20, baseDelayMs: 1 }, config: { downloadStallTimeoutMs: 700 } });
    const client = new RegistryClient(t.ctx, { registry: server.host, repository: "app" });
    const started = performance.now();
    const err = await rejection(client.getManifest("latest"));
    const took = performance.now() - started;
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toContain("no progress for 700 ms");
    // Before: 20 attempts × 200 ms.
    expect(took).toBeGreaterThanOrEqual(650);
    expect(took).toBeLessThan(1500);
    expect(server.requests.length).toBeLessThanOrEqual(4);
  });

  test("headers and half a blob, then a stall on every reconnect: the stream ends at the budget", async () => {
    let n = 0;
    const server = serve((req, s) =>
      ++n === 1 ? { status: 200, body: LAYER, stallAfter: 100_000 } : req.url.pathname.includes("/blobs/") ? { status: 206, silent: true } : base(req, s),
    );
    const t = ctxFor({ stallTimeoutMs: 200, retry: { attempts: 20, baseDelayMs: 1 }, config: { downloadStallTimeoutMs: 700 } });
    const client = new RegistryClient(t.ctx, { registry: server.host, repository: "app" });
    const stream = await client.openBlob(LAYER_DESC, 0);
    const reader = stream.getReader();
    let got = 0;
    const started = performance.now();
    const err = await rejection(
      (async () => {
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          got += r.value.length;
        }
      })(),
    );
    const took = performance.now() - started;
    expect(got).toBe(100_000);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toMatch(/^Cannot download blob sha256:[0-9a-f]{64} of 127\.0\.0\.1:\d+\/app: no progress for 700 ms \(.*\) \(at byte 100000 of 200000\)$/);
    expect(took).toBeLessThan(1500);
    // Every reconnect asked for the bytes after those received.
    for (const r of server.requests.slice(1)) expect(r.headers.get("range")).toBe("bytes=100000-");
  });

  test("a reconnect that brings bytes earns more time: many short stalls, each followed by progress, complete", async () => {
    const server = serve((req) => {
      const from = Number(/^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "")?.[1] ?? 0);
      const rest = LAYER.subarray(from);
      const headers = from ? { "Content-Range": `bytes ${from}-${LAYER.length - 1}/${LAYER.length}` } : undefined;
      const reply: FakeReply = { status: from ? 206 : 200, body: rest, headers };
      if (rest.length > 25_000) reply.stallAfter = 25_000;
      return reply;
    });
    // 8 stalls of 150 ms: 1.2 s in all, far past the 400 ms budget, but none of it without progress.
    const t = ctxFor({ stallTimeoutMs: 150, retry: { attempts: 3, baseDelayMs: 1 }, config: { downloadStallTimeoutMs: 400 } });
    const client = new RegistryClient(t.ctx, { registry: server.host, repository: "app" });
    expect(await collect(await client.openBlob(LAYER_DESC, 0))).toEqual(LAYER);
    expect(server.requests.length).toBe(8);
  });

  test("a consumer slower than the budget is not the registry's fault", async () => {
    const server = serve(base);
    const t = ctxFor({ stallTimeoutMs: 200, config: { downloadStallTimeoutMs: 300 } });
    const client = new RegistryClient(t.ctx, { registry: server.host, repository: "app" });
    const reader = (await client.openBlob(LAYER_DESC, 0)).getReader();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
      if (i === 0) await Bun.sleep(500);
    }
    expect(sha256Digest(Buffer.concat(parts))).toBe(LAYER_DESC.digest);
  });
});

describe("pull against a registry that stalls mid-blob", () => {
  let image: BuiltImage;
  const envs: TestEnv[] = [];
  afterEach(() => {
    for (const e of envs.splice(0)) e.cleanup();
  });

  async function imageHandler(): Promise<Handler> {
    image ??= await buildImage({
      layers: [{ entries: [{ name: "data.bin", content: bytes(400_000, 3) }], compression: "none" }],
      config: { Cmd: ["true"] },
    });
    return repoHandler("app", {
      manifests: { latest: { body: image.manifest, type: image.manifestMediaType } },
      blobs: [image.config, ...image.layers.map((l) => l.blob)],
    });
  }

  test("ends within the budget keeping the bytes received; a healthy registry then resumes and the store is whole", async () => {
    const healthy = await imageHandler();
    const layer = image.layers[0]!;
    let stall = true;
    const server = serve((req, s) => {
      if (stall && req.url.pathname.endsWith(`/blobs/${layer.digest}`)) {
        // The first answer stops half-way; every reconnect stalls before its status line.
        return req.headers.get("range") ? { status: 206, silent: true } : { status: 200, body: layer.blob, stallAfter: 150_000 };
      }
      return healthy(req, s);
    });
    const e = testContext({ downloadStallTimeoutMs: 800 }, { stallTimeoutMs: 300, retry: { attempts: 10, baseDelayMs: 1 } });
    envs.push(e);
    const ref = `${server.host}/app:latest`;

    const started = performance.now();
    const err = await rejection(pullImage(e.ctx, ref));
    const took = performance.now() - started;
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toContain("no progress for 800 ms");
    expect(err.message).not.toContain("\n");
    expect(took).toBeLessThan(2000);
    const layout = storeLayout(e.root);
    // What arrived is kept for the resume; nothing else of the image is visible.
    expect(fs.statSync(layout.ingest(layer.digest)).size).toBe(150_000);
    expect(storeSnapshot(e.root).filter((l) => !l.startsWith("ingest/"))).toEqual([]);
    expect(fs.readdirSync(layout.layersDir)).toEqual([]);

    stall = false;
    const before = server.requests.length;
    const res = await pullImage(e.ctx, ref);
    expect(res.record.layers.map((l) => l.diffId)).toEqual([layer.diffId]);
    const blobRequests = server.requests.slice(before).filter((r) => r.url.pathname.includes("/blobs/sha256:" + layer.digest.slice(7)));
    expect(blobRequests.map((r) => r.headers.get("range"))).toEqual(["bytes=150000-"]);
    expect(fs.readdirSync(layout.ingestDir)).toEqual([]);
    expect(fs.readFileSync(path.join(layout.layerDiff(layer.diffId), "data.bin"))).toEqual(Buffer.from(bytes(400_000, 3)));
  });
});
