// The terminals of `run -it`, `exec -it` and `run -dit`, as Docker makes them: the caller's terminal
// in cfmakeraw's raw mode (a container's "\r\n" reaches the screen once, not as "\r\r\n") and put
// back exactly; the container's terminal a pty of its own devpts (`tty` names /dev/pts/0), sized
// from the start; and -it refused when stdin is not a terminal.
import { expect, test } from "bun:test";
import { BINARY, cliEnv } from "../helpers/cli.ts";
import { until, useE2e } from "../helpers/e2e.ts";
import { onPty, type PtyStep } from "../helpers/pty.ts";

const e = useE2e({ prefix: "td-terminal-e2e-" });

/** A shell line on a pty of its own, in the test's namespace; `$TD` is the binary. */
const shOnPty = (script: string, steps: PtyStep[] = [], waitMs?: number) => onPty(e.inNs(["sh", "-c", script]), steps, { ...cliEnv(e.env), TD: BINARY }, waitMs);

test("run -it: output lines end in \\r\\n once (cfmakeraw: no OPOST), the caller's terminal restored exactly", () => {
  const r = shOnPty(`stty -g; "$TD" run -it --rm busybox sh -c 'echo one; echo two'; echo "code=$?"; stty -g`);
  expect(r.bytes).toContain("one\r\ntwo\r\n");
  expect(r.bytes).not.toContain("\r\r\n");
  const lines = r.out.split("\n").filter((l) => /^[0-9a-f]+(:[0-9a-f]+)+$/.test(l));
  expect(lines.length).toBe(2);
  expect(lines[1]).toBe(lines[0]!);
  expect(r.out).toContain("code=0");
}, 60_000);

