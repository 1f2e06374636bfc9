// A build's own inputs made hostile: -f naming a FIFO or a device, the context's Dockerfile or
// .dockerignore a link to a host file, .dockerignore patterns that make a backtracking matcher run
// for ever, an --iidfile that is a link to a host file, and ADD of a URL whose server redirects to
// file://, sends a body without end or never finishes. Each ends in one line, bounded, with nothing
// of the host read or written.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { busyboxEnv, type BusyboxEnv } from "../helpers/busybox-env.ts";
import { BINARY, cliEnv } from "../helpers/cli.ts";

let bb: BusyboxEnv;
let n = 0;
const SECRET = "HOST-SECRET-CONTENT";

beforeAll(async () => {
  bb = await busyboxEnv("td-build-inputs-");
  fs.writeFileSync(path.join(bb.dir, "secret"), `${SECRET} [z-a]\n`);
});

afterAll(async () => {
  await bb?.close();
});

/** The binary, killed (SIGKILL: a blocked event loop never sees SIGTERM) after `ms`. */
function T(args: string[], ms = 60_000): { code: number | null; ms: number; stdout: string; stderr: string } {
  const t0 = Date.now();
  const r = Bun.spawnSync([BINARY, ...args], { env: cliEnv(bb.env), stdout: "pipe", stderr: "pipe", timeout: ms, killSignal: "SIGKILL" });
  return { code: r.exitCode, ms: Date.now() - t0, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function context(files: Record<string, string>): string {
  const dir = path.join(bb.dir, `ctx-${++n}`);
  fs.mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

test("-f naming a FIFO or a device, a Dockerfile or .dockerignore linking to a host file: one line, nothing read", () => {
  const fifoCtx = context({ Dockerfile: "FROM busybox\n" });
  Bun.spawnSync(["mkfifo", path.join(fifoCtx, "fifo"), path.join(fifoCtx, ".dockerignore")]);
  const dfLink = context({});
  fs.symlinkSync(path.join(bb.dir, "secret"), path.join(dfLink, "Dockerfile"));
  const diLink = context({ Dockerfile: "FROM busybox\n" });
  fs.symlinkSync(path.join(bb.dir, "secret"), path.join(diLink, ".dockerignore"));
  const cases: [string[], string][] = [
    [["-f", path.join(fifoCtx, "fifo"), context({})], "is a FIFO, not a regular file"],
    [["-f", "/dev/zero", context({})], "is a character device, not a regular file"],
    [[fifoCtx], ".dockerignore is a FIFO, not a regular file"],
    [[dfLink], "no such file or directory"],
  ];
  for (const [args, want] of cases) {
    const r = T(["build", ...args], 15_000);
    expect(`${args.join(" ")}: ${r.code} ${r.stderr.trim().split("\n").length}`).toBe(`${args.join(" ")}: 1 1`);
    expect(r.stderr).toContain(want);
    expect(r.stderr).not.toContain(SECRET);
  }
  // A .dockerignore linking out is not read: the build goes on without its patterns.
  const r = T(["build", diLink]);
  expect(`${r.code} ${r.stderr}`).toBe("0 ");
  recordCases("build: -f FIFO/device, Dockerfile and .dockerignore links to host files", cases.length + 1);
});

test(".dockerignore patterns that backtrack for ever in a regular expression are matched in one pass", () => {
  const deep = `${Array.from({ length: 40 }, () => "a").join("/")}/c`;
  const cases: [string, Record<string, string>][] = [
    [`${"**/".repeat(14)}b`, { [deep]: "x" }],
    [`${"*a".repeat(12)}*b`, { ["a".repeat(200)]: "x" }],
    [`${"**/a/".repeat(8)}b`, { [deep]: "x" }],
  ];
  for (const [pattern, files] of cases) {
    const r = T(["build", context({ Dockerfile: "FROM busybox\nCOPY . /x/\n", ".dockerignore": `${pattern}\n`, ...files })], 20_000);
    expect(`${pattern}: ${r.code} ${r.stderr}`).toBe(`${pattern}: 0 `);
  }
  const glob = T(["build", context({ Dockerfile: `FROM busybox\nCOPY ${"*a".repeat(12)}*b /x/\n`, ["a".repeat(200)]: "x", [`${"a".repeat(12)}b`]: "y" })], 20_000);
  expect(`${glob.code} ${glob.stderr}`).toBe("0 ");
  recordCases("build: pathological .dockerignore and COPY glob patterns", cases.length + 1);
}, 300_000);

test("--iidfile that is a link to a host file: the link is replaced, the file it names kept", () => {
  const victim = path.join(bb.dir, "victim");
  fs.writeFileSync(victim, "keep");
  const iid = path.join(bb.dir, "iid");
  fs.symlinkSync(victim, iid);
  const r = T(["build", "--iidfile", iid, context({ Dockerfile: "FROM busybox\n" })]);
  expect(`${r.code} ${r.stderr}`).toBe("0 ");
  expect(fs.readFileSync(victim, "utf8")).toBe("keep");
  expect(fs.lstatSync(iid).isFile()).toBe(true);
  expect(fs.readFileSync(iid, "utf8")).toStartWith("sha256:");
  recordCases("build: --iidfile a link to a host file", 1);
});

test("ADD of a URL: a redirect to file:// refused, a body without end bounded, a download that never ends cancelled", async () => {
  // The server runs in its own process: spawnSync blocks this one's event loop.
  const server = `const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch(req) {
    const p = new URL(req.url).pathname;
    if (p === "/file") return new Response(null, { status: 302, headers: { location: ${JSON.stringify(`file://${path.join(bb.dir, "secret")}`)} } });
    if (p === "/huge") return new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(1 << 16)); } }));
    return new Response(new ReadableStream({ async pull(c) { await Bun.sleep(500); c.enqueue(new Uint8Array(1)); } }));
  } }); console.log(s.port);`;
  const srv = Bun.spawn(["bun", "-e", server], { stdout: "pipe" });
  const config = JSON.parse(fs.readFileSync(bb.env.config, "utf8"));
  try {
    const port = new TextDecoder().decode((await srv.stdout.getReader().read()).value).trim();
    fs.writeFileSync(bb.env.config, JSON.stringify({ ...config, "max-layer-bytes": 4_000_000 }));
    const add = (p: string) => context({ Dockerfile: `FROM busybox\nADD http://127.0.0.1:${port}/${p} /d/\n` });
    const file = T(["build", add("file")]);
    expect(`${file.code} ${file.stderr.trim()}`).toMatch(/^1 Error: .*redirected to "file:\/\/.*", which is not http\(s\)$/);
    const huge = T(["build", add("huge")], 20_000);
    expect(`${huge.code} ${huge.stderr.trim()}`).toMatch(/^1 Error: .*more than 4000000 bytes \(max-layer-bytes\)$/);
    // A trickle without end: SIGTERM ends the build (the helper sends it at the timeout, then waits).
    const t0 = Date.now();
    const slow = Bun.spawn([BINARY, "build", add("slow")], { env: cliEnv(bb.env), stdout: "ignore", stderr: "pipe" });
    await Bun.sleep(3000);
    slow.kill("SIGTERM");
    const killer = setTimeout(() => slow.kill("SIGKILL"), 15_000);
    const code = await slow.exited;
    clearTimeout(killer);
    expect(`${code} ${(await new Response(slow.stderr).text()).trim()}`).toBe("1 Error: Cannot build: cancelled by SIGTERM");
    expect(Date.now() - t0).toBeLessThan(15_000);
  } finally {
    fs.writeFileSync(bb.env.config, JSON.stringify(config));
    srv.kill();
    await srv.exited;
  }
  recordCases("build: ADD of hostile URLs", 3);
}, 200_000);

