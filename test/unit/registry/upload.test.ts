// Blob uploads against a scripted registry: a connection broken in the middle of a PATCH is
// resumed from the Range the registry reports, the last chunk goes with the closing PUT, requests
// grow with the speed the link showed, and the blob the registry ends with is the file.
import { afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { sha256Digest } from "../../../src/image/digest.ts";
import { nextOffset, RegistryUploader } from "../../../src/registry/upload.ts";
import { testContext, type TestEnv } from "../../helpers/ctx.ts";
import { startFakeServer, type FakeReply, type FakeServer } from "./fake-server.ts";

let server: FakeServer | undefined;
let env: TestEnv | undefined;
/** The uploader's clock: only the fake registry moves it, by `msPerBody` for each request with a body. */
const clock = { now: 0, msPerBody: 0 };
afterEach(() => {
  server?.stop();
  env?.cleanup();
  server = undefined;
  env = undefined;
  clock.now = 0;
  clock.msPerBody = 0;
});

/** A registry that keeps one upload; `breakAt`: the PATCH that carries that byte keeps what came before it, then the connection drops. */
function fakeRegistry(breakAt: number | null) {
  let stored = new Uint8Array(0);
  let committed: string | null = null;
  let broken = false;
  const range = () => ({ Range: `0-${stored.length - 1}`, Location: "/v2/app/blobs/uploads/u1?_state=" + stored.length, "Docker-Upload-UUID": "u1" });
  server = startFakeServer((req): FakeReply => {
    const p = req.url.pathname;
    if (req.body.length) clock.now += clock.msPerBody;
    if (req.method === "HEAD") return { status: 404 };
    if (req.method === "POST" && p === "/v2/app/blobs/uploads/") return { status: 202, headers: { Location: "/v2/app/blobs/uploads/u1", Range: "0-0" } };
    if (p !== "/v2/app/blobs/uploads/u1") return { status: 404 };
    if (req.method === "PATCH") {
      const start = Number(/^(\d+)-/.exec(req.headers.get("content-range") ?? "")?.[1] ?? -1);
      if (start !== stored.length) return { status: 416, body: '{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"bad range"}]}' };
      let body = req.body;
      if (breakAt !== null && !broken && start + body.length > breakAt) {
        broken = true;
        body = body.subarray(0, breakAt - start);
        stored = new Uint8Array(Buffer.concat([stored, body]));
        return { status: 500, drop: true };
      }
      stored = new Uint8Array(Buffer.concat([stored, body]));
      return { status: 202, headers: range() };
    }
    if (req.method === "GET") return { status: 204, headers: range() };
    if (req.method === "PUT") {
      const start = Number(/^(\d+)-/.exec(req.headers.get("content-range") ?? "0-")?.[1] ?? -1);
      if (req.body.length && start !== stored.length) return { status: 416, body: '{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"bad range"}]}' };
      if (req.body.length) stored = new Uint8Array(Buffer.concat([stored, req.body]));
      committed = sha256Digest(stored);
      if (committed !== req.url.searchParams.get("digest")) return { status: 400, body: '{"errors":[{"code":"DIGEST_INVALID","message":"digest mismatch"}]}' };
      return { status: 201, headers: { "Docker-Content-Digest": committed } };
    }
    return { status: 405 };
  });
  return { stored: () => stored, committed: () => committed };
}

function blobFile(size: number): { file: string; desc: { mediaType: string; digest: string; size: number } } {
  env = testContext({}, { clock: () => clock.now });
  const data = crypto.getRandomValues(new Uint8Array(size));
  const file = path.join(env.dir, "blob");
  fs.writeFileSync(file, data);
  return { file, desc: { mediaType: "application/octet-stream", digest: sha256Digest(data), size } };
}

test("a connection broken mid-PATCH is resumed from the Range the registry reports", async () => {
  const { file, desc } = blobFile(300_000);
  const reg = fakeRegistry(150_000);
  const up = new RegistryUploader(env!.ctx, { registry: server!.host, repository: "app" });
  const seen: number[] = [];
  const outcome = await up.pushBlob(desc, file, { chunkBytes: 100_000, onProgress: (n) => seen.push(n) });
  expect(outcome).toEqual({ kind: "pushed" });
  expect(reg.committed()).toBe(desc.digest);
  const methods = server!.requests.map((r) => `${r.method} ${r.headers.get("content-range") ?? ""}`.trim());
  // Chunk 2 broke after 50 000 of its bytes; the status says 0-149999, so the next PATCH starts at
  // 150000; the closing PUT carries the last chunk.
  expect(methods).toEqual(["HEAD", "POST", "PATCH 0-99999", "PATCH 100000-199999", "GET", "PATCH 150000-249999", "PUT 250000-299999"]);
  expect(seen).toContain(150_000);
});

test("without a break: chunks in order, the last one with the PUT ?digest=; a small blob is one PUT", async () => {
  const { file, desc } = blobFile(250_000);
  const reg = fakeRegistry(null);
  const up = new RegistryUploader(env!.ctx, { registry: server!.host, repository: "app" });
  expect(await up.pushBlob(desc, file, { chunkBytes: 100_000 })).toEqual({ kind: "pushed" });
  expect(reg.committed()).toBe(desc.digest);
  expect(server!.requests.map((r) => `${r.method} ${r.body.length}`)).toEqual(["HEAD 0", "POST 0", "PATCH 100000", "PATCH 100000", "PUT 50000"]);
  server!.stop();
  const reg2 = fakeRegistry(null);
  const up2 = new RegistryUploader(env!.ctx, { registry: server!.host, repository: "app" });
  expect(await up2.pushBlob(desc, file)).toEqual({ kind: "pushed" });
  expect(reg2.committed()).toBe(desc.digest);
  expect(server!.requests.map((r) => r.method)).toEqual(["HEAD", "POST", "PUT"]);
});

test("after a fast chunk the rest goes in one request; a slow link keeps the chunk size", async () => {
  const { file, desc } = blobFile(400_000);
  const ranges = () => server!.requests.map((r) => `${r.method} ${r.headers.get("content-range") ?? ""}`.trim());
  // 100 000 bytes answered in 100 ms: 1000 bytes a ms, 1.25 MB in a quarter of the 5 s stall timer.
  clock.msPerBody = 100;
  const fast = fakeRegistry(null);
  expect(await new RegistryUploader(env!.ctx, { registry: server!.host, repository: "app" }).pushBlob(desc, file, { chunkBytes: 100_000 })).toEqual({ kind: "pushed" });
  expect(fast.committed()).toBe(desc.digest);
  expect(ranges()).toEqual(["HEAD", "POST", "PATCH 0-99999", "PUT 100000-399999"]);
  server!.stop();
  // 20 s a chunk: 5 bytes a ms would make requests smaller than the chunk size, which stays.
  clock.msPerBody = 20_000;
  const slow = fakeRegistry(null);
  expect(await new RegistryUploader(env!.ctx, { registry: server!.host, repository: "app" }).pushBlob(desc, file, { chunkBytes: 100_000 })).toEqual({ kind: "pushed" });
  expect(slow.committed()).toBe(desc.digest);
  expect(ranges()).toEqual(["HEAD", "POST", "PATCH 0-99999", "PATCH 100000-199999", "PATCH 200000-299999", "PUT 300000-399999"]);
});

test("nextOffset reads the registry's Range", () => {
  expect(nextOffset("0-1023")).toBe(1024);
  expect(nextOffset("bytes=0-0")).toBe(1);
  expect(nextOffset(null)).toBe(0);
  expect(nextOffset("garbage")).toBe(null);
});

test("every upload body is a slice of the stored file (sent with sendfile), never bytes read into memory", async () => {
  const { file, desc } = blobFile(250_000);
  const reg = fakeRegistry(null);
  const bodies: unknown[] = [];
  const ctx = { ...env!.ctx, fetch: ((url: string, init: BunFetchRequestInit) => {
    if (init.body !== undefined) bodies.push(init.body);
    return env!.ctx.fetch(url, init);
  }) as typeof fetch };
  const up = new RegistryUploader(ctx, { registry: server!.host, repository: "app" });
  expect(await up.pushBlob(desc, file, { chunkBytes: 100_000 })).toEqual({ kind: "pushed" });
  expect(reg.committed()).toBe(desc.digest);
  expect(bodies.length).toBe(3);
  for (const b of bodies) expect(b).toBeInstanceOf(Blob);
  expect(bodies.map((b) => (b as Blob).size)).toEqual([100_000, 100_000, 50_000]);
});

test("a blob whose presence was already asked is not asked again", async () => {
  const { file, desc } = blobFile(1000);
  const reg = fakeRegistry(null);
  const up = new RegistryUploader(env!.ctx, { registry: server!.host, repository: "app" });
  expect(await up.pushBlob(desc, file, { exists: Promise.resolve(true) })).toEqual({ kind: "exists" });
  expect(await up.pushBlob(desc, file, { exists: Promise.resolve(false) })).toEqual({ kind: "pushed" });
  expect(reg.committed()).toBe(desc.digest);
  expect(server!.requests.map((r) => r.method)).toEqual(["POST", "PUT"]);
});
