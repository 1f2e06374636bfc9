// The command line as Docker reads it: arguments stay strings, a repeated single-value flag keeps
// its last value, list flags accumulate, and a wrong line gets pflag's/cobra's words, one
// `Error: …` line, a pointer to the help and exit code 125 (a wrong number of arguments: arity.test.ts).
// argv → parsed request or error + code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Io } from "../../../src/cli/command.ts";
import { GROUPS, parseWithYargs, runCli, VERBS } from "../../../src/cli/index.ts";
import { parsePsArgs } from "../../../src/cli/ps-args.ts";
import { parseRunArgs } from "../../../src/cli/run-args.ts";
import { splitRunArgs } from "../../../src/cli/split.ts";
import { RUN_BOOLEAN_FLAGS } from "../../../src/cli/commands/run.ts";
import { containerPaths, saveContainer, type ContainerRecord } from "../../../src/store/containers.ts";

let dir: string;
const saved = { root: process.env.TINYDOCK_ROOT, config: process.env.TINYDOCK_CONFIG };
beforeAll(() => {
  // runCli reads its root from the environment: a temp one, never the host's.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-cli-args-"));
  process.env.TINYDOCK_ROOT = path.join(dir, "root");
  process.env.TINYDOCK_CONFIG = path.join(dir, "none.json");
});
afterAll(() => {
  if (saved.root === undefined) delete process.env.TINYDOCK_ROOT;
  else process.env.TINYDOCK_ROOT = saved.root;
  if (saved.config === undefined) delete process.env.TINYDOCK_CONFIG;
  else process.env.TINYDOCK_CONFIG = saved.config;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), stdoutTty: false, stderrTty: false, readStdin: async () => "" };
  const code = await runCli(args, io);
  return { code, out, err };
}

describe("values stay strings", () => {
  const cases: [string[], string, unknown][] = [
    [["kill", "2421588714e3"], "containers", ["2421588714e3"]],
    [["stop", "0123", "1e3", "0x1f", "1.50"], "containers", ["0123", "1e3", "0x1f", "1.50"]],
    [["inspect", "1e3"], "names", ["1e3"]],
    [["rename", "1e3", "0123"], "name", "0123"],
    [["logs", "--since", "1e3", "--tail", "007", "0x10"], "tail", "007"],
    [["logs", "--since", "1e3", "--tail", "007", "0x10"], "since", "1e3"],
    [["logs", "--since", "1e3", "--tail", "007", "0x10"], "container", "0x10"],
    [["tag", "1e3", "x:0123"], "source", "1e3"],
    [["kill", "-s", "9", "c"], "signal", "9"],
    [["port", "1e3", "0080"], "privatePort", "0080"],
    [["network", "create", "--label", "1e3", "5e5"], "name", "5e5"],
    [["create", "--name", "1e3", "-e", "1e3", "busybox"], "name", "1e3"],
    [["create", "--name", "1e3", "-e", "1e3", "busybox"], "env", ["1e3"]],
  ];
  test.each(cases)("%p: %s", async (args, key, want) => {
    const parsed = await parseWithYargs(args);
    expect(parsed!.argv[key]).toEqual(want);
  });

  test("integer flags are numbers, checked", async () => {
    expect((await parseWithYargs(["stop", "-t", "007", "c"]))!.argv.time).toBe(7);
    expect((await parseWithYargs(["ps", "-n", "2"]))!.argv.last).toBe(2);
    expect((await parseWithYargs(["run", "--pids-limit", "-1", "busybox"]))!.argv["pids-limit"]).toBe(-1);
    expect((await parseWithYargs(["create", "-c", "512", "busybox"]))!.argv["cpu-shares"]).toBe(512);
  });

  test("no camelCase copies of dashed flags", async () => {
    const argv = (await parseWithYargs(["run", "--read-only", "--cap-add", "ALL", "busybox"]))!.argv;
    expect(Object.keys(argv).filter((k) => /[a-z][A-Z]/.test(k))).toEqual([]);
  });
});

