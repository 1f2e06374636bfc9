// init/base.c open_ns, compiled on its own (monitor.c with its main renamed, under AddressSanitizer):
// "/proc/<pid>/ns/<name>@<start>" opens only while /proc/<pid> is the process started at <start>
// (ESRCH otherwise: a pid handed on is never entered); any other path is opened as it is.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { nsJoinPath, processStartTime } from "../../../src/sys/procfs.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-openns-"));
const bin = path.join(dir, "open-ns");
const MONITOR = path.resolve(import.meta.dir, "../../../src/sys/monitor.c");

beforeAll(() => {
  const src = path.join(dir, "open-ns.c");
  fs.writeFileSync(
    src,
    `#define main monitor_main
#include "${MONITOR}"
#undef main
int main(int argc, char **argv)
{
  long fd = argc > 1 ? open_ns(argv[1]) : -22;
  return fd < 0 ? (int)-fd : 0;
}
`,
  );
  const cc = Bun.spawnSync(["gcc", "-O0", "-fsanitize=address", "-fno-omit-frame-pointer", "-o", bin, src], { stderr: "pipe" });
  if (cc.exitCode !== 0) throw new Error(`gcc: ${cc.stderr.toString()}`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** open_ns(path): 0 when it opened, else the errno; ASan's findings as text. */
function openNs(p: string): { errno: number; asan: string } {
  const r = Bun.spawnSync([bin, p], { stdout: "pipe", stderr: "pipe", env: { ASAN_OPTIONS: "detect_leaks=0" } });
  return { errno: r.exitCode ?? -1, asan: r.stderr.toString() };
}

const me = process.pid;
const start = processStartTime(me)!;

test("the recorded process's namespace opens; another start time is refused with ESRCH", () => {
  expect(nsJoinPath({ pid: me, startTime: start }, "net")).toBe(`/proc/${me}/ns/net@${start}`);
  expect(openNs(nsJoinPath({ pid: me, startTime: start }, "net"))).toEqual({ errno: 0, asan: "" });
  expect(openNs(nsJoinPath({ pid: me, startTime: start }, "ipc"))).toEqual({ errno: 0, asan: "" });
  expect(openNs(`/proc/${me}/ns/net@${start + 1}`)).toEqual({ errno: 3, asan: "" });
  expect(openNs(`/proc/${2 ** 22 + 1}/ns/net@${start}`)).toEqual({ errno: 2, asan: "" });
});

test("a plain path is opened as it is, an '@' elsewhere included", () => {
  expect(nsJoinPath(me, "uts")).toBe(`/proc/${me}/ns/uts`);
  expect(openNs(`/proc/${me}/ns/uts`)).toEqual({ errno: 0, asan: "" });
  const file = path.join(dir, "a@1");
  fs.writeFileSync(file, "");
  expect(openNs(file)).toEqual({ errno: 0, asan: "" });
  // Not the /proc form (no digits after '@', no ns name, no pid): the whole text is the path.
  for (const p of [`/proc/${me}/ns/net@`, `/proc/${me}/ns/@1`, `/proc//ns/net@1`, `/proc/${me}/net@1`, `/proc/${"9".repeat(40)}/ns/net@1`, "/pro"]) {
    expect([p, openNs(p)]).toEqual([p, { errno: 2, asan: "" }]);
  }
});
