// The number of arguments of every command, as Docker's CLI checks it (cobra's Args: cli.NoArgs,
// ExactArgs, RequiresMinArgs, RequiresMaxArgs, RequiresRangeArgs): its sentence, the help pointer and
// exit code 1 (a plain error; only flag errors are 125). A command missing from the table fails.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Io } from "../../../src/cli/command.ts";
import { GROUPS, runCli, VERBS } from "../../../src/cli/index.ts";

/** What each command takes, in cli/required.go's words ("no" = cli.NoArgs, "any" = no check). */
const TAKES: Record<string, string> = {
  run: "at least 1 argument",
  create: "at least 1 argument",
  start: "at least 1 argument",
  exec: "at least 2 arguments",
  ps: "no",
  inspect: "at least 1 argument",
  logs: "exactly 1 argument",
  attach: "exactly 1 argument",
  stop: "at least 1 argument",
  kill: "at least 1 argument",
  wait: "at least 1 argument",
  rm: "at least 1 argument",
  rename: "exactly 2 arguments",
  pause: "at least 1 argument",
  unpause: "at least 1 argument",
  top: "at least 1 argument",
  stats: "any",
  port: "at least 1 and at most 2 arguments",
  cp: "exactly 2 arguments",
  pull: "exactly 1 argument",
  push: "exactly 1 argument",
  save: "at least 1 argument",
  load: "no",
  export: "exactly 1 argument",
  import: "at least 1 argument",
  images: "at most 1 argument",
  rmi: "at least 1 argument",
  // podman's: several targets at once.
  tag: "at least 2 arguments",
  untag: "at least 1 argument",
  build: "exactly 1 argument",
  commit: "at least 1 and at most 2 arguments",
  diff: "exactly 1 argument",
  update: "at least 1 argument",
  login: "at most 1 argument",
  logout: "at most 1 argument",
  restart: "at least 1 argument",
  history: "exactly 1 argument",
  version: "no",
  info: "no",
  events: "no",
  "container prune": "no",
  "container cleanup": "exactly 1 argument",
  "container exists": "exactly 1 argument",
  "image mount": "exactly 1 argument",
  "image unmount": "exactly 1 argument",
  "image exists": "exactly 1 argument",
  "image prune": "no",
  "network create": "exactly 1 argument",
  "network ls": "no",
  "network inspect": "at least 1 argument",
  "network rm": "at least 1 argument",
  "network prune": "no",
  "network connect": "exactly 2 arguments",
  "network disconnect": "exactly 2 arguments",
  "volume create": "at most 1 argument",
  "volume ls": "no",
  "volume inspect": "at least 1 argument",
  "volume rm": "at least 1 argument",
  "volume prune": "no",
  "system prune": "no",
  "system df": "no",
  "system info": "no",
  "system events": "no",
  "pod create": "no",
  "pod ps": "no",
  "pod inspect": "at least 1 argument",
  "pod start": "at least 1 argument",
  "pod stop": "at least 1 argument",
  "pod restart": "at least 1 argument",
  "pod kill": "at least 1 argument",
  "pod rm": "at least 1 argument",
  "pod logs": "exactly 1 argument",
  "pod top": "at least 1 argument",
  "play kube": "exactly 1 argument",
  "generate kube": "at least 1 argument",
  "kube play": "exactly 1 argument",
  "kube generate": "at least 1 argument",
  "kube sync-services": "no",
};

/** Group verbs that are a top-level verb under another name take what it takes. */
const SAME_AS: Record<string, string> = { "container ls": "ps", "image ls": "images", "image rm": "rmi", "image build": "build" };

let dir: string;
const saved = { root: process.env.TINYDOCK_ROOT, config: process.env.TINYDOCK_CONFIG };
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-cli-arity-"));
  process.env.TINYDOCK_ROOT = path.join(dir, "root");
  process.env.TINYDOCK_CONFIG = path.join(dir, "none.json");
});
afterAll(() => {
  for (const [k, v] of Object.entries({ TINYDOCK_ROOT: saved.root, TINYDOCK_CONFIG: saved.config })) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), stdoutTty: false, stderrTty: false, readStdin: async () => "" };
  return { code: await runCli(args, io), out, err };
}

async function allPaths(): Promise<string[]> {
  const paths = Object.keys(VERBS);
  for (const [group, g] of Object.entries(GROUPS)) {
    for (const spec of await g.load()) {
      const word = (Array.isArray(spec.command) ? spec.command[0]! : spec.command).split(" ")[0]!;
      paths.push(`${group} ${word}`);
    }
  }
  return paths;
}

/** The wrong command lines for what a command takes: none, or one too many. */
function wrongLines(takes: string): string[][] {
  if (takes === "any") return [];
  if (takes === "no") return [["x"]];
  const most = /at most (\d+)/.exec(takes);
  const lines = most ? [Array.from({ length: Number(most[1]) + 1 }, (_, i) => `x${i}`)] : [];
  const least = /(?:exactly|at least) (\d+)/.exec(takes);
  if (least) lines.push([], ...(Number(least[1]) > 1 ? [["x"]] : []));
  if (/^exactly (\d+)/.test(takes)) lines.push(Array.from({ length: Number(least![1]) + 1 }, (_, i) => `x${i}`));
  return lines;
}

test("every command is in the table", async () => {
  const missing = (await allPaths()).filter((p) => !Object.hasOwn(TAKES, p) && !Object.hasOwn(SAME_AS, p) && !Object.hasOwn(TAKES, p.split(" ")[1]!));
  expect(missing).toEqual([]);
});

test("a wrong number of arguments: Docker's sentence, the help pointer, exit 1, for every command", async () => {
  const got: string[] = [];
  const want: string[] = [];
  for (const p of await allPaths()) {
    const takes = TAKES[p] ?? TAKES[SAME_AS[p] ?? p.split(" ")[1]!]!;
    for (const extra of wrongLines(takes)) {
      const line = [...p.split(" "), ...extra];
      const r = await cli(line);
      got.push(`${line.join(" ")} → ${r.code} ${r.err}${r.out}`);
      const sentence = takes === "no" ? "accepts no arguments." : `requires ${takes}.`;
      want.push(`${line.join(" ")} → 1 Error: "tinydock ${p}" ${sentence}\nSee 'tinydock ${p} --help'.\n`);
    }
  }
  expect(got).toEqual(want);
});

test("a flag error stays 125; an unknown command is 1", async () => {
  expect(await cli(["export", "--bogus", "c"])).toEqual({ code: 125, out: "", err: "Error: unknown flag: --bogus\nSee 'tinydock export --help'.\n" });
  expect(await cli(["bogus"])).toEqual({ code: 1, out: "", err: "Error: 'bogus' is not a tinydock command.\nSee 'tinydock --help'.\n" });
  expect(await cli(["network", "bogus"])).toMatchObject({ code: 1, err: "Error: 'bogus' is not a tinydock network command.\nSee 'tinydock network --help'.\n" });
});
