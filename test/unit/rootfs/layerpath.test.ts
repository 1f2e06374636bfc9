// Image paths looked up in a stack of layer directories: links resolved inside the image (an
// absolute target from the image's root, ".." stopped there), never by the host.
import { beforeEach, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { entryInLayers, resolveInLayers } from "../../../src/rootfs/layerpath.ts";
import { fakeSys, type FakeSys } from "../../../src/sys/fake.ts";
import { tempDirEach } from "../../helpers/tmp.ts";

let tmp: string;
let sys: FakeSys;
tempDirEach("tinydock-layerpath-", [], (d) => (tmp = d));
beforeEach(() => {
  sys = fakeSys();
});

function layers(): [string, string] {
  const top = path.join(tmp, "top");
  const low = path.join(tmp, "low");
  fs.mkdirSync(path.join(low, "etc"), { recursive: true });
  fs.mkdirSync(path.join(top, "d"), { recursive: true });
  // Links that, followed by the host from the layer's directory, would reach the host's /etc and /tmp.
  fs.symlinkSync("/etc", path.join(top, "abs"));
  fs.symlinkSync("../../../../../../../../tmp", path.join(low, "rel"));
  fs.symlinkSync("../abs/x", path.join(top, "d", "chain"));
  fs.symlinkSync("loop", path.join(top, "loop"));
  return [top, low];
}

test("links resolve inside the image: absolute from its root, climbing stops at it", () => {
  const ls = layers();
  expect(resolveInLayers(ls, "/abs/passwd", sys)).toEqual(["etc", "passwd"]);
  expect(resolveInLayers(ls, "/rel/x", sys)).toEqual(["tmp", "x"]);
  expect(resolveInLayers(ls, "d/chain", sys)).toEqual(["etc", "x"]);
  expect(resolveInLayers(ls, "/../../d/./../abs", sys)).toEqual(["etc"]);
  expect(resolveInLayers(ls, "/missing/abs", sys)).toEqual(["missing", "abs"]);
  expect(() => resolveInLayers(ls, "/loop/x", sys)).toThrow("too many levels of symbolic links");
});

test("a lookup below a link is blocked at the link, never followed by the host", () => {
  const ls = layers();
  // The host's /etc has passwd: the image's /abs is a link, so nothing is below it.
  const e = entryInLayers(ls, ["abs", "passwd"], sys);
  expect(e.kind).toBe("blocked");
  expect(entryInLayers(ls, ["rel", "."], sys).kind).toBe("blocked");
  expect(entryInLayers(ls, ["etc"], sys).kind).toBe("found");
});
