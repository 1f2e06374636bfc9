// The order a push sends blobs in: a large layer left for last would go alone at the end, and a
// small blob queued behind large ones adds its round trips to the end of the push; and when the
// uploads are opened.
import { expect, test } from "bun:test";
import { sha256Digest } from "../../../src/image/digest.ts";
import { pushImage, uploadQueues } from "../../../src/rootfs/push.ts";
import { putBlob } from "../../../src/store/content.ts";
import { addTag, saveImage } from "../../../src/store/images.ts";
import { openStore } from "../../../src/store/init.ts";
import { testContext } from "../../helpers/ctx.ts";
import { startFakeServer, type FakeReply } from "../registry/fake-server.ts";

const MiB = 1024 * 1024;

test("large blobs go largest first, blobs of 1 MiB or less in turns of their own", () => {
  // The bench image's layers (bottom first), then its config.
  const sizes = [1_062_365, 66_742_995, 15_024_672, 56_144_168, 11_258_251, 19_159_866, 47_927_351, 170_416, 1_408];
  expect(uploadQueues(sizes.map((size) => ({ size })))).toEqual([
    [1, 3, 6, 5, 2, 4, 0],
    [7, 8],
  ]);
  // Equal sizes keep the image's order; a blob of exactly 1 MiB is small.
  expect(uploadQueues([{ size: 2 * MiB }, { size: MiB }, { size: 2 * MiB }, { size: 0 }])).toEqual([
    [0, 2],
    [1, 3],
  ]);
});

// Opening an upload costs the registry a few small fsyncs (~0.1-0.4 s each on a busy disk): a blob
// waiting for a turn to send finds its upload opened already, with every other blob's.
test("every blob's upload is opened before any blob's bytes are answered, though only a few are sent at once", async () => {
  const env = testContext();
  const server = uploadsRegistry(9);
  try {
    const layout = openStore(env.root);
    const layers = Array.from({ length: 8 }, () => crypto.getRandomValues(new Uint8Array(10_000)));
    const config = new TextEncoder().encode('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const desc = (data: Uint8Array, mediaType: string) => ({ mediaType, digest: sha256Digest(data), size: data.length });
    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: desc(config, "application/vnd.oci.image.config.v1+json"),
        layers: layers.map((l) => desc(l, "application/vnd.oci.image.layer.v1.tar+gzip")),
      }),
    );
    for (const data of [...layers, config, manifest]) putBlob(layout, sha256Digest(data), data);
    const id = sha256Digest(config);
    saveImage(layout, {
      id,
      manifestDigest: sha256Digest(manifest),
      manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
      layers: layers.map((l) => ({ ...desc(l, "application/vnd.oci.image.layer.v1.tar+gzip"), diffId: sha256Digest(l), unpackedSize: l.length })),
      platform: { os: "linux", architecture: "amd64" },
      pulledAt: new Date(0).toISOString(),
      repoDigests: [],
    });
    addTag(layout, `${server.host}/app:v1`, id);
    const result = await pushImage(env.ctx, `${server.host}/app:v1`);
    expect(result.digest).toBe(sha256Digest(manifest));
    expect(server.answeredBeforeAllOpened()).toBe(0);
    expect(server.mostAtOnce()).toBeLessThanOrEqual(5);
  } finally {
    server.stop();
    env.cleanup();
  }
});

/**
 * A registry that holds each blob's closing PUT until all `blobs` uploads are opened (at most 2 s),
 * counting the PUTs it had to answer before that, and the most bodies it received at once.
 */
function uploadsRegistry(blobs: number) {
  let opened = 0;
  let allOpened: () => void = () => {};
  const whenAllOpened = new Promise<void>((resolve) => (allOpened = resolve));
  let early = 0;
  let sending = 0;
  let most = 0;
  const server = startFakeServer(async (req): Promise<FakeReply> => {
    const p = req.url.pathname;
    if (req.method === "HEAD") return { status: 404 };
    if (req.method === "POST") {
      if (++opened === blobs) allOpened();
      return { status: 202, headers: { Location: `/v2/app/blobs/uploads/u${opened}`, Range: "0-0" } };
    }
    if (req.method === "PUT" && p.startsWith("/v2/app/blobs/uploads/")) {
      most = Math.max(most, ++sending);
      const waited = await Promise.race([whenAllOpened.then(() => true), Bun.sleep(2000).then(() => false)]);
      sending--;
      if (!waited) early++;
      if (sha256Digest(req.body) !== req.url.searchParams.get("digest")) return { status: 400 };
      return { status: 201, headers: { "Docker-Content-Digest": req.url.searchParams.get("digest")! } };
    }
    if (req.method === "PUT" && p === "/v2/app/manifests/v1") return { status: 201, headers: { "Docker-Content-Digest": sha256Digest(req.body) } };
    return { status: 404 };
  });
  return { host: server.host, stop: () => server.stop(), answeredBeforeAllOpened: () => early, mostAtOnce: () => most };
}
