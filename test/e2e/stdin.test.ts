// stdin of detached containers: `run -d -i` keeps stdin open (a FIFO the monitor holds), `attach`
// forwards the caller's stdin into it until the detach keys, and `--no-stdin` leaves it alone.
// `run -dit` keeps a terminal the monitor holds: `attach` from a terminal types into it (raw, the
// window size passed on), `exec -it` works beside it, `logs` shows what it showed.
import { expect, test } from "bun:test";
import { BINARY, cliEnv } from "../helpers/cli.ts";
import { until, useE2e } from "../helpers/e2e.ts";
import { onPty, type PtyStep } from "../helpers/pty.ts";

const e = useE2e({ prefix: "td-stdin-e2e-" });

test("run -d -i keeps cat alive; attach sends piped input, detaches on ctrl-p,ctrl-q; logs show it", async () => {
  expect(e.T(["run", "-d", "-i", "--name", "c", "busybox", "cat"]).code).toBe(0);
  await Bun.sleep(300);
  expect(e.T(["inspect", "-f", "{{.State.Status}}", "c"]).stdout.trim()).toBe("running");
  const a = e.T(["attach", "c"], "hello\nworld\n\x10\x11");
  expect(a.code).toBe(0);
  expect(a.stderr).toContain("read escape sequence");
  await until("echoed in logs", () => e.T(["logs", "c"]).stdout === "hello\nworld\n", 5000, 50);
  // Again with other keys, and with --no-stdin nothing goes in.
  expect(e.T(["attach", "--detach-keys", "ctrl-x", "c"], "again\n\x18").code).toBe(0);
  await until("second input", () => e.T(["logs", "c"]).stdout === "hello\nworld\nagain\n", 5000, 50);
  const ns = e.spawn(["attach", "--no-stdin", "c"]);
  await Bun.sleep(500);
  ns.kill("SIGKILL");
  await ns.exited;
  expect(e.T(["logs", "c"]).stdout).toBe("hello\nworld\nagain\n");
  expect(e.T(["attach", "--detach-keys", "ctrl-", "c"]).stderr).toContain("Invalid detach keys (ctrl-) provided");
  expect(e.T(["rm", "-f", "c"]).code).toBe(0);
}, 60_000);

test("without -i a detached container's stdin is at EOF: cat ends at once", async () => {
  expect(e.T(["run", "-d", "--name", "n", "busybox", "cat"]).code).toBe(0);
  await until("exited", () => e.T(["inspect", "-f", "{{.State.Status}}", "n"]).stdout.trim() === "exited", 5000, 50);
  expect(e.T(["rm", "n"]).code).toBe(0);
}, 30_000);

/** The binary on a pty of its own, in the test's namespace. */
const tdOnPty = (args: string[], steps: PtyStep[], waitMs?: number) => onPty(e.inNs([BINARY, ...args]), steps, cliEnv(e.env), waitMs);
const status = (name: string) => e.T(["inspect", "-f", "{{.State.Status}}", name]).stdout.trim();

test("run -dit busybox sh: stays up; attach from a terminal runs commands at its size, ctrl-p,ctrl-q leaves it running", async () => {
  expect(e.T(["run", "-dit", "--name", "t", "busybox", "sh"]).code).toBe(0);
  await Bun.sleep(300);
  expect(status("t")).toBe("running");
  const a = tdOnPty(["attach", "t"], [{ afterMs: 700, send: "echo hi-$((6*7)); stty size\r" }, { expect: "33 101", send: "\x10\x11" }]);
  expect(a.out).toContain("hi-42\n33 101\n");
  expect(a.out).toContain("read escape sequence");
  expect(a.code).toBe(0);
  expect(status("t")).toBe("running");
  // logs: what its terminal showed, the typed line echoed.
  await until("logged", () => e.T(["logs", "t"]).stdout.includes("hi-42\r\n33 101\r\n"), 5000, 50);
  // exec -it beside it: a terminal of its own.
  const x = tdOnPty(["exec", "-it", "t", "sh"], [{ expect: "# ", send: "echo in-$((2+3)); exit 3\r" }]);
  expect(x.out).toContain("in-5\n");
  expect(x.code).toBe(3);
  // Attached again, `exit` ends the container: attach returns its code.
  const b = tdOnPty(["attach", "t"], [{ afterMs: 700, send: "exit 4\r" }]);
  expect(b.code).toBe(4);
  await until("exited", () => status("t") === "exited", 5000, 50);
  expect(e.T(["rm", "t"]).code).toBe(0);
}, 90_000);

