// The text of the container init that TinyCC compiles (src/sys/ffi.ts): init.c's parts concatenated
// in init.c's #include order, since TinyCC compiles from one text where an #include of a sibling
// would not resolve. Embedded by `bun build --compile` as text imports.
import base from "./init/base.c" with { type: "text" };
import child from "./init/child.c" with { type: "text" };
import consolePart from "./init/console.c" with { type: "text" };
import mounts from "./init/mounts.c" with { type: "text" };
import paths from "./init/paths.c" with { type: "text" };
import plan from "./init/plan.c" with { type: "text" };
import processPart from "./init/process.c" with { type: "text" };
import report from "./init/report.c" with { type: "text" };
import security from "./init/security.c" with { type: "text" };
import spawn from "./init/spawn.c" with { type: "text" };

/** [file under src/sys, text], in init.c's #include order (test/unit/sys/init-source.test.ts checks it). */
export const INIT_PARTS: readonly (readonly [string, string])[] = [
  ["init/base.c", base],
  ["init/report.c", report],
  ["init/plan.c", plan],
  ["init/paths.c", paths],
  ["init/mounts.c", mounts],
  ["init/security.c", security],
  ["init/process.c", processPart],
  ["init/console.c", consolePart],
  ["init/child.c", child],
  ["init/spawn.c", spawn],
];

/** One translation unit; a #line before each part keeps TinyCC's messages naming the real file. */
export function initSource(): string {
  return INIT_PARTS.map(([file, text]) => `#line 1 "${file}"\n${text}`).join("\n");
}