describe("a repeated flag", () => {
  const cases: [string[], string, unknown][] = [
    [["run", "--name", "a", "--name", "b", "busybox"], "name", "b"],
    [["run", "-w", "/a", "--workdir", "/b", "busybox"], "workdir", "/b"],
    [["run", "-e", "A=1", "-e", "B=2", "--env=C", "busybox"], "env", ["A=1", "B=2", "C"]],
    [["run", "-p", "80", "-p", "81:81", "-v", "/a:/a", "-v", "/b:/b", "busybox"], "publish", ["80", "81:81"]],
    [["run", "-l", "a=1", "--label", "b=2", "busybox"], "label", ["a=1", "b=2"]],
    [["create", "--pids-limit", "5", "--pids-limit", "6", "busybox"], "pids-limit", 6],
    [["stop", "-t", "1", "--time", "2", "c"], "time", 2],
    [["ps", "--format", "a", "--format", "b"], "format", "b"],
    [["logs", "--tail", "1", "--tail", "2", "c"], "tail", "2"],
    [["network", "create", "--subnet", "10.9.0.0/24", "--subnet", "10.8.0.0/24", "n"], "subnet", "10.8.0.0/24"],
  ];
  test.each(cases)("%p: %s", async (args, key, want) => {
    const parsed = await parseWithYargs(args[0] === "run" ? splitRunArgs(args, "run", RUN_BOOLEAN_FLAGS)!.head : args);
    expect(parsed!.argv[key]).toEqual(want);
    // The yargs-free readers, where they read the line, agree.
    if (args[0] === "run") expect(parseRunArgs(splitRunArgs(args, "run", RUN_BOOLEAN_FLAGS)!.head)?.[key]).toEqual(want);
    if (args[0] === "ps") expect(parsePsArgs(args)?.[key]).toEqual(want);
  });
});

describe("a wrong flag: one Error line, the help pointer, 125", () => {
  const cases: [string[], string][] = [
    [["run", "--bogus", "busybox"], "unknown flag: --bogus\nSee 'tinydock run --help'."],
    [["run", "-z", "busybox"], "unknown shorthand flag: 'z' in -z\nSee 'tinydock run --help'."],
    [["run", "-itz", "busybox"], "unknown shorthand flag: 'z' in -itz\nSee 'tinydock run --help'."],
    [["create", "--health-bogus", "true", "busybox"], "unknown flag: --health-bogus\nSee 'tinydock create --help'."],
    [["--bogus", "ps"], "unknown flag: --bogus\nSee 'tinydock --help'."],
    [["ps", "--bogus"], "unknown flag: --bogus\nSee 'tinydock ps --help'."],
    [["network", "create", "--bogus", "n"], "unknown flag: --bogus\nSee 'tinydock network create --help'."],
    [["stop", "-t"], "flag needs an argument: 't' in -t\nSee 'tinydock stop --help'."],
    [["logs", "--tail"], "flag needs an argument: --tail\nSee 'tinydock logs --help'."],
    [["stop", "-t", "x", "c"], `invalid argument "x" for "-t, --time" flag: not an integer\nSee 'tinydock stop --help'.`],
    [["ps", "-n", "x"], `invalid argument "x" for "-n, --last" flag: not an integer\nSee 'tinydock ps --help'.`],
    [["run", "--pids-limit", "1e3", "busybox"], `invalid argument "1e3" for "--pids-limit" flag: not an integer\nSee 'tinydock run --help'.`],
  ];
  test.each(cases)("%p", async (args, want) => {
    const r = await cli(args);
    expect({ code: r.code, err: r.err, out: r.out }).toEqual({ code: 125, err: `Error: ${want}\n`, out: "" });
  });

  test("run -w relative: Docker's daemon message, 125, before anything is made", async () => {
    const r = await cli(["run", "-w", "rel", "busybox", "true"]);
    expect({ code: r.code, err: r.err }).toEqual({ code: 125, err: "Error: the working directory 'rel' is invalid, it needs to be an absolute path\n" });
    expect((await cli(["create", "--workdir=./x", "busybox"])).err).toBe("Error: the working directory './x' is invalid, it needs to be an absolute path\n");
    expect(fs.existsSync(path.join(process.env.TINYDOCK_ROOT!, "containers"))).toBe(false);
  });
});

