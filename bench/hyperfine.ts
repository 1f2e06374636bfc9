// One hyperfine invocation over several commands, so they are timed side by side under the same
// conditions; the means come back from its --export-json.
import fs from "node:fs";
import path from "node:path";
import type { Children } from "./processes.ts";

export interface Bench {
  name: string;
  command: string;
  /** Run before each timing run of this command (not timed). */
  prepare?: string;
}

export interface Timing {
  name: string;
  meanMs: number;
  medianMs: number;
  stddevMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
}

export interface HyperfineOptions {
  runs: number;
  warmup: number;
  /** Run commands without a shell (hyperfine -N): for commands of a few ms. */
  noShell?: boolean;
  env: Record<string, string>;
  /** Where the JSON export goes. */
  workdir: string;
}

export async function hyperfine(children: Children, benches: Bench[], opts: HyperfineOptions): Promise<Map<string, Timing>> {
  const prepared = benches.filter((b) => b.prepare);
  if (prepared.length > 0 && prepared.length !== benches.length) {
    throw new Error(`Cannot run hyperfine: either every command has a --prepare or none has`);
  }
  const json = path.join(opts.workdir, `hyperfine-${Date.now()}.json`);
  const argv = ["hyperfine", "--runs", String(opts.runs), "--warmup", String(opts.warmup), "--export-json", json];
  if (opts.noShell) argv.push("-N");
  for (const b of benches) argv.push("--command-name", b.name);
  for (const b of prepared) argv.push("--prepare", b.prepare!);
  argv.push(...benches.map((b) => b.command));
  const r = await children.run(argv, opts.env, { inherit: true });
  if (r.code !== 0) throw new Error(`Cannot time ${benches.map((b) => b.name).join(", ")}: hyperfine exited ${r.code}`);
  const exported = JSON.parse(fs.readFileSync(json, "utf8")) as {
    results: { command: string; mean: number; median: number; stddev: number | null; min: number; max: number; times: number[] }[];
  };
  fs.rmSync(json, { force: true });
  const timings = new Map<string, Timing>();
  for (const r of exported.results) {
    timings.set(r.command, {
      name: r.command,
      meanMs: r.mean * 1000,
      medianMs: r.median * 1000,
      stddevMs: (r.stddev ?? 0) * 1000,
      minMs: r.min * 1000,
      maxMs: r.max * 1000,
      runs: r.times.length,
    });
  }
  return timings;
}
