// The adversarial suite's figures: each test there says how many hostile cases it tried
// (fuzz runs, evil images, escape attempts), and test/run.sh sums them into the line
// "adversarial: N cases tried, escapes: M" (escapes = failed tests of test/adversarial/).
import fs from "node:fs";

/** Adds `n` tried cases of kind `what` to the run's tally (a no-op outside test/run.sh). */
export function recordCases(what: string, n: number): void {
  const log = process.env.TD_ADVERSARIAL_LOG;
  if (log) fs.appendFileSync(log, `${n}\t${what.replace(/\s+/g, " ")}\n`);
}
