// A two-layer image whose second layer hard-links files of the first (as `docker build` makes when
// a RUN does `ln /bin/busybox /usr/local/bin/x`): pulled from a real registry, its merged rootfs is
// what `umoci unpack` makes of it (hard-link counts aside: layers are separate directories under
// overlayfs, so the link is a copy, as containerd's copy-up makes it), and the compiled binary runs
// the linked file. Needs root.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { mountImage, unmountImage } from "../../src/rootfs/images.ts";
import { pullImage } from "../../src/rootfs/pull.ts";
import { busyboxEntries } from "../helpers/busybox.ts";
import { requireBinary, tinydock } from "../helpers/cli.ts";
import { testContext, type TestEnv } from "../helpers/ctx.ts";
import { buildImage, pushImage } from "../helpers/image.ts";
import { umociUnpack } from "../helpers/oracle.ts";
import { startRegistry, type TestRegistry } from "../helpers/registry.ts";
import { diffTrees, snapshotTree } from "../helpers/tree.ts";

let reg: TestRegistry;
const envs: TestEnv[] = [];
const T = new Date("2022-02-02T02:02:02Z");

beforeAll(async () => {
  requireBinary();
  reg = await startRegistry();
  const image = await buildImage({
    layers: [
      { entries: [...busyboxEntries(), { name: "data/orig", content: "from layer one\n", mode: 0o640, uid: 12, gid: 34, mtime: T }] },
      {
        entries: [
          { name: "usr/local/bin/", type: "directory" },
          { name: "usr/local/bin/echo", type: "link", linkname: "bin/busybox" },
          { name: "data/alias", type: "link", linkname: "data/orig" },
          { name: "data/alias2", type: "link", linkname: "data/alias" },
        ],
      },
    ],
    config: { Cmd: ["sh"] },
  });
  await pushImage(reg, "cross/links", "v1", image);
});

afterAll(async () => {
  for (const e of envs) e.cleanup();
  await reg?.stop();
});

describe("cross-layer hard links", () => {
  test("pull: the merged rootfs equals umoci's; the second pull is up to date; run executes the linked file", async () => {
    const e = testContext();
    envs.push(e);
    const ref = `${reg.host}/cross/links:v1`;
    const res = await pullImage(e.ctx, ref);
    // The upper layer depends on its base: stored under its chain id.
    expect(res.record.layers[0]!.key).toBeUndefined();
    expect(res.record.layers[1]!.key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(res.record.layers[1]!.key).not.toBe(res.record.layers[1]!.diffId);
    const merged = mountImage(e.ctx, ref);
    try {
      const noLinks = (t: ReturnType<typeof snapshotTree>) => t.map(({ nlink: _n, ...r }) => r);
      const ours = snapshotTree(merged);
      const theirs = snapshotTree(umociUnpack(reg, "cross/links", "v1", path.join(e.dir, "umoci")));
      expect(diffTrees(noLinks(ours) as typeof ours, noLinks(theirs) as typeof theirs)).toEqual([]);
      expect(fs.readFileSync(path.join(merged, "data/alias"), "utf8")).toBe("from layer one\n");
      const st = fs.statSync(path.join(merged, "data/alias"));
      expect([st.mode & 0o7777, st.uid, st.gid, st.mtimeMs]).toEqual([0o640, 12, 34, T.getTime()]);
      // Within the upper layer the two names are still one inode.
      expect(fs.statSync(path.join(merged, "data/alias2")).ino).toBe(st.ino);
    } finally {
      unmountImage(e.ctx, ref);
    }
    expect((await pullImage(e.ctx, ref)).changed).toBe(false);

    const config = path.join(e.dir, "config.json");
    fs.writeFileSync(config, "{}");
    const cli = { root: e.root, config, dockerConfig: e.dockerConfig };
    const r = tinydock(cli, ["run", "--rm", "--network", "none", ref, "sh", "-c", "cat /data/alias; /usr/local/bin/echo linked ok"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("from layer one\nlinked ok\n");
    expect(r.code).toBe(0);
  });
});
