// `export` and `import` round trips: a container's filesystem out as a plain tar (merged, no
// whiteouts, nothing mounted at run time), back in as a one-layer image that runs.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { busyboxEntries } from "../helpers/busybox.ts";
import { BINARY, cliEnv, requireBinary, tinydock, type CliEnv } from "../helpers/cli.ts";
import { newCliEnv, until } from "../helpers/e2e.ts";
import { buildImage, pushImage } from "../helpers/image.ts";
import { startRegistry, type TestRegistry } from "../helpers/registry.ts";

let reg: TestRegistry;
let dir: string;

function newEnv(): CliEnv {
  return newCliEnv(fs.mkdtempSync(path.join(dir, "env-")), reg);
}

/** The names GNU tar lists in `file`. */
function names(file: string): string[] {
  const r = Bun.spawnSync(["tar", "-tf", file], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tar -tf ${file}: ${r.stderr.toString()}`);
  return r.stdout.toString().split("\n").filter(Boolean);
}

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-export-"));
  reg = await startRegistry();
  const busybox = await buildImage({
    layers: [{ entries: busyboxEntries() }, { entries: [{ name: "data/", type: "directory" }, { name: "data/gone", content: "deleted in the container\n" }, { name: "data/kept", content: "kept\n" }, { name: "opt/", type: "directory" }, { name: "opt/tree/", type: "directory" }, { name: "opt/tree/old", content: "old\n" }] }],
    config: { Cmd: ["sh"] },
  });
  await pushImage(reg, "library/busybox", "latest", busybox);
});

afterAll(async () => {
  await reg?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("export a stopped container (merged, no whiteouts), import it with --change and -m, run it and see the file", () => {
  const env = newEnv();
  expect(tinydock(env, ["pull", "-q", "busybox"]).code).toBe(0);
  const made = tinydock(env, ["run", "--name", "c1", "--network", "none", "busybox", "sh", "-c", "echo hello > /hello.txt && rm /data/gone && rm -r /opt/tree && mkdir /opt/tree && echo new > /opt/tree/new"]);
  expect(made.code).toBe(0);
  const file = path.join(dir, "c1.tar");
  expect(tinydock(env, ["export", "-o", file, "c1"])).toEqual({ code: 0, stdout: "", stderr: "" });
  const listed = names(file);
  expect(listed).toContain("hello.txt");
  expect(listed).toContain("data/kept");
  expect(listed).toContain("bin/busybox");
  expect(listed.filter((n) => n.includes(".wh."))).toEqual([]);
  // A deleted file and a directory made again (opaque in the upper dir) leave no trace of the old.
  expect(listed.filter((n) => n === "data/gone" || n.startsWith("opt/tree/"))).toEqual(["opt/tree/", "opt/tree/new"]);
  // STDOUT gets the same bytes; `container export` is the same verb.
  const piped = Bun.spawnSync([BINARY, "container", "export", "c1"], { env: cliEnv(env), stdout: "pipe", stderr: "pipe" });
  expect(piped.exitCode).toBe(0);
  expect(Buffer.compare(Buffer.from(piped.stdout), fs.readFileSync(file))).toBe(0);

  // A fresh root: the image comes from the tar alone.
  const other = newEnv();
  const imported = tinydock(other, ["import", "-c", 'CMD ["cat", "/hello.txt"]', "-c", "ENV GREETING=hi", "-m", "round trip", file, "rt:v1"]);
  expect(imported.stderr).toBe("");
  expect(imported.code).toBe(0);
  expect(imported.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
  expect(tinydock(other, ["run", "--rm", "--network", "none", "rt:v1"]).stdout).toBe("hello\n");
  expect(tinydock(other, ["run", "--rm", "--network", "none", "rt:v1", "sh", "-c", 'echo $GREETING; cat /data/kept; ls /data/gone 2>&1; ls /opt/tree']).stdout).toBe(
    "hi\nkept\nls: /data/gone: No such file or directory\nnew\n",
  );
  const info = JSON.parse(tinydock(other, ["image", "inspect", "rt:v1"]).stdout)[0];
  expect(info.Id).toBe(imported.stdout.trim());
  expect(info.RootFS.Layers.length).toBe(1);
  expect(tinydock(other, ["history", "--no-trunc", "--format", "{{.Comment}}", "rt:v1"]).stdout).toBe("round trip\n");

  // gzip'd, through `image import` from STDIN-like paths: a .tar.gz file, no tag.
  const gz = path.join(dir, "c1.tar.gz");
  fs.writeFileSync(gz, Bun.gzipSync(fs.readFileSync(file)));
  const again = tinydock(other, ["image", "import", gz]);
  expect(again.code).toBe(0);
  const cat = tinydock(other, ["run", "--rm", "--network", "none", again.stdout.trim(), "cat", "/hello.txt"]);
  expect(cat.stdout).toBe("hello\n");
}, 120_000);

test("export a running container: its files as they stand, not what is mounted into it", async () => {
  const env = newEnv();
  const r = tinydock(env, ["run", "-d", "--name", "live", "--network", "none", "busybox", "sh", "-c", "echo live > /live.txt && sleep 1000"]);
  expect(r.code).toBe(0);
  try {
    const file = path.join(dir, "live.tar");
    await until("the file is written", () => {
      expect(tinydock(env, ["export", "-o", file, "live"]).code).toBe(0);
      return names(file).includes("live.txt");
    });
    const listed = names(file);
    expect(listed.filter((n) => n.startsWith("proc/") && n !== "proc/")).toEqual([]);
  } finally {
    tinydock(env, ["rm", "-f", "live"]);
  }
}, 120_000);

test("export and import errors: one line, Docker's exit codes", () => {
  const env = newEnv();
  const missing = tinydock(env, ["export", "-o", path.join(dir, "x.tar"), "nope"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^Error: .*nope.*\n$/);
  expect(fs.existsSync(path.join(dir, "x.tar"))).toBe(false);
  const nofile = tinydock(env, ["import", path.join(dir, "no-such.tar")]);
  expect(nofile.code).toBe(1);
  expect(nofile.stderr).toMatch(/^Error: .*no such file\n$/);
  const notTar = path.join(dir, "not-a-tar");
  fs.writeFileSync(notTar, "just some text, long enough to not be a tar header at all\n".repeat(20));
  const bad = tinydock(env, ["import", notTar]);
  expect(bad.code).toBe(1);
  expect(bad.stderr.split("\n").filter(Boolean).length).toBe(1);
  const change = tinydock(env, ["import", "-c", "RUN echo no", notTar]);
  expect(change.code).toBe(1);
  expect(change.stderr).toBe("Error: RUN is not a valid change command\n");
  // A wrong number of arguments is the CLI's plain error in Docker (exit 1), not the engine's 125.
  const noArg = tinydock(env, ["export"]);
  expect(noArg.code).toBe(1);
  expect(noArg.stderr).toStartWith('Error: "tinydock export" requires exactly 1 argument.');
});

test("a 20 GiB sparse file: export streams it in flat memory, and a closed reader or Ctrl-C stops it at once, leaving nothing", async () => {
  const env = newEnv();
  const made = tinydock(env, ["run", "--name", "sparse", "--network", "none", "busybox", "sh", "-c", "truncate -s 20G /big"]);
  expect(made.code).toBe(0);
  const left = () => [
    ...fs.readdirSync(dir).filter((n) => n.startsWith("sparse.tar")),
    ...(fs.existsSync(path.join(env.root, "tmp")) ? fs.readdirSync(path.join(env.root, "tmp")) : []),
    ...fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(env.root)),
  ];
  // A reader that goes away (`| head -c`): the end of it, quietly, with SIGPIPE's status, as Docker's.
  const piped = Bun.spawnSync(["bash", "-c", `${BINARY} export sparse | head -c 100000 >/dev/null; echo "\${PIPESTATUS[0]}"`], { env: cliEnv(env), stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  expect({ status: piped.stdout.toString(), stderr: piped.stderr.toString() }).toEqual({ status: "141\n", stderr: "" });
  expect(left()).toEqual([]);
  // To a file, then SIGINT (SIGTERM alike): it stops between pieces, the half file and the mount
  // go, and the exit is the signal's.
  for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    const out = path.join(dir, "sparse.tar");
    const p = Bun.spawn([BINARY, "export", "-o", out, "sparse"], { env: cliEnv(env), stdout: "pipe", stderr: "pipe" });
    let peakKiB = 0;
    await until("a few hundred MiB are written", () => {
      const rss = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p.pid}/status`, "utf8"));
      peakKiB = Math.max(peakKiB, Number(rss?.[1] ?? 0));
      const tmp = fs.readdirSync(dir).find((n) => n.startsWith("sparse.tar.tmp-"));
      return tmp !== undefined && fs.statSync(path.join(dir, tmp)).size > 256 << 20;
    });
    const t0 = performance.now();
    p.kill(signal);
    expect(await p.exited).toBe(status);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(await new Response(p.stderr).text()).toBe("");
    expect(left()).toEqual([]);
    // The file's bytes go through a MiB at a time: what the process holds does not grow with them.
    expect(peakKiB).toBeLessThan(400 << 10);
  }
  // SIGKILL: nothing can clean up then; the overlay and its scratch dir carry the dead pid, and
  // `system prune` (reconcile) removes them.
  const killed = Bun.spawn([BINARY, "export", "sparse"], { env: cliEnv(env), stdout: "pipe", stderr: "pipe" });
  await until("the export's overlay is mounted", () => left().some((l) => l.includes(path.join(env.root, "tmp", `export-${killed.pid}-`))));
  killed.kill("SIGKILL");
  await killed.exited;
  expect(left().length).toBeGreaterThan(0);
  const pruned = tinydock(env, ["system", "prune", "-f"]);
  expect(pruned.code).toBe(0);
  expect(pruned.stdout).toContain(`scratch: ${path.join(env.root, "tmp", `export-${killed.pid}-`)}`);
  expect(left()).toEqual([]);
  tinydock(env, ["rm", "sparse"]);
}, 180_000);
