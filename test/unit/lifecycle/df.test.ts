import { expect, test } from "bun:test";
import { imageUsage, summarizeUsage, type UsageFacts } from "../../../src/lifecycle/df.ts";
import { usageRow } from "../../../src/cli/commands/df.ts";
import { humanSize } from "../../../src/cli/format.ts";
import type { ImageRecord } from "../../../src/store/images.ts";
import type { LiveContainer } from "../../../src/lifecycle/live.ts";

const layer = (d: string, n: number) => ({ diffId: `sha256:${d.repeat(64)}`, digest: "", mediaType: "", size: 0, unpackedSize: n });
const img = (id: string, layers: ReturnType<typeof layer>[]) => ({ id, layers }) as unknown as ImageRecord;
const live = (running: boolean) => ({ state: { Running: running }, record: {} }) as unknown as LiveContainer;

test("df: shared layers counted once; images in use keep their layers; containers and volumes by use", () => {
  // base (1000) shared by A and B; A adds 200, B adds 50; only A has a container.
  const images = imageUsage([img("A", [layer("1", 1000), layer("2", 200)]), img("B", [layer("1", 1000), layer("3", 50)])], new Map([["A", 2]]));
  expect(images.map((i) => [i.size, i.sharedSize, i.containers])).toEqual([
    [1200, 1000, 2],
    [1050, 1000, 0],
  ]);
  const facts: UsageFacts = {
    images,
    containers: [
      { live: live(true), sizeRw: 10 },
      { live: live(false), sizeRw: 30 },
    ],
    volumes: [
      { volume: {} as never, links: 1, size: 100 },
      { volume: {} as never, links: 0, size: 300 },
      { volume: {} as never, links: 0, size: 0 },
    ],
  };
  expect(summarizeUsage(facts)).toEqual([
    { type: "Images", total: 2, active: 1, size: 1250, reclaimable: 50 },
    { type: "Containers", total: 2, active: 1, size: 40, reclaimable: 30 },
    { type: "Local Volumes", total: 3, active: 1, size: 400, reclaimable: 300 },
    { type: "Build Cache", total: 0, active: 0, size: 0, reclaimable: 0 },
  ]);
  expect(summarizeUsage(facts).map((l) => usageRow(l, humanSize))).toEqual([
    { Type: "Images", TotalCount: "2", Active: "1", Size: "1.25kB", Reclaimable: "50B (4%)" },
    { Type: "Containers", TotalCount: "2", Active: "1", Size: "40B", Reclaimable: "30B (75%)" },
    { Type: "Local Volumes", TotalCount: "3", Active: "1", Size: "400B", Reclaimable: "300B (75%)" },
    { Type: "Build Cache", TotalCount: "0", Active: "0", Size: "0B", Reclaimable: "0B" },
  ]);
});

test("df: nothing at all is zeros without percentages", () => {
  const rows = summarizeUsage({ images: [], containers: [], volumes: [] }).map((l) => usageRow(l, humanSize));
  expect(rows.map((r) => `${r.TotalCount} ${r.Active} ${r.Size} ${r.Reclaimable}`)).toEqual(["0 0 0B 0B", "0 0 0B 0B", "0 0 0B 0B", "0 0 0B 0B"]);
});
