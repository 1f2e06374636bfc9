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
  /** ignoreMissing: a missing one is passed over in silence (podman's --ignore); warnMissing: its error is printed but does not fail the command (Docker's rm -f). */
  opts: { ignoreMissing?: boolean; warnMissing?: boolean } = {},
): Promise<number> {
  const { findLive } = await import("../../lifecycle/live.ts");
  const { describeError, isKind } = await import("../../errors.ts");
  const list = (Array.isArray(refs) ? refs : [refs]).map(String);
  const results: Promise<{ out?: string; err?: string; warn?: string }>[] = [];
  let running = 0;
  const slots: (() => void)[] = [];
  const one = async (ref: string) => {
    if (running >= PARALLEL) await new Promise<void>((r) => slots.push(r));
    running++;
    try {
      let c: LiveContainer;
      try {
        c = findLive(ctx, ref);
      } catch (err) {
        if (opts.ignoreMissing && isKind(err, "NotFound")) return {};
        if (opts.warnMissing && isKind(err, "NotFound")) return { warn: describeError(err) };
        throw err;
      }
      const out = await fn(c, ref);
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
    } else if (res.warn !== undefined) {
      io.err(`Error: ${res.warn}\n`);
    } else if (res.out !== undefined) io.out(`${res.out}\n`);
  }
  return code;
}

/** The same for other objects (networks, volumes, images), one after the other: `fn` on each of `refs`. */
export async function eachRef(refs: unknown[], io: Io, fn: (ref: string) => unknown): Promise<number> {
  const { describeError, oneLine } = await import("../../errors.ts");
  let code = 0;
  for (const ref of refs.map(String)) {
    try {
      await fn(ref);
    } catch (err) {
      io.err(`Error: ${oneLine(describeError(err))}\n`);
      code = 1;
    }
  }
  return code;
}

/**
 * The containers a verb acts on: those named, or with podman's --all every one `which` picks (full
 * ids). Neither, or both, is a usage error in Docker's and podman's words.
 */
export async function targetContainers(ctx: Ctx, argv: Record<string, unknown>, which: (c: LiveContainer) => boolean): Promise<string[]> {
  const refs = ((argv.containers as unknown[] | undefined) ?? []).map(String);
  const { UsageError, ArgumentsError } = await import("../usage.ts");
  if (argv.all === true) {
    if (refs.length > 0) throw new UsageError("when using the --all switch, you may not pass any containers names or IDs");
    const { listLive } = await import("../../lifecycle/live.ts");
    return listLive(ctx)
      .filter(which)
      .sort((a, b) => Date.parse(b.record.created) - Date.parse(a.record.created))
      .map((c) => c.record.id);
  }
  if (refs.length === 0) {
    const { arityMessage } = await import("../flags.ts");
    const words = (argv._ as unknown[] | undefined)?.map(String) ?? [];
    throw new ArgumentsError(arityMessage(words.length ? words.join(" ") : "", { min: 1, max: Infinity }));
  }
  return refs;
}

/** Docker's Running: paused and restarting containers are running too. */
export const isRunning = (c: LiveContainer): boolean => c.state.Running;
