// The stage scheduler: the stages the target (--target, or the last) needs, each started once the
// stages it uses are built, so independent ones run side by side.
import type { StageDef } from "./dockerfile.ts";
import { BuildCancelled } from "./request.ts";

type StageOf = (ref: string, before: number) => number | undefined;

/** Builds the needed stages; the first real failure wins over the cancellations it caused. */
export async function scheduleStages(stages: readonly StageDef[], target: number, stageOf: StageOf, build: (i: number) => Promise<void>, onFail: () => void, signalled: () => boolean): Promise<void> {
  const needed = neededStages(stages, target, stageOf);
  const started = new Map<number, Promise<void>>();
  const run = (i: number): Promise<void> => {
    let p = started.get(i);
    if (!p) {
      const deps = [...stageDeps(stages[i]!, stageOf)];
      p = (async () => {
        await Promise.all(deps.map(run));
        await build(i);
      })();
      p.catch(onFail);
      started.set(i, p);
    }
    return p;
  };
  const all = [...needed].sort((a, b) => a - b).map(run);
  const settled = await Promise.allSettled(all);
  const firstError = settled.find((r): r is PromiseRejectedResult => r.status === "rejected" && !(r.reason instanceof BuildCancelled && !signalled()));
  if (firstError) throw firstError.reason;
  const anyError = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (anyError) throw anyError.reason;
}

/** The earlier stages a stage uses: its FROM stage and its COPY --from stages. */
export function stageDeps(s: StageDef, stageOf: StageOf): Set<number> {
  const deps = new Set<number>();
  const base = stageOf(s.from, s.index);
  if (base !== undefined) deps.add(base);
  for (const ins of s.instructions) {
    if (ins.keyword === "COPY" && ins.flags.from !== undefined) {
      const dep = stageOf(ins.flags.from, s.index);
      if (dep !== undefined) deps.add(dep);
    }
  }
  return deps;
}

/** The stages the target needs: itself, its FROM stage and every COPY --from stage, transitively. */
export function neededStages(stages: readonly StageDef[], target: number, stageOf: StageOf): Set<number> {
  const need = new Set<number>();
  const visit = (i: number) => {
    if (need.has(i)) return;
    need.add(i);
    const s = stages[i]!;
    const base = stageOf(s.from, i);
    if (base !== undefined) visit(base);
    for (const ins of s.instructions) {
      if (ins.keyword === "COPY" && ins.flags.from !== undefined) {
        const dep = stageOf(ins.flags.from, i);
        if (dep !== undefined) visit(dep);
      }
    }
  };
  visit(target);
  return need;
}
