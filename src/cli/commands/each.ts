// The loop of Docker's multi-container verbs (stop a b c, rm …): each reference on its own; a
// failure is printed and the others still run; the exit code is 1 when any failed. As Docker's
// CLI does (parallelOperation), the operations run at once — `stop` of ten containers takes one
// timeout, not ten — and their results print in the order given.
import type { Ctx } from "../../context.ts";
import type { Io } from "../command.ts";
import type { LiveContainer } from "../../lifecycle/live.ts";

/** Docker's CLI runs at most 50 at once. */
const PARALLEL = 50;

export async function eachContainer(
  ctx: Ctx,
  refs: unknown,
  io: Io,
  fn: (c: LiveContainer, ref: string) => Promise<void | string>,
): Promise<number> {
  const { findLive } = await import("../../lifecycle/live.ts");
  const { describeError } = await import("../../errors.ts");
  const list = (Array.isArray(refs) ? refs : [refs]).map(String);
  const results: Promise<{ out?: string; err?: string }>[] = [];
  let running = 0;
  const slots: (() => void)[] = [];
  const one = async (ref: string) => {
    if (running >= PARALLEL) await new Promise<void>((r) => slots.push(r));
    running++;
    try {
      const out = await fn(findLive(ctx, ref), ref);
      return { out: out ?? ref };
    } catch (err) {
      return { err: describeError(err) };
    } finally {
      running--;
      slots.shift()?.();
    }
  };
  for (const ref of list) results.push(one(ref));
  let code = 0;
  for (const r of results) {
    const res = await r;
    if (res.err !== undefined) {
      io.err(`Error: ${res.err}\n`);
      code = 1;
    } else io.out(`${res.out}\n`);
  }
  return code;
}
