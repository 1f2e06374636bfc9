// `cp` through tar streams, as Docker users script it: `cp C:PATH - | tar x` and `tar c … | cp - C:DIR`,
// on a running and on a stopped container; Docker's names (the path's base name, "./" for "/."), a
// symlink as itself unless -L, the archive's owners and modes kept, DIR that must be a directory.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { BINARY, cliEnv } from "../helpers/cli.ts";
import { startE2e, type E2e } from "../helpers/e2e.ts";
import { buildTar } from "../helpers/tar.ts";

let e: E2e;

beforeAll(async () => {
  e = await startE2e({ prefix: "td-cptar-", netns: false });
});

afterAll(async () => {
  await e?.stop();
});

/** The binary with bytes on stdin; stdout as bytes. */
function TB(args: string[], stdin?: Uint8Array): { code: number; out: Buffer; stderr: string } {
  const r = Bun.spawnSync([BINARY, ...args], { env: cliEnv(e.env), stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? 137, out: r.stdout, stderr: r.stderr.toString() };
}

/** `tar tv`-like listing of an archive: "name type uid:gid mode [-> link]". */
function list(tar: Buffer): string[] {
  const r = Bun.spawnSync(["tar", "--numeric-owner", "-tvf", "-"], { stdin: tar, stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  return r.stdout
    .toString()
    .trim()
    .split("\n")
    .map((l) => {
      const f = l.split(/\s+/);
      return `${f.slice(5).join(" ")} ${f[0]} ${f[1]}`;
    });
}

describe("cp CONTAINER:PATH -", () => {
  test("a directory, its contents, a file, a symlink (as itself, or followed with -L); running and stopped", () => {
    e.runDetached(["--name", "src", "--network", "none", "busybox", "sh", "-c", "mkdir -p /d/sub && echo hi > /d/a && echo deep > /d/sub/b && chown 7:8 /d/a && chmod 640 /d/a && ln -s a /d/link && touch /ready && sleep 1000"]);
    for (let i = 0; i < 200 && e.T(["exec", "src", "test", "-e", "/ready"]).code !== 0; i++) Bun.sleepSync(25);
    const dir = TB(["cp", "src:/d", "-"]);
    expect(dir.stderr).toBe("");
    expect(dir.code).toBe(0);
    expect(list(dir.out)).toEqual(["d/ drwxr-xr-x 0/0", "d/a -rw-r----- 7/8", "d/link -> a lrwxrwxrwx 0/0", "d/sub/ drwxr-xr-x 0/0", "d/sub/b -rw-r--r-- 0/0"]);
    const contents = TB(["cp", "src:/d/.", "-"]);
    expect(contents.code).toBe(0);
    expect(list(contents.out)[0]).toBe("./ drwxr-xr-x 0/0");
    expect(list(contents.out)).toContain("./sub/b -rw-r--r-- 0/0");
    const file = TB(["cp", "src:/d/sub/b", "-"]);
    expect(list(file.out)).toEqual(["sub/b -rw-r--r-- 0/0".replace("sub/", "")]);
    const x = Bun.spawnSync(["tar", "-xOf", "-", "b"], { stdin: file.out, stdout: "pipe" });
    expect(x.stdout.toString()).toBe("deep\n");
    expect(list(TB(["cp", "src:/d/link", "-"]).out)).toEqual(["link -> a lrwxrwxrwx 0/0"]);
    expect(list(TB(["cp", "-L", "src:/d/link", "-"]).out)).toEqual(["a -rw-r----- 7/8"]);
    const missing = TB(["cp", "src:/nope", "-"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("Error: Could not find the file /nope in container src\n");
    // A running container's /proc is the kernel's: an empty directory in the archive, as in the image.
    const proc = TB(["cp", "src:/proc", "-"]);
    expect(proc.code).toBe(0);
    expect(list(proc.out)).toEqual([expect.stringMatching(/^proc\/ d/)]);
    expect(e.T(["stop", "-t", "0", "src"]).code).toBe(0);
    expect(list(TB(["cp", "src:/d/sub", "-"]).out)).toEqual(["sub/ drwxr-xr-x 0/0", "sub/b -rw-r--r-- 0/0"]);
    expect(e.T(["rm", "src"]).code).toBe(0);
  });
});

describe("cp - CONTAINER:DIR", () => {
  test("extracts with the archive's owners and modes; DIR must exist and be a directory", async () => {
    e.runDetached(["--name", "dst", "--network", "none", "busybox", "sh", "-c", "mkdir /in && touch /file && sleep 1000"]);
    const tar = await buildTar([
      { name: "top/", type: "directory", mode: 0o750, uid: 5, gid: 6 },
      { name: "top/f", content: "one\n", mode: 0o4755, uid: 1000, gid: 1001 },
      { name: "top/l", type: "symlink", linkname: "f" },
      { name: "top/h", type: "link", linkname: "top/f" },
      { name: "new/deeper/x", content: "x\n" },
    ]);
    for (let i = 0; i < 200 && e.T(["exec", "dst", "test", "-e", "/file"]).code !== 0; i++) Bun.sleepSync(25);
    const r = TB(["cp", "-", "dst:/in"], tar);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const ls = e.T(["exec", "dst", "sh", "-c", "ls -ln /in/top | sort -k9; cat /in/top/f /in/new/deeper/x; stat -c '%a %u:%g %h' /in/top /in/top/f"]);
    expect(ls.stdout).toContain("one\nx\n750 5:6 2\n4755 1000:1001 2\n");
    expect(ls.stdout).toMatch(/lrwxrwxrwx\s+1 0\s+0\s+1 .* l -> f/);
    // gzip is read as Docker's untar reads it.
    const gz = Bun.gzipSync(await buildTar([{ name: "zipped", content: "z\n" }]));
    expect(TB(["cp", "-", "dst:/in"], gz).code).toBe(0);
    expect(e.T(["exec", "dst", "cat", "/in/zipped"]).stdout).toBe("z\n");
    for (const bad of ["/file", "/nope"]) {
      const b = TB(["cp", "-", `dst:${bad}`], tar);
      expect(b.code).toBe(1);
      expect(b.stderr).toBe(`Error: destination "dst:${bad}" must be a directory\n`);
    }
    // A directory over a file, a file over a directory: refused, as Docker's cp does.
    const over = TB(["cp", "-", "dst:/"], await buildTar([{ name: "file/", type: "directory" }]));
    expect(over.code).toBe(1);
    expect(over.stderr).toContain("cannot overwrite non-directory");
    // A stopped container: its overlay, mounted for the copy only.
    expect(e.T(["stop", "-t", "0", "dst"]).code).toBe(0);
    expect(TB(["cp", "-", "dst:/in"], await buildTar([{ name: "later", content: "later\n" }])).code).toBe(0);
    const back = TB(["cp", "dst:/in/later", "-"]);
    expect(Bun.spawnSync(["tar", "-xOf", "-"], { stdin: back.out, stdout: "pipe" }).stdout.toString()).toBe("later\n");
    expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(path.join(e.env.root, "containers"));
    expect(e.T(["rm", "dst"]).code).toBe(0);
  });
});
