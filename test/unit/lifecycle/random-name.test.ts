// Generated container names: Docker's adjective_scientist shape, never one already in use.
import { describe, expect, test } from "bun:test";
import { randomName } from "../../../src/store/containers.ts";

describe("randomName", () => {
  test("adjective_scientist, as Docker's", () => {
    for (let i = 0; i < 200; i++) expect(randomName()).toMatch(/^[a-z]+_[a-z]+$/);
  });

  test("never a name in use, even when nearly every plain name is", () => {
    const taken = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const n = randomName(taken);
      expect(taken.has(n)).toBe(false);
      taken.add(n);
    }
    expect(taken.size).toBe(5000);
  });
});
