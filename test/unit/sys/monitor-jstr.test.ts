// monitor.c's run.json writer, compiled on its own with AddressSanitizer: jstr escapes up to 100 bytes
// of a value, each into at most 6 characters (a control byte or invalid UTF-8 becomes \u00XX or
// \ufffd), so its buffer needs 601 bytes with the NUL; it had 600 and wrote the NUL one past its end.
import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-jstr-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const MONITOR = path.resolve(import.meta.dir, "../../../src/sys/monitor.c");

/** Compiles a harness around monitor.c (its main renamed) that prints jstr's output for `value`. */
function jstr(value: number[]): { code: number; out: string; err: string } {
  const src = path.join(dir, "jstr.c");
  const bin = path.join(dir, "jstr");
  const bytes = value.map((b) => `${b}`).join(", ");
  fs.writeFileSync(
    src,
    `#define main monitor_main
#include "${MONITOR}"
#undef main
int main(void)
{
  static const unsigned char in[] = { ${bytes}, 0 };
  char buf[2048];
  size_t n = 0;
  buf[0] = 0;
  jstr(buf, &n, sizeof buf, "error", (const char *)in);
  put_all(1, buf, (long)n);
  return 0;
}
`,
  );
  const cc = Bun.spawnSync(["gcc", "-O0", "-fsanitize=address", "-fno-omit-frame-pointer", "-o", bin, src], { stderr: "pipe" });
  if (cc.exitCode !== 0) throw new Error(`gcc: ${cc.stderr.toString()}`);
  const r = Bun.spawnSync([bin], { stdout: "pipe", stderr: "pipe", env: { ASAN_OPTIONS: "detect_leaks=0" } });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

test("jstr escapes the longest worst-case value (100 control bytes → 600 characters) within its buffer", () => {
  const r = jstr(Array(100).fill(1));
  expect(r.err).not.toContain("stack-buffer-overflow");
  expect(r.code).toBe(0);
  expect(r.out).toBe(`"error":"${"\\u0001".repeat(100)}",`);
});

test("jstr cuts a longer value at 100 bytes, invalid UTF-8 included", () => {
  const r = jstr(Array(150).fill(0xff));
  expect(r.err).not.toContain("stack-buffer-overflow");
  expect(r.code).toBe(0);
  expect(r.out).toBe(`"error":"${"\\ufffd".repeat(100)}",`);
});
