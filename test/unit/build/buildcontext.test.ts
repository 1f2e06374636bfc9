import { expect, test } from "bun:test";
import { cleanSource } from "../../../src/build/buildcontext.ts";

test("cleanSource: relative to the context root; .. above it refused, an absolute path stops at the root", () => {
  const ok: [string, string][] = [
    ["a", "a"],
    ["./a/", "a"],
    [".", "."],
    ["/", "."],
    ["a/../b", "b"],
    ["/../x", "x"],
    ["/a/../../x", "x"],
  ];
  for (const [src, want] of ok) expect(cleanSource(src)).toBe(want);
  for (const bad of ["..", "../x", "a/../../x", "./../x", "../*"]) expect(() => cleanSource(bad)).toThrow("forbidden path outside the build context");
});
