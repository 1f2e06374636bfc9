// `cp` through tar streams, as Docker users script it: `cp C:PATH - | tar x` and `tar c … | cp - C:DIR`,
// on a running and on a stopped container; Docker's names (the path's base name, "./" for "/."), a
// symlink as itself unless -L, the archive's modes kept (owners only with -a), DIR that must be a directory.
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
  test("extracts with the archive's modes (its owners with -a); DIR must exist and be a directory", async () => {
    e.runDetached(["--name", "dst", "--network", "none", "busybox", "sh", "-c", "mkdir /in && touch /file && sleep 1000"]);
    const tar = await buildTar([
      { name: "top/", type: "directory", mode: 0o750, uid: 5, gid: 6 },
      { name: "top/f", content: "one\n", mode: 0o4755, uid: 1000, gid: 1001 },
      { name: "top/l", type: "symlink", linkname: "f" },
      { name: "top/h", type: "link", linkname: "top/f" },
      { name: "new/deeper/x", content: "x\n" },
    ]);
    for (let i = 0; i < 200 && e.T(["exec", "dst", "test", "-e", "/file"]).code !== 0; i++) Bun.sleepSync(25);
    const r = TB(["cp", "-a", "-", "dst:/in"], tar);
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

describe("cp into a container: owners", () => {
  // Docker's documented rule: what is copied in belongs to the container's root, unless -a keeps
  // the uid:gid of the source (the host's files, or the archive's entries).
  test("root's without -a, the source's with -a; for a host path and for a tar on stdin", async () => {
    e.runDetached(["--name", "own", "--network", "none", "busybox", "sh", "-c", "mkdir /in && touch /ready && sleep 1000"]);
    const host = fs.mkdtempSync(path.join(e.env.root, "cp-own-"));
    fs.mkdirSync(path.join(host, "d"));
    fs.writeFileSync(path.join(host, "d", "f"), "f\n");
    fs.symlinkSync("f", path.join(host, "d", "l"));
    for (const p of ["d", "d/f"]) fs.chownSync(path.join(host, p), 1234, 5678);
    fs.lchownSync(path.join(host, "d", "l"), 1234, 5678);
    const tar = await buildTar([
      { name: "t/", type: "directory", mode: 0o755, uid: 4321, gid: 8765 },
      { name: "t/f", content: "t\n", mode: 0o644, uid: 4321, gid: 8765 },
      { name: "t/l", type: "symlink", linkname: "f", uid: 4321, gid: 8765 },
    ]);
    for (let i = 0; i < 200 && e.T(["exec", "own", "test", "-e", "/ready"]).code !== 0; i++) Bun.sleepSync(25);
    expect(e.T(["cp", path.join(host, "d"), "own:/in/plain"]).code).toBe(0);
    expect(e.T(["cp", "-a", path.join(host, "d"), "own:/in/arch"]).code).toBe(0);
    expect(e.T(["exec", "own", "mkdir", "/in/tplain", "/in/tarch"]).code).toBe(0);
    expect(TB(["cp", "-", "own:/in/tplain"], tar).code).toBe(0);
    expect(TB(["cp", "--archive", "-", "own:/in/tarch"], tar).code).toBe(0);
    const owners = (dir: string) => e.T(["exec", "own", "stat", "-c", "%n %u:%g", dir, `${dir}/f`, `${dir}/l`]).stdout.trim().split("\n");
    expect(owners("/in/plain")).toEqual(["/in/plain 0:0", "/in/plain/f 0:0", "/in/plain/l 0:0"]);
    expect(owners("/in/arch")).toEqual(["/in/arch 1234:5678", "/in/arch/f 1234:5678", "/in/arch/l 1234:5678"]);
    expect(owners("/in/tplain/t")).toEqual(["/in/tplain/t 0:0", "/in/tplain/t/f 0:0", "/in/tplain/t/l 0:0"]);
    expect(owners("/in/tarch/t")).toEqual(["/in/tarch/t 4321:8765", "/in/tarch/t/f 4321:8765", "/in/tarch/t/l 4321:8765"]);
    expect(e.T(["rm", "-f", "own"]).code).toBe(0);
    fs.rmSync(host, { recursive: true, force: true });
  });
});
