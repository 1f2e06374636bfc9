import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { LayerRoot, splitEntryPath, UnsafePathError } from "../../../src/rootfs/safepath.ts";
import { tempDirEach } from "../../helpers/tmp.ts";

describe("splitEntryPath", () => {
  const cases: [string, string[] | null][] = [
    ["a/b/c", ["a", "b", "c"]],
    ["./a//b/./c/", ["a", "b", "c"]],
    ["/etc/passwd", ["etc", "passwd"]],
    ["///etc", ["etc"]],
    ["a/../b", ["b"]],
    ["a/b/../../c", ["c"]],
    [".", []],
    ["./", []],
    ["/", []],
    ["a/..", []],
    ["..", null],
    ["../x", null],
    ["a/../../x", null],
    ["/../etc/passwd", null],
    ["./a/../../../../../etc", null],
    ["...", ["..."]],
    ["..a/b..", ["..a", "b.."]],
  ];
  for (const [name, want] of cases) {
    test(`${JSON.stringify(name)} → ${JSON.stringify(want)}`, () => {
      expect(splitEntryPath(name)).toEqual(want);
    });
  }
});

describe("LayerRoot", () => {
  let tmp: string;
  let dest: string;
  tempDirEach("tinydock-safepath-", ["dest", "outside"], (d, s) => ([tmp, dest] = [d, s!]));

  const resolve = (root: LayerRoot, rel: string, create = true) => {
    const parts = splitEntryPath(rel)!;
    return root.dir(parts, parts.length, create);
  };

  test("creates missing directories 0755", () => {
    const root = new LayerRoot(dest);
    expect(resolve(root, "a/b/c")).toBe(path.join(root.path, "a/b/c"));
    expect(fs.statSync(path.join(dest, "a/b")).mode & 0o7777).toBe(0o755);
  });

  test("symlinks in the chain are followed but clamped to the root", () => {
    const root = new LayerRoot(dest);
    fs.symlinkSync(path.join(tmp, "outside"), path.join(dest, "abs")); // absolute, points out
    fs.symlinkSync("../../..", path.join(dest, "up")); // relative, climbs out
    fs.symlinkSync("/", path.join(dest, "slash"));
    fs.mkdirSync(path.join(dest, "usr/bin"), { recursive: true });
    fs.symlinkSync("usr/bin", path.join(dest, "bin"));
    expect(resolve(root, "abs")).toBe(path.join(root.path, tmp.slice(1), "outside"));
    expect(resolve(root, "up")).toBe(root.path);
    expect(resolve(root, "up/x")).toBe(path.join(root.path, "x"));
    expect(resolve(root, "slash/etc")).toBe(path.join(root.path, "etc"));
    expect(resolve(root, "bin")).toBe(path.join(root.path, "usr/bin"));
    expect(fs.readdirSync(path.join(tmp, "outside"))).toEqual([]);
  });

  test("symlink loops and non-directories are refused", () => {
    const root = new LayerRoot(dest);
    fs.symlinkSync("b", path.join(dest, "a"));
    fs.symlinkSync("a", path.join(dest, "b"));
    fs.writeFileSync(path.join(dest, "file"), "");
    expect(() => resolve(root, "a/x")).toThrow(UnsafePathError);
    expect(() => resolve(root, "a/x")).toThrow(/too many levels/);
    expect(() => resolve(root, "file/x")).toThrow(/not a directory/);
  });

  test("without create, a missing directory is refused and nothing is made", () => {
    const root = new LayerRoot(dest);
    expect(() => resolve(root, "no/such", false)).toThrow(/not in the layer/);
    expect(fs.readdirSync(dest)).toEqual([]);
  });

  test("forget drops cached resolutions through a replaced symlink", () => {
    const root = new LayerRoot(dest);
    fs.mkdirSync(path.join(dest, "x"));
    fs.mkdirSync(path.join(dest, "y"));
    fs.symlinkSync("x", path.join(dest, "l"));
    expect(resolve(root, "l")).toBe(path.join(root.path, "x"));
    fs.unlinkSync(path.join(dest, "l"));
    fs.symlinkSync("y", path.join(dest, "l"));
    root.forget();
    expect(resolve(root, "l")).toBe(path.join(root.path, "y"));
  });
});
