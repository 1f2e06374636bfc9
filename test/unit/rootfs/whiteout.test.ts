import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { isOverlayXattr, markOpaque, parseWhiteout, writeWhiteout, type Whiteout } from "../../../src/rootfs/whiteout.ts";
import { fakeSys } from "../../../src/sys/fake.ts";
import { S_IFCHR } from "../../../src/sys/sys.ts";
import { tempDirEach } from "../../helpers/tmp.ts";

describe("parseWhiteout", () => {
  const cases: [string, Whiteout | undefined][] = [
    ["file", undefined],
    [".wh", undefined],
    ["a.wh.b", undefined],
    [".wh.file", { kind: "remove", name: "file" }],
    [".wh..hidden", { kind: "remove", name: ".hidden" }],
    [".wh..wh..opq", { kind: "opaque" }],
    [".wh..wh.plnk", { kind: "meta" }],
    [".wh..wh..opq.extra", { kind: "meta" }],
    [".wh.", { kind: "invalid", name: "" }],
    [".wh..", { kind: "invalid", name: "." }],
    [".wh...", { kind: "invalid", name: ".." }],
  ];
  for (const [base, want] of cases) {
    test(`${JSON.stringify(base)}`, () => expect(parseWhiteout(base)).toEqual(want));
  }
});

describe("overlay forms", () => {
  let tmp: string;
  tempDirEach("tinydock-whiteout-", [], (d) => (tmp = d));

  test("a whiteout is a 0:0 character device", () => {
    const sys = fakeSys();
    const p = path.join(tmp, "gone");
    // The fake makes no node; stand in for one so the chown that follows has a target.
    const mknod = sys.mknod;
    sys.mknod = (file, mode, dev) => {
      mknod(file, mode, dev);
      fs.writeFileSync(file, "");
    };
    writeWhiteout(sys, p);
    expect(sys.calls).toEqual([{ op: "mknod", args: [p, S_IFCHR, 0] }]);
  });

  test("opaque is trusted.overlay.opaque=y", () => {
    const sys = fakeSys();
    markOpaque(sys, tmp);
    expect(sys.calls).toEqual([{ op: "lsetxattr", args: [tmp, "trusted.overlay.opaque", new Uint8Array([0x79])] }]);
  });

  test("overlay's own xattrs are recognised", () => {
    expect(isOverlayXattr("trusted.overlay.redirect")).toBe(true);
    expect(isOverlayXattr("user.overlay.metacopy")).toBe(true);
    expect(isOverlayXattr("user.note")).toBe(false);
    expect(isOverlayXattr("security.capability")).toBe(false);
  });
});
