// The caller's terminal and session (TIOCSTI class): `run` and `exec` without -t, started from a
// terminal, must not hand that terminal to the container, nor leave it in the caller's session;
// else it queues keystrokes into the caller's shell (ioctl TIOCSTI), opens /dev/tty, or signals the
// caller's process group. Each case runs the CLI on a pty of its own (util-linux `script`), with
// test/helpers/tty-probe.c in the container reporting what it could reach.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { recordCases } from "../helpers/adversarial.ts";
import { busyboxEnv, type BusyboxEnv } from "../helpers/busybox-env.ts";
import { BINARY } from "../helpers/cli.ts";

let b: BusyboxEnv;
let probe: string;
const names: string[] = [];

beforeAll(async () => {
  b = await busyboxEnv("td-term-");
  probe = b.helper("tty-probe");
});

afterAll(async () => {
  for (const n of names) Bun.spawnSync([BINARY, "rm", "-f", n], { env: b.vars, stdout: "ignore", stderr: "ignore" });
  await b?.close();
});

/** `cmd` (a shell command line) on a new pty, the `input` typed into it. */
function onPty(cmd: string, input?: string): { code: number; out: string } {
  const r = Bun.spawnSync(["script", "-qec", cmd, "/dev/null"], {
    env: b.vars,
    stdin: input === undefined ? "ignore" : new TextEncoder().encode(input),
    stdout: "pipe",
    stderr: "pipe",
    timeout: 60_000,
  });
  return { code: r.exitCode ?? -1, out: r.stdout.toString().replace(/\r/g, "") + r.stderr.toString() };
}

const td = (args: string) => `${BINARY} ${args}`;
const mountProbe = () => `-v ${probe}:/probe:ro`;

/** The probe's line: nothing of the terminal reachable, and a session of its own. */
function expectSealed(out: string): void {
  const m = /tty=(\d),(\d),(\d) sti=(\S+),(\S+),(\S+) devtty=(\S+) leader=(\d)/.exec(out);
  expect(m, out).not.toBeNull();
  const [, t0, t1, t2, s0, s1, s2, devtty, leader] = m!;
  expect({ tty: [t0, t1, t2], tiocsti: [s0, s1, s2].filter((s) => s === "ok").length, devtty, leader }).toEqual({
    tty: ["0", "0", "0"],
    tiocsti: 0,
    devtty: expect.not.stringMatching(/^ok$/),
    leader: "1",
  });
  // fds 0-2 × (a terminal?, TIOCSTI) + /dev/tty + the session
  recordCases("terminal and session of the caller", 8);
}

test("run without -i from a terminal: no terminal fd, no TIOCSTI, no /dev/tty, a session of its own; output and exit code flow", () => {
  const r = onPty(td(`run --rm --network none ${mountProbe()} busybox /probe 3`));
  expectSealed(r.out);
  expect(r.code).toBe(3);
});

test("run -i from a terminal: stdin is forwarded through a pipe, not the terminal", () => {
  const r = onPty(td(`run --rm -i --network none ${mountProbe()} busybox sh -c 'read l; echo got:$l; exec /probe 4'`), "hello\n");
  expect(r.out).toContain("got:hello");
  expectSealed(r.out);
  expect(r.code).toBe(4);
});

test("start -a from a terminal: the monitor's pipes, and a session of its own", () => {
  names.push("td-term-start");
  const c = Bun.spawnSync([BINARY, "create", "--name", "td-term-start", "--network", "none", "-v", `${probe}:/probe:ro`, "busybox", "/probe", "7"], { env: b.vars, stderr: "pipe" });
  expect(c.exitCode, c.stderr.toString()).toBe(0);
  const r = onPty(td("start -a td-term-start"));
  expectSealed(r.out);
  expect(r.code).toBe(7);
});

test("exec and exec -i from a terminal: no terminal fd, a session of its own; stdin, output and exit codes flow", () => {
  names.push("td-term-exec");
  const d = Bun.spawnSync([BINARY, "run", "-d", "--name", "td-term-exec", "--network", "none", "-v", `${probe}:/probe:ro`, "busybox", "sleep", "300"], { env: b.vars, stderr: "pipe" });
  expect(d.exitCode, d.stderr.toString()).toBe(0);
  const plain = onPty(td("exec td-term-exec /probe 5"));
  expectSealed(plain.out);
  expect(plain.code).toBe(5);
  const interactive = onPty(td("exec -i td-term-exec sh -c 'read l; echo got:$l; exec /probe 6'"), "world\n");
  expect(interactive.out).toContain("got:world");
  expectSealed(interactive.out);
  expect(interactive.code).toBe(6);
});

test("without a terminal the container gets the caller's fds themselves (no copying), and -i forwards a pipe", () => {
  // The same pipe on both sides: the shell's fd 1 and the container's.
  const same = Bun.spawnSync(["sh", "-c", `readlink /proc/$$/fd/1; exec ${td("run --rm --network none busybox sh -c 'readlink /proc/self/fd/1; exit 9'")}`], { env: b.vars, stdout: "pipe", stderr: "pipe" });
  const [outer, inner] = same.stdout.toString().trim().split("\n");
  expect(outer).toMatch(/^(pipe|socket):\[\d+\]$/); // Bun.spawn pipes are socketpairs
  expect(inner).toBe(outer);
  expect(same.exitCode).toBe(9);
  const piped = Bun.spawnSync([BINARY, "run", "--rm", "-i", "--network", "none", "busybox", "sh", "-c", "read l; echo got:$l"], { env: b.vars, stdin: new TextEncoder().encode("piped\n"), stdout: "pipe", stderr: "pipe" });
  expect(piped.stdout.toString()).toBe("got:piped\n");
  expect(piped.exitCode).toBe(0);
});
