// What tinydock does on the host with files a container (or an image) controls: `cp` both ways,
// the seed of a named volume, and the /etc/passwd that `exec -u NAME` and `run -u NAME` read. A
// hostile container plants a FIFO, a block device node, a symlink to a host directory, a huge sparse
// passwd; an image ships /opt -> a host directory. Every command must end within a bounded time,
// leave the host's directories and devices as they were, and answer with Docker's behaviour or one
// clear line. The device planted is a loop device over a temp file of this test, so a write through
// it shows up in that file and nowhere else. TimedRun in a network namespace of its own (nsenter --net).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { busyboxEntries } from "../helpers/busybox.ts";
import { BINARY, cliEnv, requireBinary, tinydock, type CliEnv, tinydockTimed, type TimedRun } from "../helpers/cli.ts";
import { attachLoop, detachLoop, mountsUnder } from "../helpers/loop.ts";
import { newCliEnv } from "../helpers/e2e.ts";
import { buildImage, pushImage } from "../helpers/image.ts";
import { startRegistry, type TestRegistry } from "../helpers/registry.ts";

let reg: TestRegistry;
let env: CliEnv;
let dir: string;
/** A host directory no container may touch: symlinks and the hostile image point at it. */
let hostTarget: string;
let loopDev = "";
let loopFile = "";
const started = new Set<string>();

/** The CLI with a deadline: a hang shows up as timedOut (the process is killed), never as a stuck test. */
function T(args: string[], timeoutMs = 20_000): TimedRun {
  return tinydockTimed(env, args, undefined, timeoutMs);
}

/** The CLI refusing `args`: at once, with a failing status and one line on stderr. */
function refused(args: string[]): TimedRun {
  const r = T(args);
  expect(r.timedOut).toBe(false);
  expect(r.code).not.toBe(0);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  return r;
}

