// The adversarial suite's figures: each test there says how many hostile cases it tried
// (fuzz runs, evil images, escape attempts), and test/run.sh sums them into the line
// "adversarial: N cases tried, escapes: M" (escapes = failed tests of test/adversarial/).
import { test } from "bun:test";
import fs from "node:fs";

/** Adds `n` tried cases of kind `what` to the run's tally (a no-op outside test/run.sh). */
export function recordCases(what: string, n: number): void {
  const log = process.env.TD_ADVERSARIAL_LOG;
  if (log) fs.appendFileSync(log, `${n}\t${what.replace(/\s+/g, " ")}\n`);
}

/**
 * `test` for a file whose hostile cases sit among ordinary tests: a case that passes counts as one
 * tried case of `kind` (a failing one is counted by the failure itself).
 */
export function hostileTest(kind: string) {
  return (name: string, fn: () => unknown, timeout?: number) =>
    test(
      name,
      async () => {
        await fn();
        recordCases(`${kind}: ${name}`, 1);
      },
      timeout,
    );
}
