// Start-up cost is module loading (a module costs ~1M instructions the first time it runs): the
// hot paths load what they use at once and the rest through `await import(…)`. These are the
// static import closures that keep them small; a static import that pulls a slow path back in
// fails here instead of showing up, much later, as a slower bench.
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";

const SRC = path.join(import.meta.dir, "..", "..", "src");

/** Relative imports loaded with the module (not `import type`, not `import(…)`), as src-relative paths. */
function staticImports(rel: string): string[] {
  const text = fs.readFileSync(path.join(SRC, rel), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?\bfrom\s+"(\.[^"]+)"/gms)) if (!m[2]) out.push(m[3]!);
  for (const m of text.matchAll(/^\s*import\s+"(\.[^"]+)"/gm)) out.push(m[1]!);
  return out.map((spec) => path.relative(SRC, path.resolve(SRC, path.dirname(rel), spec)));
}

function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const rel = todo.pop()!;
    if (seen.has(rel)) continue;
    seen.add(rel);
    todo.push(...staticImports(rel));
  }
  return seen;
}

test.each([
  // pod create and run --pod: removal and services load only on the paths that need them.
  ["pod/create.ts", ["lifecycle/remove.ts", "pod/services.ts", "pod/pods.ts"]],
  ["pod/join.ts", ["lifecycle/remove.ts", "pod/services.ts", "pod/pods.ts"]],
  // ps reads records and liveness; it never loads the runtime or the network.
  ["cli/commands/ps.ts", ["runtime/encode.ts", "network/ports.ts", "lifecycle/run.ts"]],
] as const)("%s does not statically load %p", (entry, never) => {
  const reached = closure(entry);
  expect(reached.size).toBeGreaterThan(1);
  expect(never.filter((m) => reached.has(m))).toEqual([]);
});
