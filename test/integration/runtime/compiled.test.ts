// The C init inside a `bun build --compile` binary, on a host without compiler or headers: a small
// binary (the Makefile's flags) whose entry calls launch() is built from a generated entry file, then
// run from "/" in a mount namespace where libc6-dev's files (libc.so, libc.a, crt*.o…), /usr/include,
// gcc and the repository's src/ are hidden. It must compile init.c from the source it embeds and
// start a container. The mounts live in that namespace and die with it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { mountsUnder } from "../../../src/rootfs/mount.ts";

const repo = path.resolve(import.meta.dir, "../../..");
const LIBDIR = "/usr/lib/x86_64-linux-gnu";
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync("/tmp/tinydock-compiled-");
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("the compiled binary compiles init.c and starts a container without libc6-dev, headers or the source tree", async () => {
  const rootfs = path.join(dir, "rootfs");
  fs.mkdirSync(path.join(rootfs, "bin"), { recursive: true });
  fs.copyFileSync("/bin/busybox", path.join(rootfs, "bin/busybox"));
  fs.chmodSync(path.join(rootfs, "bin/busybox"), 0o755);
  fs.symlinkSync("busybox", path.join(rootfs, "bin/sh"));

  const entry = path.join(dir, "entry.ts");
  fs.writeFileSync(
    entry,
    `import { launch } from ${JSON.stringify(path.join(repo, "src/runtime/launch.ts"))};
import { linuxSys } from ${JSON.stringify(path.join(repo, "src/sys/linux.ts"))};
import { initCompileMs } from ${JSON.stringify(path.join(repo, "src/sys/ffi.ts"))};
const rootfs = process.argv[2]!;
const l = await launch(linuxSys(), {
  namespaces: ["mnt", "pid", "uts"], hostname: "compiled",
  rootfs: { source: rootfs, target: rootfs, fstype: null, flags: 0x1000 /* MS_BIND */, data: null }, rootfsPath: rootfs,
  mounts: [], maskedPaths: [], readonlyPaths: [], readonlyRoot: false, devices: [], symlinks: [], cgroupProcs: [],
  uid: 0, gid: 0, additionalGids: [],
  capabilities: { bounding: 0xa80425fbn, effective: 0xa80425fbn, permitted: 0xa80425fbn, inheritable: 0n, ambient: 0n },
  noNewPrivileges: true, seccomp: null, rlimits: [], args: ["sh", "-c", "echo compiled-ok $$ $(hostname)"], env: ["PATH=/bin"],
  cwd: "/", stdio: [0, 1, 2], consoleSocket: -1, init: false, oomScoreAdj: null,
});
const status = await l.exited;
console.error("cc " + initCompileMs.toFixed(1) + " ms");
process.exit(status.exitCode);
`,
  );
  const bin = path.join(dir, "launcher");
  const build = Bun.spawnSync(["bun", "build", "--compile", "--minify", "--bytecode", "--format=esm", entry, "--outfile", bin], { cwd: repo, stderr: "pipe", stdout: "pipe" });
  expect(build.stderr.toString()).not.toContain("error");
  expect(build.exitCode).toBe(0);

  // Whiteouts (0:0 character devices) hide libc6-dev's files in an overlay over the libc directory.
  const upper = path.join(dir, "upper");
  fs.mkdirSync(upper);
  fs.mkdirSync(path.join(dir, "work"));
  const devFiles = Bun.spawnSync(["dpkg", "-L", "libc6-dev"]).stdout.toString().split("\n").filter((f) => path.dirname(f) === LIBDIR);
  expect(devFiles).toContain(`${LIBDIR}/libc.so`);
  const hide = [
    "set -e",
    ...devFiles.filter((f) => fs.existsSync(f) && !fs.statSync(f).isDirectory()).map((f) => `mknod ${upper}/${path.basename(f)} c 0 0`),
    `mount -t overlay overlay -o lowerdir=${LIBDIR},upperdir=${upper},workdir=${dir}/work ${LIBDIR}`,
    "mount -t tmpfs none /usr/include",
    ...["/usr/lib/gcc", path.join(repo, "src")].filter((d) => fs.existsSync(d)).map((d) => `mount -t tmpfs none ${d}`),
    ...["/usr/bin/gcc", "/usr/bin/cc", "/usr/bin/tcc"].filter((f) => fs.existsSync(f)).map((f) => `mount --bind /dev/null ${f}`),
    `test ! -e ${LIBDIR}/libc.so && test ! -e ${LIBDIR}/libc.a && test ! -e /usr/include/stdio.h && test ! -e ${repo}/src/sys/init.c`,
    `exec ${bin} ${rootfs}`,
  ].join("\n");
  const run = Bun.spawnSync(["unshare", "--mount", "--propagation", "private", "sh", "-c", hide], { cwd: "/", stdout: "pipe", stderr: "pipe" });
  const err = run.stderr.toString();
  expect(err).toMatch(/^cc [\d.]+ ms\n$/);
  console.log(`compiled binary, no libc6-dev: ${err.trim()}`);
  expect(run.stdout.toString()).toBe("compiled-ok 1 compiled\n");
  expect(run.exitCode).toBe(0);
  expect(mountsUnder(dir)).toEqual([]);
  expect(mountsUnder(LIBDIR)).toEqual([]);
}, 120_000);
