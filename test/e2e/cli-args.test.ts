// The command line as Docker reads it, with real containers: names that look like numbers (`1e3`,
// `0123`, `0x1f`) are names — a container made with one is found, stopped and removed by it; a
// repeated --name keeps the last; a relative -w is refused before anything is made; a wrong line
// is one Error line with the help pointer and 125 for a flag, 1 for the number of arguments. (A short id of numeric shape is resolved in
// test/unit/cli/args.test.ts on records with chosen ids: a random id has that shape too rarely.)
// Containers use --network none, so no network namespace is needed; everything made is removed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CliEnv } from "../helpers/cli.ts";
import { startE2e, type E2e } from "../helpers/e2e.ts";
import { findLeaks } from "../helpers/leakcheck.ts";

let e: E2e | undefined;
let env: CliEnv;
let T: E2e["T"];
const ids = new Set<string>();

beforeAll(async () => {
  e = await startE2e({ prefix: "td-cli-args-", rootName: "tinydock-root", netns: false });
  ({ env, T } = e);
}, 120_000);

afterAll(async () => {
  if (!e) return;
  const left = T(["ps", "-aq", "--no-trunc"]).stdout.split("\n").filter(Boolean);
  for (const id of left) ids.add(id);
  if (left.length) T(["rm", "-f", ...left]);
  const leaks = [...ids].flatMap((id) => findLeaks(id.slice(0, 12)));
  leaks.push(...findLeaks(e.dir));
  await e.stop();
  expect(leaks).toEqual([]);
});

describe("names that look like numbers", () => {
  for (const name of ["1e3", "0123", "0x1f"]) {
    test(`"${name}": run -d, inspect, stop, start, kill, rm by that name`, () => {
      const run = T(["run", "-d", "--network", "none", "--name", name, "busybox", "sleep", "300"]);
      expect(run.code).toBe(0);
      const id = run.stdout.trim();
      ids.add(id);
      expect(T(["inspect", "-f", "{{.Name}} {{.Id}}", name]).stdout).toBe(`/${name} ${id}\n`);
      expect(T(["ps", "--filter", `name=^/${name}$`, "--format", "{{.Names}}"]).stdout).toBe(`${name}\n`);
      const stop = T(["stop", "-t", "1", name]);
      expect({ code: stop.code, out: stop.stdout, err: stop.stderr }).toEqual({ code: 0, out: `${name}\n`, err: "" });
      expect(T(["start", name]).code).toBe(0);
      const kill = T(["kill", name]);
      expect({ code: kill.code, out: kill.stdout }).toEqual({ code: 0, out: `${name}\n` });
      expect(T(["wait", name]).stdout).toBe("137\n");
      const rm = T(["rm", name]);
      expect({ code: rm.code, out: rm.stdout, err: rm.stderr }).toEqual({ code: 0, out: `${name}\n`, err: "" });
      expect(T(["inspect", name]).code).toBe(1);
    }, 60_000);
  }
});

test("a repeated --name keeps the last; repeated -e accumulate", () => {
  const create = T(["create", "--network", "none", "--name", "first", "--name", "second", "-e", "A=1", "-e", "B=2", "busybox", "true"]);
  expect({ code: create.code, err: create.stderr }).toEqual({ code: 0, err: "" });
  ids.add(create.stdout.trim());
  expect(T(["inspect", "-f", "{{.Name}}", "second"]).stdout).toBe("/second\n");
  expect(T(["inspect", "first"]).code).toBe(1);
  expect(T(["rm", "second"]).code).toBe(0);
  const env = T(["run", "--rm", "--network", "none", "-e", "A=1", "-e", "B=2", "--hostname", "h1", "-h", "h2", "busybox", "sh", "-c", "echo $A $B $(hostname)"]);
  expect({ code: env.code, out: env.stdout }).toEqual({ code: 0, out: "1 2 h2\n" });
}, 60_000);

test("run -w relative: Docker's message, 125, no container", () => {
  const before = T(["ps", "-aq"]).stdout;
  const r = T(["run", "--rm", "--network", "none", "-w", "rel", "busybox", "pwd"]);
  expect({ code: r.code, out: r.stdout, err: r.stderr }).toEqual({
    code: 125,
    out: "",
    err: "Error: the working directory 'rel' is invalid, it needs to be an absolute path\n",
  });
  expect(T(["ps", "-aq"]).stdout).toBe(before);
  expect(T(["run", "--rm", "--network", "none", "-w", "/abs/dir", "busybox", "pwd"]).stdout).toBe("/abs/dir\n");
}, 60_000);

test.each([
  [["run", "--bogus", "busybox"], "Error: unknown flag: --bogus\nSee 'tinydock run --help'.\n"],
  [["run", "-z", "busybox", "true"], "Error: unknown shorthand flag: 'z' in -z\nSee 'tinydock run --help'.\n"],
  [["--bogus", "ps"], "Error: unknown flag: --bogus\nSee 'tinydock --help'.\n"],
  [["create", "--health-bogus", "true", "busybox"], "Error: unknown flag: --health-bogus\nSee 'tinydock create --help'.\n"],
  [["stop", "-t"], "Error: flag needs an argument: 't' in -t\nSee 'tinydock stop --help'.\n"],
  [["ps", "-n", "x"], `Error: invalid argument "x" for "-n, --last" flag: not an integer\nSee 'tinydock ps --help'.\n`],
])("%p: one Error line and the help pointer, 125", (args, err) => {
  const r = T(args as string[]);
  expect({ code: r.code, out: r.stdout, err: r.stderr }).toEqual({ code: 125, out: "", err: err as string });
});

test.each([
  [["stop"], `Error: "tinydock stop" requires at least 1 argument.\nSee 'tinydock stop --help'.\n`],
  [["export"], `Error: "tinydock export" requires exactly 1 argument.\nSee 'tinydock export --help'.\n`],
  [["container", "exec", "c"], `Error: "tinydock container exec" requires at least 2 arguments.\nSee 'tinydock container exec --help'.\n`],
  [["images", "a", "b"], `Error: "tinydock images" requires at most 1 argument.\nSee 'tinydock images --help'.\n`],
  [["bogus"], "Error: 'bogus' is not a tinydock command.\nSee 'tinydock --help'.\n"],
])("%p: the wrong number of arguments is cobra's plain error, exit 1 as Docker's", (args, err) => {
  const r = T(args as string[]);
  expect({ code: r.code, out: r.stdout, err: r.stderr }).toEqual({ code: 1, out: "", err: err as string });
});

test("tinydock and tinydock network alone print their help, exit 0", () => {
  for (const args of [[], ["network"]]) {
    const r = T(args);
    expect({ code: r.code, usage: r.stdout.includes("Commands:"), err: r.stderr }).toEqual({ code: 0, usage: true, err: "" });
  }
});

test("a command that cannot be found: Error line and 127 from run and exec", () => {
  const r = T(["run", "--rm", "--network", "none", "busybox", "no-such-command"]);
  expect({ code: r.code, err: r.stderr }).toEqual({ code: 127, err: 'Error: exec: "no-such-command": executable file not found in $PATH\n' });
  const run = T(["run", "-d", "--network", "none", "--name", "exec-target", "busybox", "sleep", "300"]);
  ids.add(run.stdout.trim());
  const e = T(["exec", "exec-target", "no-such-command"]);
  expect({ code: e.code, err: e.stderr }).toEqual({ code: 127, err: 'Error: exec: "no-such-command": executable file not found in $PATH\n' });
  expect(T(["rm", "-f", "exec-target"]).code).toBe(0);
}, 60_000);
