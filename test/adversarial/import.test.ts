// Hostile input to `tinydock import FILE|-|URL`: tars that climb out (`../` and absolute names, a
// symlink then a file through it, a hard link to a host file), device nodes and setuid files, a
// header that claims a huge file, input that is not a tar, a gzip bomb, and URLs that redirect
// forever or stream forever. It all goes through pull's unpacker: nothing is written outside the
// layer, and the engine's max-layer-bytes bounds what a stream may inflate to, so every import
// ends, refused in one line with the store as it was, or as Docker would import it.
// Run in a network namespace of its own (nsenter --net).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { recordCases } from "../helpers/adversarial.ts";
import { BINARY, cliEnv, requireBinary, type CliEnv, tinydockTimed, type TimedRun } from "../helpers/cli.ts";
import { mountsUnder } from "../helpers/loop.ts";
import { newCliEnv } from "../helpers/e2e.ts";
import { buildTar, concatBytes, END_OF_ARCHIVE, rawHeader, type TarEntry } from "../helpers/tar.ts";

const LIMIT = 8 << 20;
let dir: string;
let hostTarget: string;
let hostKey: string;
let env: CliEnv;
let server: ReturnType<typeof Bun.serve> | undefined;
const MARK = `HOSTKEY-${crypto.randomBytes(6).toString("hex")}`;

function T(args: string[], stdin?: Uint8Array, timeoutMs = 30_000): TimedRun {
  return tinydockTimed(env, args, stdin, timeoutMs);
}

/** T without blocking this process: the URL cases' server runs in it. */
async function spawnT(args: string[], timeoutMs: number) {
  const t0 = performance.now();
  const p = Bun.spawn([BINARY, ...args], { env: cliEnv(env), stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs, killSignal: "SIGKILL" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const ms = performance.now() - t0;
  return { code, stdout, stderr, ms, timedOut: ms >= timeoutMs || p.signalCode === "SIGKILL" };
}

/** The host directory the tars aim at, listed with modes, link counts and contents. */
function hostState(): string {
  return fs
    .readdirSync(hostTarget)
    .sort()
    .map((n) => {
      const st = fs.lstatSync(path.join(hostTarget, n));
      return `${n} ${st.mode.toString(8)} ${st.nlink} ${st.isFile() ? fs.readFileSync(path.join(hostTarget, n), "utf8") : ""}`;
    })
    .join("\n");
}

/** What an import must leave as it found it when it is refused: tags, images, blobs, temp files. */
function storeState(): string {
  const list = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p).sort().join(",") : "");
  return [list(path.join(env.root, "blobs", "sha256")), list(path.join(env.root, "images")), list(path.join(env.root, "tmp")), list(path.join(env.root, "layers"))].join("\n");
}

/** The files of the one layer of image `ref` (its unpacked tree), by running nothing: the layer dir. */
function layerFile(ref: string, rel: string): fs.Stats | undefined {
  const id = T(["image", "inspect", "-f", "{{.Id}}", ref]).stdout.trim();
  expect(id).toMatch(/^sha256:/);
  for (const l of fs.readdirSync(path.join(env.root, "layers"))) {
    const st = fs.lstatSync(path.join(env.root, "layers", l, "diff", rel), { throwIfNoEntry: false });
    if (st) return st;
  }
  return undefined;
}

beforeAll(() => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-import-"));
  hostTarget = path.join(dir, "host-target");
  fs.mkdirSync(hostTarget);
  hostKey = path.join(hostTarget, "key");
  fs.writeFileSync(hostKey, `${MARK}\n`, { mode: 0o600 });
  env = newCliEnv(path.join(dir, "env"));
  fs.writeFileSync(env.config, JSON.stringify({ "max-layer-bytes": LIMIT }));
  // Endless answers: a redirect to the next URL forever, a tar file's bytes forever (its header
  // first, so it is not refused as junk at once), a gzip of zeros forever.
  const zeros = zlib.gzipSync(Buffer.alloc(16 << 20), { level: 9 });
  const forever = (chunk: Uint8Array, first?: Uint8Array) =>
    new ReadableStream<Uint8Array>({
      start: (c) => void (first && c.enqueue(first)),
      pull: (c) => c.enqueue(chunk),
    });
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const u = new URL(req.url);
      const hop = u.pathname.match(/^\/hop\/(\d+)$/);
      if (hop) return new Response(null, { status: 302, headers: { location: `/hop/${Number(hop[1]) + 1}` } });
      if (u.pathname === "/loop") return new Response(null, { status: 302, headers: { location: "/loop" } });
      if (u.pathname === "/endless") return new Response(forever(new Uint8Array(1 << 16).fill(0x61), rawHeader({ name: "endless", typeflag: "0", size: 2 ** 40 })));
      if (u.pathname === "/bomb") return new Response(forever(zeros));
      return new Response("no", { status: 404 });
    },
  });
});

afterAll(() => {
  server?.stop(true);
  const mounts = mountsUnder(dir);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  expect(mounts).toEqual([]);
});

