// stdin of detached containers: `run -d -i` keeps stdin open (a FIFO the monitor holds), `attach`
// forwards the caller's stdin into it until the detach keys, and `--no-stdin` leaves it alone.
import { expect, test } from "bun:test";
import { until, useE2e } from "../helpers/e2e.ts";

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
