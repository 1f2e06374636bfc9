// The order a push sends blobs in: a large layer left for last would go alone at the end, and a
// small blob queued behind large ones adds its round trips to the end of the push.
import { expect, test } from "bun:test";
import { uploadQueues } from "../../../src/rootfs/push.ts";

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