/** A detached busybox container (no network) that ran `setup` and then sleeps; its name. */
async function hostile(name: string, setup: string, image = "busybox"): Promise<string> {
  const r = T(["run", "-d", "--network", "none", "--name", name, image, "sh", "-c", `${setup} && touch /ready && sleep 1000`]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  started.add(name);
  for (let i = 0; i < 200; i++) {
    if (T(["exec", name, "test", "-e", "/ready"]).code === 0) return name;
    await Bun.sleep(50);
  }
  throw new Error(`container ${name} did not get ready: ${T(["logs", name]).stderr}`);
}

function dirState(p: string): string {
  const out: string[] = [];
  const walk = (q: string) => {
    const st = fs.lstatSync(q);
    out.push(`${path.relative(p, q)} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isFile() ? fs.readFileSync(q, "utf8") : ""}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(q).sort()) walk(path.join(q, n));
  };
  walk(p);
  return out.join("\n");
}

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-hostfs-"));
  hostTarget = path.join(dir, "host-target");
  fs.mkdirSync(path.join(hostTarget, "secrets"), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(hostTarget, "secrets", "key"), "HOST KEY\n", { mode: 0o600 });
  fs.chmodSync(hostTarget, 0o755);
  reg = await startRegistry();
  const base = busyboxEntries();
  const config = { Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] };
  await pushImage(reg, "library/busybox", "latest", await buildImage({ layers: [{ entries: base }], config }));
  // /opt is a symlink to the host's directory: meaningless inside, harmful if followed on the host.
  await pushImage(reg, "library/optlink", "latest", await buildImage({ layers: [{ entries: base }, { entries: [{ name: "opt", type: "symlink", linkname: hostTarget }] }], config }));
  // An image whose /etc/passwd is a FIFO (what `run -u NAME` reads on the host).
  await pushImage(reg, "library/fifopasswd", "latest", await buildImage({ layers: [{ entries: base }, { entries: [{ name: "etc/passwd", type: "fifo", mode: 0o644 }] }], config }));
  env = newCliEnv(dir, reg);
  for (const img of ["busybox", "optlink", "fifopasswd"]) expect(tinydock(env, ["pull", "-q", img]).code).toBe(0);
  // A loop device over a file of ours: what a write through a planted device node would change.
  loopFile = path.join(dir, "loop.img");
  loopDev = attachLoop(loopFile);
});

afterAll(async () => {
  if (env) {
    for (const n of started) T(["rm", "-f", n]);
  }
  detachLoop(loopDev);
  await reg?.stop();
  const mounts = mountsUnder(dir);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  expect(mounts).toEqual([]);
});

describe("cp into a container never writes through what it planted", () => {
  test("a FIFO at the destination is replaced, not opened: cp ends at once", async () => {
    const c = await hostile("fifo-dst", "mkdir /data && mkfifo /data/f && mkdir /data/d && mkfifo /data/d/inner");
    const src = path.join(dir, "up.txt");
    fs.writeFileSync(src, "uploaded\n");
    const file = T(["cp", src, `${c}:/data/f`]);
    expect(file.timedOut).toBe(false);
    expect(file.stderr).toBe("");
    expect(file.code).toBe(0);
    // A directory copied over one holding a FIFO of the same name.
    const tree = path.join(dir, "tree");
    fs.mkdirSync(path.join(tree, "d"), { recursive: true });
    fs.writeFileSync(path.join(tree, "d", "inner"), "inner\n");
    const nested = T(["cp", `${tree}/.`, `${c}:/data/`]);
    expect(nested.timedOut).toBe(false);
    expect(nested.code).toBe(0);
    const inside = T(["exec", c, "sh", "-c", "test -f /data/f && test -f /data/d/inner && cat /data/f /data/d/inner"]);
    expect(inside.stdout).toBe("uploaded\ninner\n");
    console.log(`cp onto a FIFO: ${file.ms.toFixed(0)} ms`);
    recordCases("cp into a planted FIFO", 2);
  }, 60_000);

  test("a block device node at the destination is replaced: the device is never written", async () => {
    const rdev = fs.statSync(loopDev).rdev;
    const major = Math.floor(rdev / 256) & 0xfff;
    const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
    const c = await hostile("blk-dst", `mkdir /data && mknod /data/disk b ${major} ${minor} && mknod /data/null c 1 3`);
    const src = path.join(dir, "payload");
    fs.writeFileSync(src, "PAYLOAD-WRITTEN-THROUGH\n");
    const before = fs.readFileSync(loopFile);
    const r = T(["cp", src, `${c}:/data/disk`]);
    expect(r.timedOut).toBe(false);
    Bun.spawnSync(["blockdev", "--flushbufs", loopDev]);
    expect(fs.readFileSync(loopFile).subarray(0, 64).toString("latin1").replace(/\0+$/, "")).toBe("");
    expect(fs.readFileSync(loopFile).equals(before)).toBe(true);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(T(["cp", src, `${c}:/data/null`]).code).toBe(0);
    // Docker's behaviour: the node is replaced by the file copied in.
    expect(T(["exec", c, "sh", "-c", "test -f /data/disk && test -f /data/null && cat /data/disk"]).stdout).toBe("PAYLOAD-WRITTEN-THROUGH\n");
    recordCases("cp into a planted device node", 2);
  }, 60_000);
});

describe("cp out of a container never follows a symlink on the host", () => {
  test("a symlink brought over, then turned into a directory inside: the second copy leaves the host target alone", async () => {
    const c = await hostile("link-then-dir", `mkdir /data && echo a > /data/a && ln -s ${hostTarget} /data/link && ln -s ${hostTarget}/secrets/key /data/flink`);
    const dest = path.join(dir, "dest");
    fs.mkdirSync(dest);
    const snapshot = dirState(hostTarget);
    const first = T(["cp", `${c}:/data/.`, dest]);
    expect(first.code).toBe(0);
    expect(fs.readlinkSync(path.join(dest, "link"))).toBe(hostTarget);
    // Inside, the links become a directory (owned by 1000, mode 0777) and a file.
    const swap = T(["exec", c, "sh", "-c", "rm /data/link /data/flink && mkdir /data/link && echo pwned > /data/link/pwned && chown -R 1000:1000 /data/link && chmod 777 /data/link && echo pwned > /data/flink"]);
    expect(swap.code).toBe(0);
    const second = T(["cp", `${c}:/data/.`, dest]);
    expect(second.timedOut).toBe(false);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect(dirState(hostTarget)).toBe(snapshot);
    // Docker's behaviour: what stood there is replaced by the directory and file copied out.
    const st = fs.lstatSync(path.join(dest, "link"));
    expect(st.isDirectory()).toBe(true);
    expect(st.uid).toBe(1000);
    expect(fs.readFileSync(path.join(dest, "link", "pwned"), "utf8")).toBe("pwned\n");
    expect(fs.readFileSync(path.join(dest, "flink"), "utf8")).toBe("pwned\n");
    // The same with the directory itself as the target name (cp C:/data/link DEST/link2, twice).
    expect(T(["exec", c, "sh", "-c", `mkdir /two && ln -s ${hostTarget} /two/x`]).code).toBe(0);
    expect(T(["cp", `${c}:/two`, dest]).code).toBe(0);
    expect(T(["exec", c, "sh", "-c", "rm /two/x && mkdir /two/x && echo pwned > /two/x/pwned && chmod 700 /two/x"]).code).toBe(0);
    expect(T(["cp", `${c}:/two`, dest]).code).toBe(0);
    expect(dirState(hostTarget)).toBe(snapshot);
    expect(fs.readFileSync(path.join(dest, "two", "x", "pwned"), "utf8")).toBe("pwned\n");
    recordCases("cp out through a symlink brought over earlier", 3);
  }, 60_000);

  test("a FIFO swapped in for a file is left out of a copy, never read", async () => {
    const c = await hostile("fifo-src", "mkdir /data && echo a > /data/a && mkfifo /data/pipe");
    const dest = path.join(dir, "dest-fifo");
    fs.mkdirSync(dest);
    const r = T(["cp", "-L", `${c}:/data/pipe`, path.join(dest, "p")]);
    expect(r.timedOut).toBe(false);
    const all = T(["cp", `${c}:/data/.`, dest]);
    expect(all.code).toBe(0);
    expect(fs.readdirSync(dest).sort()).toEqual(["a"]);
    recordCases("cp out of a FIFO", 2);
  }, 60_000);
});

describe("a named volume is seeded from inside the image only", () => {
  test("an image whose /opt links to a host directory: the host's files never reach the volume", () => {
    const snapshot = dirState(hostTarget);
    const r = T(["run", "--rm", "--network", "none", "-v", "optvol:/opt/secrets", "optlink", "sh", "-c", "ls -A /opt/secrets"]);
    expect(r.timedOut).toBe(false);
    expect(r.stdout).not.toContain("key");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const data = path.join(env.root, "volumes", "optvol", "_data");
    expect(fs.readdirSync(data)).toEqual([]);
    expect(dirState(hostTarget)).toBe(snapshot);
    recordCases("volume seeded through an image symlink", 1);
  }, 60_000);
});

describe("files read from a container on the host are regular, small, and never waited for", () => {
  test("exec -u NAME with a FIFO for /etc/passwd: one clear line, at once", async () => {
    const c = await hostile("fifo-passwd", "rm /etc/passwd && mkfifo /etc/passwd");
    const r = refused(["exec", "-u", "user", c, "id"]);
    expect(r.stderr).toContain("/etc/passwd");
    expect(r.stderr).toContain("a FIFO, not a regular file");
    // A numeric user needs no passwd lookup to fail... but it is read for HOME: still no hang.
    expect(T(["exec", "-u", "1000", c, "true"]).timedOut).toBe(false);
    recordCases("exec -u with a FIFO passwd", 2);
  }, 60_000);

  test("exec -u NAME with a huge sparse /etc/passwd: refused by size, not loaded", async () => {
    const c = await hostile("sparse-passwd", "truncate -s 300M /etc/passwd");
    const r = refused(["exec", "-u", "user", c, "id"]);
    expect(r.stderr).toContain("larger than");
    // The engine's peak memory stays far below the file's size.
    const timed = Bun.spawnSync(["/usr/bin/time", "-f", "%M", BINARY, "exec", "-u", "user", c, "id"], { env: cliEnv(env), stdout: "pipe", stderr: "pipe", timeout: 20_000 });
    const maxKb = Number(timed.stderr.toString().trim().split("\n").pop());
    console.log(`exec -u with a 300 MB sparse passwd: ${r.ms.toFixed(0)} ms, peak RSS ${(maxKb / 1024).toFixed(0)} MiB`);
    expect(maxKb).toBeLessThan(200 * 1024);
    recordCases("exec -u with a huge sparse passwd", 1);
  }, 60_000);

  test("run -u NAME with an image whose /etc/passwd is a FIFO: no hang, the user is not found", () => {
    const r = refused(["run", "--rm", "--network", "none", "-u", "user", "fifopasswd", "true"]);
    expect(r.stderr).toContain('Cannot find user "user"');
    recordCases("run -u with a FIFO passwd in the image", 1);
  }, 60_000);
});
