// What every yargs-free reading of a verb's arguments is held to: where it reads, it reads as yargs
// does; what it cannot read it leaves to yargs (null).
import { expect, test } from "bun:test";
import { parseWithYargs } from "../../../src/cli/index.ts";

/** `pick` keeps the options compared; `same` are read by `fast`, `left` are left to yargs. */
export function readsAsYargs(fast: (args: string[]) => object | null, pick: (argv: Record<string, unknown>) => unknown, same: string[][], left: string[][]): void {
  test.each(same.map((a) => [a]))("%p reads as yargs reads it", async (args) => {
    const f = fast(args);
    expect(f).not.toBeNull();
    const slow = await parseWithYargs(args);
    expect(pick(f as Record<string, unknown>)).toEqual(pick(slow!.argv));
  });
  test.each(left.map((a) => [a]))("%p is left to yargs", (args) => expect(fast(args)).toBeNull());
}
