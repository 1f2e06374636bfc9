// The loop of Docker's multi-container verbs (stop a b c, rm …): each reference on its own; a
// failure is printed and the others still run; the exit code is 1 when any failed.
import type { Ctx } from "../../context.ts";
import type { Io } from "../command.ts";
import type { LiveContainer } from "../../lifecycle/live.ts";

export async function eachContainer(
  ctx: Ctx,
  refs: unknown,
  io: Io,
  fn: (c: LiveContainer, ref: string) => Promise<void | string>,
): Promise<number> {
  const { findLive } = await import("../../lifecycle/live.ts");
  const { describeError } = await import("../../errors.ts");
  let code = 0;
  for (const ref of (Array.isArray(refs) ? refs : [refs]).map(String)) {
    try {
      const out = await fn(findLive(ctx, ref), ref);
      io.out(`${out ?? ref}\n`);
    } catch (err) {
      io.err(`Error: ${describeError(err)}\n`);
      code = 1;
    }
  }
  return code;
}
