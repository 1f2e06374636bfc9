// Start-up stays lazy: the commonest lines (`run …`, `ps …`) never evaluate yargs (10-15 ms of a
// start), while a verb the fast readers leave alone does. Each line runs in a fresh bun process
// that counts yargs' modules in its module registry afterwards.
import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-cli-lazy-"));
const probe = path.join(dir, "probe.ts");
fs.writeFileSync(
  probe,
  `import { runCli } from ${JSON.stringify(path.resolve(import.meta.dir, "../../../src/cli/index.ts"))};
const io = { out: () => {}, err: () => {}, stdoutTty: false, stderrTty: false, readStdin: async () => "" };
const code = await runCli(process.argv.slice(2), io);
const yargs = Object.keys(require.cache).filter((k) => k.includes("/node_modules/yargs")).length;
console.log(JSON.stringify({ code, yargs }));
`,
);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function probeLine(args: string[]): { code: number; yargs: number } {
  const r = Bun.spawnSync(["bun", probe, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TINYDOCK_ROOT: path.join(dir, "root"), TINYDOCK_CONFIG: path.join(dir, "none.json") },
    stdout: "pipe",
    stderr: "pipe",
  });
  return JSON.parse(r.stdout.toString());
}

test.each([
  [["ps"], 0],
  [["ps", "-a", "--format", "json", "-n", "3"], 0],
  // Fails in buildRunRequest, before any pull: the run path up to there, without yargs.
  [["run", "--rm", "-e", "A=1", "--name", "x", "--name", "y", "-w", "rel", "busybox", "true"], 125],
  [["run", "-c", "512", "-w", "rel", "busybox"], 125],
])("%p: no yargs", (args, code) => {
  expect(probeLine(args as string[])).toEqual({ code: code as number, yargs: 0 });
});

test("the probe sees yargs when it is loaded", () => {
  expect(probeLine(["images"]).yargs).toBeGreaterThan(0);
});
