// Shared pieces for the registry client tests: a Ctx on temp dirs with fast retries, and a
// scripted registry (manifests, blobs with Range support) to put behind the fake server.
import { afterEach } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createContext, DEFAULT_CONFIG_VALUES, type Ctx, type EngineConfig } from "../../../src/context.ts";
import { sha256Digest } from "../../../src/image/digest.ts";
import { MediaType, type Descriptor } from "../../../src/image/manifest.ts";
import { startFakeServer, type FakeReply, type FakeRequest, type FakeServer, type Handler } from "./fake-server.ts";

export interface TestCtx {
  ctx: Ctx;
  sleeps: number[];
  warnings: string[];
  dockerConfigDir: string;
  cleanup(): void;
}

export function testCtx(over: Partial<Omit<Ctx, "config">> & { config?: Partial<EngineConfig> } = {}): TestCtx {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "td-reg-root-"));
  const dockerConfigDir = fs.mkdtempSync(path.join(os.tmpdir(), "td-reg-docker-"));
  const sleeps: number[] = [];
  const warnings: string[] = [];
  const { config, ...rest } = over;
  const ctx = createContext({
    env: { TINYDOCK_ROOT: root, TINYDOCK_CONFIG: "/nonexistent", DOCKER_CONFIG: dockerConfigDir },
    overrides: {
      retry: { attempts: 3, baseDelayMs: 1 },
      stallTimeoutMs: 300,
      sleep: async (ms) => {
        sleeps.push(ms);
        await Bun.sleep(1);
      },
      log: { debug: () => {}, warn: (m) => warnings.push(m) },
      ...rest,
      config: { ...DEFAULT_CONFIG_VALUES, ...config },
    },
  });
  return {
    ctx,
    sleeps,
    warnings,
    dockerConfigDir,
    cleanup: () => {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(dockerConfigDir, { recursive: true, force: true });
    },
  };
}

/**
 * Fake servers and ctxs that last one test: what serve() starts is stopped, and what makeCtx() (or
 * track()) holds is removed, after each test of the file that calls this.
 */
export function perTest(): { serve(handler: Handler): FakeServer; makeCtx(...args: Parameters<typeof testCtx>): TestCtx; track(t: TestCtx): TestCtx } {
  const servers: FakeServer[] = [];
  const ctxs: TestCtx[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.stop();
    for (const c of ctxs.splice(0)) c.cleanup();
  });
  const track = (t: TestCtx) => {
    ctxs.push(t);
    return t;
  };
  return {
    serve(handler) {
      const s = startFakeServer(handler);
      servers.push(s);
      return s;
    },
    makeCtx: (...args) => track(testCtx(...args)),
    track,
  };
}

/** Deterministic bytes that differ at every offset that matters for resume tests. */
export function bytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export function descriptorOf(data: Uint8Array, mediaType: string = MediaType.OciLayerGzip): Descriptor {
  return { mediaType, digest: sha256Digest(data), size: data.length };
}

export function errorBody(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message, detail: null }] });
}

export interface RepoContent {
  manifests?: Record<string, { body: string | Uint8Array; type?: string }>;
  blobs?: Uint8Array[];
}

/** A distribution-like registry for one repository: /v2/, manifests by tag or digest, blobs with Range. */
export function repoHandler(repo: string, content: RepoContent, opts: { prefix?: string; ignoreRange?: boolean } = {}): Handler {
  const prefix = opts.prefix ?? "";
  const manifests = new Map<string, { body: Uint8Array; type: string }>();
  for (const [tag, m] of Object.entries(content.manifests ?? {})) {
    const body = typeof m.body === "string" ? new TextEncoder().encode(m.body) : m.body;
    const entry = { body, type: m.type ?? MediaType.OciManifest };
    manifests.set(tag, entry);
    manifests.set(sha256Digest(body), entry);
  }
  const blobs = new Map((content.blobs ?? []).map((b) => [sha256Digest(b), b]));
  return (req: FakeRequest): FakeReply => {
    const p = req.url.pathname;
    if (p === `${prefix}/v2/`) return { status: 200, body: "{}", headers: { "Content-Type": "application/json" } };
    const base = `${prefix}/v2/${repo}/`;
    if (p.startsWith(`${base}manifests/`)) {
      const ref = decodeURIComponent(p.slice(`${base}manifests/`.length));
      const m = manifests.get(ref);
      if (!m) return { status: 404, body: errorBody("MANIFEST_UNKNOWN", "manifest unknown"), headers: { "Content-Type": "application/json" } };
      return { status: 200, body: m.body, headers: { "Content-Type": m.type, "Docker-Content-Digest": sha256Digest(m.body) } };
    }
    if (p.startsWith(`${base}blobs/`)) {
      const b = blobs.get(p.slice(`${base}blobs/`.length));
      if (!b) return { status: 404, body: errorBody("BLOB_UNKNOWN", "blob unknown to registry"), headers: { "Content-Type": "application/json" } };
      const range = /^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "");
      if (range && !opts.ignoreRange) {
        const from = Number(range[1]);
        return { status: 206, body: b.subarray(from), headers: { "Content-Range": `bytes ${from}-${b.length - 1}/${b.length}` } };
      }
      return { status: 200, body: b };
    }
    return { status: 404, body: errorBody("NAME_UNKNOWN", "repository name not known to registry") };
  };
}

export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}
