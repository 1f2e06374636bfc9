// spawnReported: the input reaches fd 0 whole, the report is what fd 1 carried up to its EOF (also
// while the process lives on, as a monitor does), and a process that reads nothing is no error.
import { expect, test } from "bun:test";
import { spawnReported } from "../../../src/sys/reported.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

test("the input (larger than a pipe's buffer) arrives whole; the report is fd 1 up to EOF", async () => {
  const input = new Uint8Array(300_000).map((_, i) => 97 + (i % 26));
  const { proc, report } = spawnReported(["sh", "-c", "wc -c; exec >&-; sleep 0.2"], { argv0: "sh", input });
  expect(text(report).trim()).toBe("300000");
  expect(proc.exitCode).toBeNull(); // it closed fd 1 and lives on: the report came without waiting for its end
  expect(await proc.exited).toBe(0);
});

test("a report of several reads, and a process that never reads its input", async () => {
  const { proc, report } = spawnReported(["sh", "-c", "printf a; sleep 0.05; printf b; exit 3"], { argv0: "sh", input: new Uint8Array(200_000) });
  expect(text(report)).toBe("ab");
  expect(await proc.exited).toBe(3);
});

test("without input fd 0 is /dev/null; env is passed", async () => {
  const { proc, report } = spawnReported(["sh", "-c", 'readlink /proc/self/fd/0; printf %s "$X"'], { argv0: "sh", env: { X: "y", PATH: process.env.PATH } });
  expect(text(report)).toBe("/dev/null\ny");
  expect(await proc.exited).toBe(0);
});