test("a process a RUN leaves in the background dies with the step and changes no later layer", () => {
  const dir = context({ Dockerfile: "FROM busybox\nRUN (sleep 1.737; ln -s / /late; touch /late2) & true\nRUN sleep 3\n" });
  const r = T(["build", "-t", "adv-bg", dir]);
  expect(`${r.code} ${r.stderr}`).toBe("0 ");
  const look = T(["run", "--rm", "adv-bg", "sh", "-c", "ls -d /late /late2 2>/dev/null; true"]);
  expect(look.stdout).toBe("");
  const left = fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p) && (() => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("1.737");
    } catch {
      return false;
    }
  })());
  expect(left).toEqual([]);
  recordCases("build: a RUN's background process outliving the step", 1);
});

test("--chown with ids beyond uid_t, or (uid_t)-1 that chown reads as unchanged: refused in one line", () => {
  const cases = ["99999999999", "4294967295", "1:99999999999999999999", "0:4294967295"];
  for (const o of cases) {
    const r = T(["build", context({ Dockerfile: `FROM busybox\nCOPY --chown=${o} f /f\n`, f: "x" })]);
    expect(`${o}: ${r.code} ${r.stderr.trim()}`).toMatch(new RegExp(`^${o}: 1 Error: .*Cannot resolve --chown "${o}": id \\d+ is out of range`));
  }
  recordCases("build: COPY --chown ids out of range", cases.length);
});
