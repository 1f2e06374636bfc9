// The commands' --format through the template engine: `ps` table formats and row methods,
// `inspect`'s exit codes for a format that does not parse (64) or fails on an object (1).
import { afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import type { Io } from "../../../src/cli/command.ts";
import { inspect } from "../../../src/cli/commands/inspect.ts";
import { ps } from "../../../src/cli/commands/ps.ts";
import { containerPaths, saveContainer, type ContainerRecord } from "../../../src/store/containers.ts";
import { fakeSys } from "../../../src/sys/fake.ts";
import { testContext, type TestEnv } from "../../helpers/ctx.ts";

let t: TestEnv | undefined;
afterEach(() => {
  t?.cleanup();
  t = undefined;
});

function setup(): TestEnv {
  t = testContext();
  t.ctx.sys = fakeSys();
  const rec: ContainerRecord = {
    id: "ab".repeat(32),
    name: "web",
    image: "busybox",
    imageId: "sha256:gone",
    created: "2026-11-23T22:00:00.000Z",
    args: ["sh"],
    hostname: "abab",
    labels: { tier: "front" },
    state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
  };
  fs.mkdirSync(containerPaths(t.ctx.root, rec.id).dir, { recursive: true });
  saveContainer(t.ctx.root, rec);
  return t;
}

function io(): Io & { stdout: string; stderr: string } {
  const o = { stdout: "", stderr: "", stdoutTty: false, stderrTty: false, readStdin: async () => "" } as Io & { stdout: string; stderr: string };
  o.out = (s) => void (o.stdout += s);
  o.err = (s) => void (o.stderr += s);
  return o;
}

test("ps: a table format gets Docker's headers and tabwriter widths (minwidth 10); rows answer .Label", async () => {
  const { ctx } = setup();
  const out = io();
  await ps.run(ctx, { all: true, format: 'table {{.Names}}\\t{{.State}}\\t{{.Label "tier"}}' }, out);
  // The header stops at .Label, which the header map cannot answer, as Docker's does.
  expect(out.stdout).toBe("NAMES     STATE     \nweb       created   front\n");
});

test("ps: range, if and trim markers in a --format", async () => {
  const { ctx } = setup();
  const out = io();
  await ps.run(ctx, { all: true, format: "{{- if eq .State \"created\" -}} new {{- end}}:{{range split .Names \"e\"}}[{{.}}]{{end}}" }, out);
  expect(out.stdout).toBe("new:[w][b]\n");
});

test("inspect: a format that does not parse exits 64 with one line, as docker/cli's inspect does", async () => {
  const { ctx } = setup();
  const out = io();
  expect(await inspect.run(ctx, { names: ["web"], format: "{{.State" }, out)).toBe(64);
  expect(out.stderr).toBe('Error: Cannot parse template "{{.State": template: :1: unclosed action\n');
  expect(out.stdout).toBe("");
});

test("inspect: a template failing on an object exits 1, naming Go's error", async () => {
  const { ctx } = setup();
  const out = io();
  expect(await inspect.run(ctx, { names: ["web"], format: "{{.Name}} {{.Name.X}}" }, out)).toBe(1);
  expect(out.stderr).toContain("can't evaluate field X in type interface {}");
  expect(out.stderr.trim().split("\n")).toHaveLength(1);
});

test("inspect: range over a list in the object", async () => {
  const { ctx } = setup();
  const out = io();
  expect(await inspect.run(ctx, { names: ["web"], format: "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}{{end}}" }, out)).toBe(0);
  expect(out.stdout).toBe("tier=front\n");
});
