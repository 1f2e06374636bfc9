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
const src = Object.keys(require.cache).filter((k) => k.includes("/src/")).map((k) => k.slice(k.lastIndexOf("/src/") + 1));
console.log(JSON.stringify({ code, yargs, src }));
`,
);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function probeLine(args: string[]): { code: number; yargs: number; src: string[] } {
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
  [["inspect", "-f", "{{.Id}}", "nosuch"], 1],
  [["volume", "ls"], 0],
  // Fail before anything is made: a bad --share, a missing file.
  [["pod", "create", "--name", "p", "--share", "pid"], 125],
  [["play", "kube", "--down", "/nonexistent/pod.yaml"], 125],
  // What a pod's monitor runs at every start and exit of its container.
  [["kube", "sync-services"], 0],
])("%p: no yargs", (args, code) => {
  const { src: _, ...probe } = probeLine(args as string[]);
  expect(probe).toEqual({ code: code as number, yargs: 0 });
});

// What each common line must not load: run's and exec's flag tables, the monitor and its plan
// codec, the cgroup managers, the tar reader and layer writer, the template engine.
test.each([
  [["--version"], ["src/cli/commands/", "src/cli/split.ts", "src/context.ts"]],
  [["ps", "-a"], ["src/cli/commands/run.ts", "src/cli/commands/exec.ts", "src/lifecycle/monitor.ts", "src/runtime/cgroups/v1.ts", "src/runtime/cgroups/v2.ts", "src/runtime/encode.ts", "src/rootfs/", "src/cli/template.ts"]],
  [["inspect", "nosuch"], ["src/cli/commands/run.ts", "src/lifecycle/monitor.ts", "src/runtime/cgroups/v1.ts", "src/runtime/encode.ts", "src/rootfs/unpack.ts"]],
  [["volume", "ls"], ["src/cli/commands/run.ts", "src/cli/template.ts", "src/lifecycle/"]],
  // The firewall and a pod's Services (and node:crypto with them) are no part of a plain run.
  [["run", "-c", "512", "-w", "rel", "busybox"], ["src/network/firewall.ts", "src/network/service-rules.ts", "src/network/rules.ts"]],
])("%p loads none of %p", (args, never) => {
  const { src } = probeLine(args);
  expect(src.length).toBeGreaterThan(0);
  expect(src.filter((m) => never.some((n) => m.startsWith(n)))).toEqual([]);
});

test("the probe sees yargs when it is loaded", () => {
  expect(probeLine(["images"]).yargs).toBeGreaterThan(0);
});
