// The pipeline's one-way flow (STYLE.md): reference → registry → store → rootfs → runtime → network
// → lifecycle → cli, with sys (the FFI surface) beneath them all. A module may import from its own
// layer or from an earlier one, never from a later one, not even for a type: a shape an earlier
// stage keeps (the network records in state.json) is defined in that stage.
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";

const ORDER = ["sys", "image", "registry", "store", "rootfs", "runtime", "network", "lifecycle", "build", "pod", "kube", "cli"];
const SRC = path.join(import.meta.dir, "..", "..", "src");

/** Relative imports that load code: `import … from`, `export … from` and `import(…)`, less `import type`/`export type`. */
export function valueImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?\bfrom\s+"(\.[^"]+)"/gms)) if (!m[2]) out.push(m[3]!);
  for (const m of text.matchAll(/\bimport\(\s*"(\.[^"]+)"\s*\)/g)) out.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s+"(\.[^"]+)"/gm)) out.push(m[1]!);
  return out;
}

/** Every relative import, type-only ones included. */
export function allImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+[^;]*?\bfrom\s+"(\.[^"]+)"/gms)) out.push(m[2]!);
  for (const m of text.matchAll(/\bimport\(\s*"(\.[^"]+)"\s*\)/g)) out.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s+"(\.[^"]+)"/gm)) out.push(m[1]!);
  return out;
}

/** "a imports b" for each import `pick` finds that goes against the flow. */
function againstFlow(pick: (text: string) => string[]): string[] {
  const against: string[] = [];
  const files = [...new Bun.Glob("**/*.ts").scanSync(SRC)];
  expect(files.length).toBeGreaterThan(50);
  for (const rel of files) {
    const from = ORDER.indexOf(rel.split("/")[0]!);
    if (from < 0) continue; // src/*.ts: errors, context, atomic… shared by every layer
    for (const spec of pick(fs.readFileSync(path.join(SRC, rel), "utf8"))) {
      const target = path.relative(SRC, path.resolve(SRC, path.dirname(rel), spec));
      const to = ORDER.indexOf(target.split("/")[0]!);
      if (to > from) against.push(`${rel} imports ${target}`);
    }
  }
  return against;
}

test("valueImports tells code from types", () => {
  const text = [
    'import { a } from "../store/a.ts";',
    'import type { B } from "../network/b.ts";',
    'export type { C } from "../cli/c.ts";',
    'export { d } from "./d.ts";',
    "const { e } = await import(\"../lifecycle/e.ts\");",
    'import {\n  f,\n  type G,\n} from "../runtime/f.ts";',
  ].join("\n");
  expect(valueImports(text).sort()).toEqual(["../lifecycle/e.ts", "../runtime/f.ts", "../store/a.ts", "./d.ts"]);
});

test("allImports counts type-only imports too", () => {
  const text = ['import type { B } from "../network/b.ts";', 'export type { C } from "../cli/c.ts";', 'import { a, type D } from "./a.ts";'].join("\n");
  expect(allImports(text).sort()).toEqual(["../cli/c.ts", "../network/b.ts", "./a.ts"]);
});

test("no module imports code from a later layer of the pipeline", () => {
  expect(againstFlow(valueImports)).toEqual([]);
});

test("no module imports a type from a later layer of the pipeline", () => {
  expect(againstFlow(allImports)).toEqual([]);
});
