import { expect, test } from "bun:test";
import { imageHistory } from "../../../src/store/history.ts";
import { historyRow } from "../../../src/cli/commands/history.ts";
import { humanSize, since } from "../../../src/cli/format.ts";

// busybox-like: ADD (a layer), CMD (empty); plus a RUN layer and an ENV (empty) on top.
const config = {
  history: [
    { created: "2024-01-01T00:00:00Z", created_by: "/bin/sh -c #(nop) ADD file:abc in / " },
    { created: "2024-01-01T00:00:01Z", created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
    { created: "2024-01-02T00:00:00Z", created_by: "RUN /bin/sh -c echo hi > /f # buildkit", comment: "buildkit.dockerfile.v0" },
    { created: "2024-01-02T00:00:01Z", created_by: "ENV A=1", empty_layer: true },
  ],
};
const layers = [{ unpackedSize: 4_261_000 }, { unpackedSize: 3 }];

test("history: newest first, non-empty entries matched to layers in order, empty ones 0 B, <missing> below the top", () => {
  const h = imageHistory("sha256:" + "f".repeat(64), config, layers, ["docker.io/library/busybox:latest"]);
  expect(h.map((e) => [e.id.slice(0, 9), e.size, e.createdBy.slice(0, 10), e.comment])).toEqual([
    ["sha256:ff", 0, "ENV A=1", ""],
    ["<missing>", 3, "RUN /bin/s", "buildkit.dockerfile.v0"],
    ["<missing>", 0, "/bin/sh -c", ""],
    ["<missing>", 4_261_000, "/bin/sh -c", ""],
  ]);
  expect(h[0]!.tags).toEqual(["docker.io/library/busybox:latest"]);
  expect(h[3]!.created).toBe(Date.parse("2024-01-01T00:00:00Z") / 1000);
});

test("history: no history in the config gives one entry per layer; extra non-empty entries weigh nothing", () => {
  expect(imageHistory("sha256:1", {}, layers).map((e) => e.size)).toEqual([3, 4_261_000]);
  const extra = imageHistory("sha256:1", { history: [{}, {}, {}] }, layers);
  expect(extra.map((e) => e.size)).toEqual([0, 3, 4_261_000]);
});

test("history rows: Docker's truncation (12-hex id, 45-character CREATED BY with …) and -H=false (bytes, RFC 3339)", () => {
  const [top, , , base] = imageHistory("sha256:" + "0123456789ab".repeat(5) + "cdef", config, layers);
  const now = Date.parse("2024-01-09T00:00:00Z");
  const human = historyRow(base!, { trunc: true, human: true, now, humanSize, since });
  expect(human).toEqual({ Comment: "", CreatedAt: "2024-01-01T00:00:00Z", CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / ", CreatedSince: "8 days ago", ID: "<missing>", Size: "4.26MB" });
  const long = historyRow({ ...base!, createdBy: "x".repeat(60) }, { trunc: true, human: true, now, humanSize, since });
  expect([...long.CreatedBy].length).toBe(45);
  expect(long.CreatedBy.endsWith("…")).toBe(true);
  expect(historyRow(top!, { trunc: true, human: false, now, humanSize, since })).toMatchObject({ ID: "0123456789ab", Size: "0", CreatedSince: "2024-01-02T00:00:01Z" });
  expect(historyRow(top!, { trunc: false, human: true, now, humanSize, since }).ID).toBe("sha256:" + "0123456789ab".repeat(5) + "cdef");
});
