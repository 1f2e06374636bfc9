// A foreground `run` (without --rm) keeps its output in the container's json-file log, as Docker
// does, while printing it live: `logs` reads it back, stdout and stderr apart; `start -a` appends.
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { useE2e } from "../helpers/e2e.ts";

const e = useE2e({ prefix: "td-fglogs-e2e-" });

test("run prints live and keeps stdout and stderr in the log; start -a appends; exit codes unchanged", () => {
  const r = e.T(["run", "--name", "a", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
  expect(r.code).toBe(3);
  expect(r.stdout).toBe("out\n");
  expect(r.stderr).toBe("err\n");
  const l = e.T(["logs", "a"]);
  expect(l.code).toBe(0);
  expect(l.stdout).toBe("out\n");
  expect(l.stderr).toBe("err\n");
  const tail = e.T(["logs", "--tail", "1", "a"]);
  expect([tail.stdout, tail.stderr]).toEqual(["", "err\n"]);
  expect(e.T(["logs", "-t", "a"]).stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z out\n$/);
  const s = e.T(["start", "-a", "a"]);
  expect(s.code).toBe(3);
  expect(s.stdout).toBe("out\n");
  expect(e.T(["logs", "a"]).stdout).toBe("out\nout\n");
  expect(e.T(["logs", "a"]).stderr).toBe("err\nerr\n");
  expect(e.T(["rm", "a"]).code).toBe(0);
}, 60_000);

test("output without a trailing newline and long output are kept whole", () => {
  const r = e.T(["run", "--name", "b", "busybox", "sh", "-c", "seq 1 20000; printf tail"]);
  expect(r.code).toBe(0);
  const want = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join("") + "tail";
  expect(r.stdout).toBe(want);
  expect(e.T(["logs", "b"]).stdout).toBe(want);
  expect(e.T(["rm", "b"]).code).toBe(0);
}, 60_000);

test("run --rm prints live and leaves nothing behind", () => {
  const containers = path.join(e.env.root, "containers");
  const before = fs.existsSync(containers) ? fs.readdirSync(containers).sort() : [];
  const listed = e.T(["ps", "-aq"]).stdout;
  const r = e.T(["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 5"]);
  expect(r.code).toBe(5);
  expect(r.stdout).toBe("out\n");
  expect(r.stderr).toBe("err\n");
  expect(e.T(["ps", "-aq"]).stdout).toBe(listed);
  const after = fs.existsSync(containers) ? fs.readdirSync(containers).filter((n) => !n.startsWith(".trash")).sort() : [];
  expect(after).toEqual(before.filter((n) => !n.startsWith(".trash")));
}, 60_000);

test("with -t the log keeps the terminal's output, as stdout", () => {
  const r = e.T(["run", "-t", "--name", "t", "busybox", "sh", "-c", "echo on-tty; echo err >&2; exit 4"]);
  expect(r.code).toBe(4);
  expect(r.stdout).toBe("on-tty\r\nerr\r\n");
  const l = e.T(["logs", "t"]);
  expect([l.stdout, l.stderr]).toEqual(["on-tty\r\nerr\r\n", ""]);
  expect(e.T(["rm", "t"]).code).toBe(0);
}, 60_000);

test("--log-driver none keeps no log", () => {
  const r = e.T(["run", "--log-driver", "none", "--name", "n", "busybox", "echo", "hi"]);
  expect([r.code, r.stdout]).toEqual([0, "hi\n"]);
  expect(e.T(["logs", "n"]).code).not.toBe(0);
  const id = e.T(["inspect", "-f", "{{.Id}}", "n"]).stdout.trim();
  expect(fs.existsSync(path.join(e.env.root, "containers", id, `${id}-json.log`))).toBe(false);
  expect(e.T(["rm", "n"]).code).toBe(0);
}, 60_000);

test("start -a -i forwards the caller's stdin to a container created with -i; without -i nothing goes in", () => {
  expect(e.T(["create", "-i", "--name", "ci", "busybox", "sh", "-c", "read x; echo got-$x"]).code).toBe(0);
  const s = e.T(["start", "-a", "-i", "ci"], "hello\n");
  expect([s.code, s.stdout]).toEqual([0, "got-hello\n"]);
  expect(e.T(["logs", "ci"]).stdout).toBe("got-hello\n");
  expect(e.T(["create", "--name", "cn", "busybox", "sh", "-c", "read x; echo got-$x"]).code).toBe(0);
  expect(e.T(["start", "-a", "-i", "cn"], "hello\n").stdout).toBe("got-\n");
  expect(e.T(["rm", "ci", "cn"]).code).toBe(0);
}, 60_000);
