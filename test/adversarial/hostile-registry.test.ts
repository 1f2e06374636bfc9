// A registry that stalls: the compiled binary against a loopback TCP server that sends headers and
// part of a layer, then goes silent (and stalls before the status line on every reconnect). The
// pull must end on its own within 40 s, retries included, with one line on stderr and exit code 1,
// keep the bytes it received, and a later pull from the same registry, healthy again, must resume
// them with a Range request and leave a whole store.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { storeLayout } from "../../src/store/layout.ts";
import { recordCases } from "../helpers/adversarial.ts";
import { requireBinary, spawnTinydock, type CliEnv } from "../helpers/cli.ts";
import { buildImage, type BuiltImage } from "../helpers/image.ts";
import { startFakeServer, type FakeServer } from "../unit/registry/fake-server.ts";
import { bytes, repoHandler } from "../unit/registry/fixtures.ts";

/** What the brief promises a user: a stalled pull is over within this, whatever the retries. */
const BOUND_MS = 40_000;
/** The test's own bound: an engine that keeps retrying is killed here and fails the test. */
const KILL_AFTER_MS = 60_000;

let image: BuiltImage;
let server: FakeServer;
let mode: "stall-mid-blob" | "stall-before-status" | "healthy" = "healthy";
const dirs: string[] = [];

function newEnv(config: Record<string, unknown> = {}): CliEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-hostile-reg-"));
  dirs.push(dir);
  const env = { root: path.join(dir, "root"), config: path.join(dir, "config.json"), dockerConfig: path.join(dir, "docker") };
  fs.writeFileSync(env.config, JSON.stringify(config));
  return env;
}

/** Runs the binary without blocking this process's event loop (the registry answers from it). */
async function pull(env: CliEnv, ref: string): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const p = spawnTinydock(env, ["pull", ref]);
  const killer = setTimeout(() => p.kill("SIGKILL"), KILL_AFTER_MS);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr, ms: performance.now() - started };
  } finally {
    clearTimeout(killer);
  }
}

beforeAll(async () => {
  requireBinary();
  image = await buildImage({
    layers: [{ entries: [{ name: "payload.bin", content: bytes(3 << 20, 11) }], compression: "none" }],
    config: { Cmd: ["true"] },
  });
  const layer = image.layers[0]!;
  const healthy = repoHandler("hostile/app", {
    manifests: { v1: { body: image.manifest, type: image.manifestMediaType } },
    blobs: [image.config, layer.blob],
  });
  server = startFakeServer((req, s) => {
    const isLayer = req.url.pathname.endsWith(`/blobs/${layer.digest}`);
    if (mode === "stall-before-status" && req.url.pathname.includes("/manifests/")) return { status: 200, silent: true };
    if (mode === "stall-mid-blob" && isLayer) {
      // Headers and the first MiB, then silence; every reconnect gets nothing at all.
      return req.headers.get("range") ? { status: 206, silent: true } : { status: 200, body: layer.blob, stallAfter: 1 << 20 };
    }
    return healthy(req, s);
  });
});

afterAll(() => {
  server?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("a registry that stalls", () => {
  test(
    "mid-blob: pull ends within 40 s with one line and exit code 1; the next pull resumes from the bytes kept",
    async () => {
      const env = newEnv();
      const ref = `${server.host}/hostile/app:v1`;
      mode = "stall-mid-blob";
      const first = await pull(env, ref);
      recordCases("hostile registry: stall mid-blob, stall on every reconnect", 1);
      expect(first.ms).toBeLessThan(BOUND_MS);
      expect(first.code).toBe(1);
      const lines = first.stderr.split("\n").filter((l) => l !== "");
      expect(lines.length).toBe(1);
      expect(lines[0]).toMatch(/^Error.*Cannot download blob sha256:[0-9a-f]{64} of .*hostile\/app: no progress for 30 s/);
      const layout = storeLayout(env.root);
      const layer = image.layers[0]!;
      expect(fs.statSync(layout.ingest(layer.digest)).size).toBe(1 << 20);

      mode = "healthy";
      const seen = server.requests.length;
      const second = await pull(env, ref);
      expect(second.stderr).toBe("");
      expect(second.code).toBe(0);
      const layerRequests = server.requests.slice(seen).filter((r) => r.url.pathname.endsWith(`/blobs/${layer.digest}`));
      expect(layerRequests.map((r) => r.headers.get("range"))).toEqual([`bytes=${1 << 20}-`]);
      expect(fs.readdirSync(layout.ingestDir)).toEqual([]);
      expect(fs.readFileSync(path.join(layout.layerDiff(layer.diffId), "payload.bin")).equals(Buffer.from(bytes(3 << 20, 11)))).toBe(true);
    },
    KILL_AFTER_MS * 2 + 10_000,
  );

  test(
    "before the status line, with download-stall-timeout from the engine config: ends at that budget",
    async () => {
      const env = newEnv({ "download-stall-timeout": 3 });
      mode = "stall-before-status";
      const r = await pull(env, `${server.host}/hostile/app:v1`);
      recordCases("hostile registry: stall before the status line", 1);
      mode = "healthy";
      expect(r.code).toBe(1);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      expect(lines.length).toBe(1);
      expect(lines[0]).toContain("no progress for 3 s");
      expect(r.ms).toBeGreaterThanOrEqual(2_900);
      expect(r.ms).toBeLessThan(8_000);
    },
    KILL_AFTER_MS + 10_000,
  );
});