async function tarFile(name: string, entries: TarEntry[]): Promise<string> {
  const p = path.join(dir, `${name}.tar`);
  fs.writeFileSync(p, await buildTar(entries));
  return p;
}

describe("hostile tars: nothing lands outside the layer, nothing of the host comes in", () => {
  test("../ and absolute names, a symlink then a file through it, hard links to host files", async () => {
    const before = hostState();
    const up = "../".repeat(24);
    const cases: [string, TarEntry[]][] = [
      ["dotdot", [{ name: `${up}${hostTarget.slice(1)}/dotdot`, content: "pwned\n" }]],
      ["absolute", [{ name: `${hostTarget}/absolute`, content: "pwned\n" }]],
      [
        "symlink-then-file",
        [
          { name: "evil", type: "symlink", linkname: hostTarget },
          { name: "evil/through-abs", content: "pwned\n" },
          { name: "rel", type: "symlink", linkname: `${up}${hostTarget.slice(1)}` },
          { name: "rel/through-rel", content: "pwned\n" },
        ],
      ],
      [
        "symlink-chain",
        [
          { name: "a", type: "symlink", linkname: "b/.." },
          { name: "b", type: "symlink", linkname: `${up}${hostTarget.slice(1)}` },
          { name: "a/b/chain", content: "pwned\n" },
        ],
      ],
      ["hardlink-abs", [{ name: "hl", type: "link", linkname: hostKey }]],
      ["hardlink-up", [{ name: "hl", type: "link", linkname: `${up}${hostKey.slice(1)}` }]],
      [
        "hardlink-via-symlink",
        [
          { name: "to", type: "symlink", linkname: hostTarget },
          { name: "hl", type: "link", linkname: "to/key" },
        ],
      ],
    ];
    const outcomes: string[] = [];
    for (const [name, entries] of cases) {
      const r = T(["import", await tarFile(name, entries), `evil:${name}`]);
      expect(r.timedOut).toBe(false);
      if (r.code !== 0) expect(r.stderr.trim().split("\n")).toHaveLength(1);
      else {
        // Imported: a hard link in the layer is never the host file's inode, nor has its bytes.
        const hl = layerFile(`evil:${name}`, "hl");
        if (hl) expect(hl.ino).not.toBe(fs.statSync(hostKey).ino);
      }
      outcomes.push(`${name}:${r.code === 0 ? "imported" : r.stderr.trim()}`);
      expect(hostState()).toBe(before);
    }
    expect(fs.statSync(hostKey).nlink).toBe(1);
    for (const l of fs.readdirSync(path.join(env.root, "layers"))) {
      const found = Bun.spawnSync(["grep", "-rl", "--no-messages", MARK, path.join(env.root, "layers", l)], { stdout: "pipe" }).stdout.toString();
      expect(found).toBe("");
    }
    console.log(outcomes.join("\n"));
    recordCases("import of a tar that climbs out", cases.length);
  }, 120_000);

  test("device nodes and setuid files are imported as Docker imports them (nodes, not opened)", async () => {
    const p = await tarFile("nodes", [
      { name: "dev/", type: "directory" },
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3 },
      { name: "dev/sda", type: "block-device", devmajor: 8, devminor: 0 },
      { name: "dev/fifo", type: "fifo" },
      { name: "suid", content: "#!/bin/sh\n", mode: 0o4755 },
    ]);
    const r = T(["import", p, "nodes:1"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(layerFile("nodes:1", "dev/sda")?.isBlockDevice()).toBe(true);
    expect(layerFile("nodes:1", "dev/fifo")?.isFIFO()).toBe(true);
    expect((layerFile("nodes:1", "suid")!.mode & 0o7777).toString(8)).toBe("4755");
    recordCases("import of device nodes, a FIFO and a setuid file", 1);
  }, 60_000);
});

describe("input that is not a tar is refused at its first header", () => {
  test("200 MB of junk and a gzip of junk, from a file and from STDIN: nothing staged, compressed or written, the input read no further", async () => {
    // The engine's default max-layer-bytes: nothing but the tar check stops junk early.
    const plain = newCliEnv(path.join(dir, "env-unbounded"));
    const block = crypto.randomBytes(1 << 20);
    const junk = path.join(dir, "junk-200m");
    const fd = fs.openSync(junk, "w");
    for (let i = 0; i < 200; i++) fs.writeSync(fd, block);
    fs.closeSync(fd);
    const gz = zlib.gzipSync(concatBytes(Array.from({ length: 32 }, () => block)), { level: 1 });
    const gzJunk = path.join(dir, "junk-32m.gz");
    fs.writeFileSync(gzJunk, gz);
    expect(Bun.spawnSync([BINARY, "images", "-q"], { env: cliEnv(plain) }).exitCode).toBe(0); // the store made
    const store = () => [path.join(plain.root, "blobs", "sha256"), path.join(plain.root, "tmp"), path.join(plain.root, "images")].map((p) => (fs.existsSync(p) ? fs.readdirSync(p).join(",") : "")).join("|");
    const before = store();
    const results: string[] = [];
    const refused = (what: string, r: { code: number | null; stderr: string }, shown: string, ms: number) => {
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`Error: Cannot unpack ${shown}: tar header at offset 0: header checksum mismatch\n`);
      expect(store()).toBe(before);
      results.push(`${what}: ${ms.toFixed(0)} ms`);
    };
    for (const [what, file] of [["200 MB junk file", junk], ["gzip of 32 MB junk", gzJunk]] as const) {
      // Every file the import opens: the layer's staging file must never be created.
      const trace = path.join(dir, "import.strace");
      const t0 = performance.now();
      const r = Bun.spawnSync(["strace", "-f", "-qq", "-e", "trace=openat", "-o", trace, BINARY, "import", file], { env: cliEnv(plain), stdout: "pipe", stderr: "pipe", timeout: 60_000 });
      refused(what, { code: r.exitCode, stderr: r.stderr.toString() }, JSON.stringify(file), performance.now() - t0);
      expect(fs.readFileSync(trace, "utf8").split("\n").filter((l) => l.includes(`${plain.root}/tmp/`))).toEqual([]);
    }
    const pieces = (bytes: Uint8Array, count: number) => Array.from({ length: count }, (_, i) => bytes.subarray((i << 20) % bytes.length, ((i << 20) % bytes.length) + (1 << 20)));
    for (const [what, input] of [["200 MB junk on STDIN", pieces(block, 200)], ["gzip of junk on STDIN", pieces(gz, Math.ceil(gz.length / (1 << 20)))]] as const) {
      // STDIN fed a MiB at a time as the import reads: it stops at the first header (a pipe's worth).
      let fed = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          const piece = input[fed];
          if (!piece) return c.close();
          fed++;
          c.enqueue(piece);
        },
      });
      const t0 = performance.now();
      const p = Bun.spawn([BINARY, "import", "-"], { env: cliEnv(plain), stdin: stream, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
      const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
      refused(what, { code, stderr }, '"-"', performance.now() - t0);
      expect(fed).toBeLessThan(16);
      results[results.length - 1] += `, ${fed} of ${input.length} MiB read`;
    }
    console.log(results.join("\n"));
    recordCases("import of junk and a gzip of junk, refused at the first header", 4);
  }, 180_000);
});

