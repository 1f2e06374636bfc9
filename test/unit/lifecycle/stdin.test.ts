// --detach-keys parsing (Docker's spellings and words) and finding the sequence across chunks.
import { expect, test } from "bun:test";
import { DetachScanner, parseDetachKeys } from "../../../src/lifecycle/stdin.ts";

test("detach keys as Docker spells them", () => {
  expect(parseDetachKeys("ctrl-p,ctrl-q")).toEqual([0x10, 0x11]);
  expect(parseDetachKeys("a,ctrl-@,ctrl-[,ctrl-_")).toEqual([0x61, 0, 27, 31]);
  for (const bad of ["ctrl-", "ctrl-pq", "ab", "ctrl-1", ""]) expect(() => parseDetachKeys(bad)).toThrow(`Invalid detach keys (${bad}) provided`);
});

test("the sequence found across chunks; a partial match is passed on when it fails", () => {
  const s = new DetachScanner([0x10, 0x11]);
  const dec = (u: Uint8Array) => new TextDecoder().decode(u);
  expect(dec(s.push(new TextEncoder().encode("ab\x10")).pass)).toBe("ab");
  expect(dec(s.push(new TextEncoder().encode("c")).pass)).toBe("\x10c");
  expect(s.push(new TextEncoder().encode("\x10\x10"))).toEqual({ pass: Uint8Array.from([0x10]), detached: false });
  const end = s.push(new TextEncoder().encode("\x11rest"));
  expect(end.detached).toBe(true);
  expect(end.pass.length).toBe(0);
});