test("run -it ends as its container does: no fixed wait after the terminal's last output", () => {
  // Best of three each: a plain run against the same run with -it (it waited out a 500 ms timer).
  const r = shOnPty(`for i in 1 2 3; do a=$(date +%s%N); "$TD" run --rm busybox true; b=$(date +%s%N); "$TD" run -it --rm busybox true; c=$(date +%s%N); echo "ms $(( (b-a)/1000000 )) $(( (c-b)/1000000 ))"; done`, [], 20_000);
  const runs = [...r.out.matchAll(/ms (\d+) (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  expect(runs.length).toBe(3);
  const plain = Math.min(...runs.map((x) => x[0]));
  const it = Math.min(...runs.map((x) => x[1]));
  console.log(`run --rm busybox true: ${plain} ms; with -it on a terminal: ${it} ms`);
  expect(it - plain).toBeLessThan(300);
}, 60_000);

test("exec -it: the same raw mode and restore; a failing command restores it too", () => {
  expect(e.T(["run", "-d", "--name", "x", "busybox", "sleep", "60"]).code).toBe(0);
  const r = shOnPty(`stty -g; "$TD" exec -it x sh -c 'echo a; echo b'; "$TD" exec -it x nosuch; echo "code=$?"; stty -g`);
  expect(r.bytes).toContain("a\r\nb\r\n");
  expect(r.bytes).not.toContain("\r\r\n");
  expect(r.out).toContain("code=127");
  const lines = r.out.split("\n").filter((l) => /^[0-9a-f]+(:[0-9a-f]+)+$/.test(l));
  expect(lines.length).toBe(2);
  expect(lines[1]).toBe(lines[0]!);
  expect(e.T(["rm", "-f", "x"]).code).toBe(0);
}, 60_000);

test("run -it / exec -it with a pipe as stdin: 'the input device is not a TTY', exit 1, nothing created; -t alone or -i alone go on", () => {
  const r = e.T(["run", "-it", "--name", "p", "busybox", "echo", "hi"], "x\n");
  expect(r.stderr).toBe("Error: the input device is not a TTY\n");
  expect(r.code).toBe(1);
  expect(e.T(["ps", "-aq", "--filter", "name=p"]).stdout).toBe("");
  expect(e.T(["run", "--rm", "-i", "busybox", "cat"], "x\n").stdout).toBe("x\n");
  expect(e.T(["run", "--rm", "-t", "busybox", "echo", "hi"], "x\n").code).toBe(0);
  expect(e.T(["run", "-d", "--name", "q", "busybox", "sleep", "60"]).code).toBe(0);
  const x = e.T(["exec", "-it", "q", "echo", "hi"], "x\n");
  expect(x.stderr).toBe("Error: the input device is not a TTY\n");
  expect(x.code).toBe(1);
  expect(e.T(["exec", "-i", "q", "cat"], "y\n").stdout).toBe("y\n");
  expect(e.T(["rm", "-f", "q"]).code).toBe(0);
}, 60_000);

test("run -it: the terminal is the container's own (/dev/pts/0, its controlling tty), sized before the command starts", () => {
  const r = shOnPty(`"$TD" run -it --rm busybox sh -c 'tty; stty size; ls -l /proc/self/fd/0; cat /proc/self/stat | cut -d" " -f7'`);
  expect(r.out).toContain("/dev/pts/0\n33 101\n");
  expect(r.out).toMatch(/\/proc\/self\/fd\/0 -> \/dev\/pts\/0\n/);
  // tty_nr of the container's own devpts: major 136, minor 0.
  expect(r.out).toContain(`\n${136 << 8}\n`);
  // -u: the command's user owns its terminal (runc's fixStdioPermissions), the group kept.
  const u = shOnPty(`"$TD" run -it --rm -u 1000 busybox sh -c 'stat -c "%u %g %a" $(tty)'`);
  expect(u.out).toContain("1000 5 620\n");
}, 60_000);

test("exec -t: a terminal of the container's devpts passed back through the console socket, sized from the caller's; from a pipe too", () => {
  expect(e.T(["run", "-d", "--name", "xt", "busybox", "sleep", "60"]).code).toBe(0);
  try {
    const script = `tty; stty size; ls -l /proc/self/fd/1; cut -d" " -f7 /proc/self/stat`;
    const r = shOnPty(`"$TD" exec -t xt sh -c '${script}'; echo "code=$?"`);
    const m = /(\/dev\/pts\/(\d+))\n33 101\n/.exec(r.out);
    expect(m).not.toBeNull();
    expect(r.out).toContain(`/proc/self/fd/1 -> ${m![1]}\n`);
    // Its controlling terminal: tty_nr is that pty of the container's devpts (major 136).
    expect(r.out).toContain(`\n${(136 << 8) | Number(m![2])}\n`);
    expect(r.out).toContain("code=0");
    // No terminal on the caller's side: still one in the container, Docker's 24x80.
    const p = e.T(["exec", "-t", "xt", "sh", "-c", script]);
    expect(p.stderr).toBe("");
    expect(p.code).toBe(0);
    expect(p.stdout.replace(/\r/g, "")).toMatch(/^\/dev\/pts\/\d+\n24 80\n/);
  } finally {
    e.T(["rm", "-f", "xt"]);
  }
}, 60_000);

test("run -dit: the container's own /dev/pts/0, 24x80 from a pipe (Docker's default), the caller's size from a terminal; logs and attach as before", async () => {
  const rd = e.T(["run", "-dit", "--name", "d", "busybox", "sh", "-c", "tty; stty size; exec sh"]);
  expect(rd.stderr).toBe("");
  expect(rd.code).toBe(0);
  await until("logged", () => e.T(["logs", "d"]).stdout.includes("24 80"), 5000, 50);
  expect(e.T(["logs", "d"]).stdout).toStartWith("/dev/pts/0\r\n24 80\r\n");
  const a = onPty(e.inNs([BINARY, "attach", "d"]), [{ afterMs: 700, send: "stty size; exit 5\r" }], cliEnv(e.env));
  expect(a.out).toContain("33 101\n");
  expect(a.code).toBe(5);
  expect(e.T(["rm", "-f", "d"]).code).toBe(0);
  const t = shOnPty(`"$TD" run -dit --name s busybox sh -c 'stty size; exec sleep 60'`);
  expect(t.code).toBe(0);
  await until("logged", () => e.T(["logs", "s"]).stdout.includes("\n"), 5000, 50);
  expect(e.T(["logs", "s"]).stdout).toBe("33 101\r\n");
  // exec -it beside it: a terminal of its own in the same devpts.
  const x = shOnPty(`"$TD" exec -it s tty`);
  expect(x.out).toContain("/dev/pts/1\n");
  expect(e.T(["rm", "-f", "s"]).code).toBe(0);
}, 90_000);

test("run -dit with a restart policy: every start gets a terminal of its new devpts, logged", async () => {
  expect(e.T(["run", "-dit", "--name", "r", "--restart", "on-failure:1", "busybox", "sh", "-c", "tty; stty size; exit 3"]).code).toBe(0);
  await until("restarted once and exited", () => e.T(["inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "r"]).stdout.trim() === "exited 1", 10_000, 100);
  expect(e.T(["logs", "r"]).stdout).toBe("/dev/pts/0\r\n24 80\r\n/dev/pts/0\r\n24 80\r\n");
  expect(e.T(["rm", "-f", "r"]).code).toBe(0);
}, 60_000);