test("attach to a -t container: --detach-keys, ctrl-c is the container's; from a pipe as Docker, 'the input device is not a TTY' unless --no-stdin", async () => {
  expect(e.T(["run", "-dit", "--name", "k", "busybox", "sh"]).code).toBe(0);
  await Bun.sleep(300);
  // ctrl-c goes to the terminal as a byte (raw mode): sleep is interrupted, attach and the shell stay.
  const a = tdOnPty(["attach", "--detach-keys", "ctrl-x,x", "k"], [{ afterMs: 700, send: "sleep 30\r" }, { expect: "sleep 30\n", afterMs: 300, send: "\x03" }, { send: "echo back\r" }, { expect: "back\n", send: "\x18x" }]);
  expect(a.out).toContain("back\n");
  expect(a.code).toBe(0);
  expect(status("k")).toBe("running");
  const p = e.T(["attach", "k"], "echo no\n");
  expect(p.code).toBe(1);
  expect(p.stderr).toBe("Error: the input device is not a TTY\n");
  const ns = e.spawn(["attach", "--no-stdin", "k"]);
  await Bun.sleep(500);
  ns.kill("SIGTERM"); // no --sig-proxy with a TTY: attach ends, the container does not
  await ns.exited;
  await Bun.sleep(200);
  expect(status("k")).toBe("running");
  expect(e.T(["rm", "-f", "k"]).code).toBe(0);
}, 60_000);

test("attach --sig-proxy: without a TTY the caller's signals go to the container; --sig-proxy=false keeps them", async () => {
  const loop = ["sh", "-c", "trap 'echo got-int; exit 7' INT; while :; do sleep 0.1; done"];
  expect(e.T(["run", "-d", "-i", "--name", "s", "busybox", ...loop]).code).toBe(0);
  await Bun.sleep(300);
  const off = e.spawn(["attach", "--sig-proxy=false", "s"]);
  await Bun.sleep(700);
  off.kill("SIGINT");
  await off.exited;
  await Bun.sleep(300);
  expect(status("s")).toBe("running");
  const on = e.spawn(["attach", "s"]);
  await Bun.sleep(700);
  on.kill("SIGINT");
  expect(await on.exited).toBe(7);
  expect(await new Response(on.stdout).text()).toBe("got-int\n");
  expect(e.T(["rm", "s"]).code).toBe(0);
}, 60_000);

test("run -d -i, attach from a terminal (cooked, as Docker without -t): lines typed reach cat; ctrl-c with --sig-proxy=false ends only attach", async () => {
  expect(e.T(["run", "-d", "-i", "--name", "p", "busybox", "cat"]).code).toBe(0);
  await Bun.sleep(300);
  const a = tdOnPty(["attach", "--sig-proxy=false", "p"], [{ afterMs: 700, send: "typed\r" }, { expect: "typed\ntyped\n", send: "\x03" }]);
  expect(a.out).toStartWith("typed\ntyped\n"); // the terminal's echo, then cat's through the log
  expect(a.code).toBe(-2); // killed by the SIGINT, as Docker's CLI with --sig-proxy=false
  expect(status("p")).toBe("running");
  expect(e.T(["logs", "p"]).stdout).toBe("typed\n");
  expect(e.T(["rm", "-f", "p"]).code).toBe(0);
}, 60_000);