describe("inputs that never end or inflate without bound are refused at max-layer-bytes", () => {
  test("not a tar, a header claiming a huge file, a gzip bomb from a file and from STDIN", async () => {
    const junk = path.join(dir, "junk");
    fs.writeFileSync(junk, crypto.randomBytes(64 << 10));
    const huge = path.join(dir, "huge.tar");
    fs.writeFileSync(huge, concatBytes([rawHeader({ name: "big", typeflag: "0", size: 2 ** 40 }), new Uint8Array(1 << 20), END_OF_ARCHIVE]));
    const bomb = path.join(dir, "bomb.tar.gz");
    // 64 MiB of one tar file's zeros, eight times the limit, in ~64 KiB of gzip.
    fs.writeFileSync(bomb, zlib.gzipSync(concatBytes([rawHeader({ name: "zeros", typeflag: "0", size: 64 << 20 }), new Uint8Array(64 << 20), END_OF_ARCHIVE]), { level: 9 }));
    const store = storeState();
    const results: string[] = [];
    for (const [what, args, stdin, message] of [
      ["junk", ["import", junk], undefined, /header checksum mismatch/],
      ["huge header", ["import", huge], undefined, /ends in the middle of an entry/],
      ["bomb file", ["import", bomb], undefined, /exceeds the limit of 8388608 bytes/],
      ["bomb stdin", ["import", "-"], new Uint8Array(fs.readFileSync(bomb)), /exceeds the limit of 8388608 bytes/],
    ] as [string, string[], Uint8Array | undefined, RegExp][]) {
      const r = T(args, stdin);
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(storeState()).toBe(store);
      results.push(`${what}: ${r.ms.toFixed(0)} ms ${r.stderr.trim()}`);
    }
    console.log(results.join("\n"));
    // STDIN itself works: a small tar through "-" is imported.
    const ok = T(["import", "-", "stdin:ok"], await buildTar([{ name: "hello", content: "hi\n" }]));
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    recordCases("import of junk, a huge header and a gzip bomb", 4);
  }, 120_000);

  test("a URL that streams forever (plain, gzip bomb) or redirects forever ends with one line", async () => {
    const base = `http://127.0.0.1:${server!.port}`;
    const store = storeState();
    const results: string[] = [];
    for (const p of ["/endless", "/bomb", "/hop/0", "/loop"]) {
      const r = await spawnT(["import", `${base}${p}`], 60_000);
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(p.startsWith("/hop") || p === "/loop" ? /redirected too many times/ : /exceeds the limit of 8388608 bytes/);
      expect(storeState()).toBe(store);
      results.push(`${p}: ${r.ms.toFixed(0)} ms ${r.stderr.trim()}`);
    }
    console.log(results.join("\n"));
    recordCases("import of an endless or endlessly redirecting URL", 4);
  }, 300_000);
});