describe("ids and names that look like numbers find their container", () => {
  const record = (id: string, name: string): ContainerRecord => ({
    id,
    name,
    image: "busybox",
    imageId: `sha256:${"0".repeat(64)}`,
    created: new Date(0).toISOString(),
    args: ["true"],
    hostname: id.slice(0, 12),
    state: { status: "exited", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
  });
  const containers = [
    record(`2421588714e3${"a".repeat(52)}`, "first"),
    record(`0123${"b".repeat(60)}`, "1e3"),
    record(`5e5${"c".repeat(61)}`, "0x1f"),
  ];

  test.each([
    ["2421588714e3", "first"],
    ["0123", "1e3"],
    ["1e3", "1e3"],
    ["5e5", "0x1f"],
    ["0x1f", "0x1f"],
  ])("%p → %p", async (ref, name) => {
    for (const c of containers) {
      fs.mkdirSync(containerPaths(process.env.TINYDOCK_ROOT!, c.id).dir, { recursive: true });
      saveContainer(process.env.TINYDOCK_ROOT!, c);
    }
    // `port` resolves the reference and prints the (empty) port list: 0 when found.
    const r = await cli(["port", ref]);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: "" });
    const parsed = await parseWithYargs(["inspect", ref]);
    const { matchContainer } = await import("../../../src/store/containers.ts");
    expect(matchContainer(containers, String((parsed!.argv.names as unknown[])[0]))?.name).toBe(name);
  });
});

test("every verb and group of the table loads its spec under its own name", async () => {
  for (const [verb, load] of Object.entries(VERBS)) {
    const spec = await load();
    expect(String(spec.command).split(" ")[0]).toBe(verb);
  }
  for (const g of Object.values(GROUPS)) expect((await g.load()).length).toBeGreaterThan(0);
});

describe("a boolean flag's value after `=`: Go's ParseBool, as pflag reads it", () => {
  const TRUE = ["1", "t", "T", "TRUE", "true", "True"];
  const FALSE = ["0", "f", "F", "FALSE", "false", "False"];

  test("its true and false words, long and one-letter, on every verb yargs reads", async () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const [v, b] of [...TRUE.map((v) => [v, true] as const), ...FALSE.map((v) => [v, false] as const)]) {
      for (const line of [["rm", `--force=${v}`, "x"], ["rm", `-vf=${v}`, "x"], ["kube", "play", `--down=${v}`, "f.yaml"], ["run", `--rm=${v}`, "-e", "A=1", "busybox"]]) {
        const argv = (await parseWithYargs(line))!.argv;
        const key = line[1] === "play" ? "down" : line[0] === "run" ? "rm" : "force";
        got.push(`${line.join(" ")} → ${argv[key]}${key === "force" ? ` ${argv.f}` : ""}`);
        want.push(`${line.join(" ")} → ${b}${key === "force" ? ` ${b}` : ""}`);
      }
    }
    expect(got).toEqual(want);
  });

  test("any other value is pflag's error, exit 125", async () => {
    expect(await cli(["rm", "--force=maybe", "x"])).toEqual({
      code: 125,
      out: "",
      err: `Error: invalid argument "maybe" for "-f, --force" flag: strconv.ParseBool: parsing "maybe": invalid syntax\nSee 'tinydock rm --help'.\n`,
    });
    expect(await cli(["rm", "-f=yes", "x"])).toMatchObject({ code: 125, err: expect.stringContaining(`invalid argument "yes" for "-f, --force" flag`) });
    expect(await cli(["kube", "play", "--down=maybe", "f.yaml"])).toMatchObject({
      code: 125,
      err: `Error: invalid argument "maybe" for "--down" flag: strconv.ParseBool: parsing "maybe": invalid syntax\nSee 'tinydock kube play --help'.\n`,
    });
    expect(await cli(["run", "--rm=", "busybox"])).toMatchObject({ code: 125, err: expect.stringContaining(`invalid argument "" for "--rm" flag: strconv.ParseBool: parsing "": invalid syntax`) });
    expect(await cli(["ps", "--all=2"])).toMatchObject({ code: 125, err: expect.stringContaining(`invalid argument "2" for "-a, --all" flag`) });
    // A value flag's value is whatever follows it, as pflag reads it: not a boolean flag's.
    expect((await parseWithYargs(["run", "-e", "--rm=maybe", "busybox"]))!.argv.rm).toBe(false);
  });
});

test("a lone - argument stays \"-\" (yargs reads it as true or \"\")", async () => {
  const argv = async (line: string[]) => (await parseWithYargs(line))!.argv;
  expect((await argv(["cp", "a:/x", "-"])).dest).toBe("-");
  expect((await argv(["cp", "-", "a:/x"])).src).toBe("-");
  expect((await argv(["import", "-", "repo"])).file).toBe("-");
  // A tar stream, never a file named "true": the container is looked up.
  expect(await cli(["cp", "nosuch:/etc/hostname", "-"])).toMatchObject({ code: 1, err: "Error: No such container: nosuch\n" });
});
