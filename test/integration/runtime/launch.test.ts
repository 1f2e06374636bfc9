// launch() on the real kernel (root): a busybox rootfs built here from the host's static busybox,
// an overlay over it with an upper dir of our own, Docker's default mounts/devices/masks, and a plan
// written by hand — no store, no registry. Every test runs twice: with init.c compiled by TinyCC
// (Sys.spawnContainer) and with the static init started ahead of its plan (Sys.startEarly, what a
// foreground `run` uses). Every container dies with its namespaces; the suite
// checks after each test that the host sees no mount under the temp dir.
import { DEFAULT_CAPS, testPlan } from "../../helpers/plan.ts";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { createContext } from "../../../src/context.ts";
import { SyscallError } from "../../../src/errors.ts";
import { mountsUnder, overlayMount } from "../../../src/rootfs/mount.ts";
import { earlyCloneFlags, encodePlan } from "../../../src/runtime/encode.ts";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { monitorExecutable } from "../../../src/lifecycle/monitor.ts";
import { ExecError, launch, type ExitStatus, type Launched } from "../../../src/runtime/launch.ts";
import type { RunPlan } from "../../../src/runtime/plan.ts";
import { DEFAULT_DEVICES, DEFAULT_SYMLINKS, defaultMounts, MASKED_PATHS, READONLY_PATHS } from "../../../src/runtime/spec.ts";
import { checkEncodedPlan, initCompileMs } from "../../../src/sys/ffi.ts";
import { linuxSys } from "../../../src/sys/linux.ts";
import { MS, S_IFIFO } from "../../../src/sys/sys.ts";

const sys = linuxSys();
/** Which way the describe block running now starts containers. */
let mode: "tinycc" | "early" = "tinycc";

/** launch() as `run` does it in `mode`: the early init gets the plan's fds. */
async function start(p: RunPlan): Promise<Launched> {
  if (mode === "tinycc") return launch(sys, p);
  const early = sys.startEarly(await monitorExecutable(), { cloneFlags: earlyCloneFlags(p.namespaces.filter((n) => !p.joinNamespaces?.some((j) => j.ns === n))), fds: [...p.stdio, p.consoleSocket] });
  const [stdin, stdout, stderr, tty] = early.fdMap;
  return launch(sys, { ...p, stdio: [stdin!, stdout!, stderr!], consoleSocket: tty! }, early);
}
const DOCKER_CAPS = DEFAULT_CAPS;
const APPLETS = ["sh", "cat", "echo", "hostname", "id", "ls", "sleep", "ps", "true", "readlink", "grep", "pwd", "mount", "touch", "stat", "head"];
const ESCAPE = "/tmp/escape-test-xyz";

let dir: string; // everything of this suite lives here; the leak check's pattern is in its name
let n = 0;

/** bin/busybox, applet links, /etc/passwd (mode 644, not executable), the empty dirs Docker mounts on. */
function makeImage(name: string, extra?: (root: string) => void): string {
  const root = path.join(dir, "images", name);
  for (const d of ["bin", "proc", "sys", "dev", "etc", "tmp"]) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.copyFileSync("/bin/busybox", path.join(root, "bin/busybox"));
  fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
  for (const a of APPLETS) fs.symlinkSync("busybox", path.join(root, "bin", a));
  fs.writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n", { mode: 0o644 });
  extra?.(root);
  fs.symlinkSync(`../images/${name}`, path.join(dir, "l", name));
  return root;
}

/** A fresh rootfs (overlay: the image below, an upper dir of its own) and Docker's defaults. */
function plan(over: Partial<RunPlan> = {}, image = "busybox"): RunPlan {
  const c = path.join(dir, "c", String(++n));
  for (const d of ["rootfs", "upper", "work"]) fs.mkdirSync(path.join(c, d), { recursive: true });
  const rootfsPath = path.join(c, "rootfs");
  return testPlan({
    rootfs: overlayMount({ lowers: [image], upper: path.join(c, "upper"), work: path.join(c, "work"), target: rootfsPath, root: dir, emptyLower: "empty" }),
    rootfsPath,
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
    ...over,
  });
}

/** Runs a plan with stdout and stderr in files; stdin from `input` through a real pipe (a FIFO). */
async function run(over: Partial<RunPlan>, opts: { input?: string; image?: string } = {}): Promise<{ status: ExitStatus; out: string; err: string }> {
  const io = path.join(dir, "io", String(++n));
  fs.mkdirSync(io, { recursive: true });
  const out = fs.openSync(path.join(io, "out"), "w+");
  const err = fs.openSync(path.join(io, "err"), "w+");
  let stdin = -1;
  let writer = -1;
  if (opts.input !== undefined) {
    const fifo = path.join(io, "in");
    sys.mknod(fifo, S_IFIFO | 0o600, 0);
    const opener = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK); // lets the writer open
    writer = fs.openSync(fifo, "w");
    stdin = fs.openSync(fifo, "r"); // blocking, unlike `opener`
    fs.closeSync(opener);
  }
  try {
    const launched = await start(plan({ stdio: [stdin, out, err], ...over }, opts.image));
    if (writer >= 0) {
      fs.writeSync(writer, opts.input!);
      fs.closeSync(writer);
      writer = -1;
    }
    const status = await launched.exited;
    return { status, out: fs.readFileSync(path.join(io, "out"), "utf8"), err: fs.readFileSync(path.join(io, "err"), "utf8") };
  } finally {
    for (const fd of [out, err, stdin, writer]) if (fd >= 0) fs.closeSync(fd);
  }
}

const sh = (script: string, over: Partial<RunPlan> = {}, opts: { input?: string; image?: string } = {}) => run({ args: ["sh", "-c", script], ...over }, opts);

beforeAll(() => {
  dir = fs.mkdtempSync("/tmp/tinydock-launch-");
  fs.mkdirSync(path.join(dir, "l"));
  fs.mkdirSync(path.join(dir, "empty"));
  makeImage("busybox");
  fs.rmSync(ESCAPE, { recursive: true, force: true });
  // /dev is a symlink out of the rootfs, absolute; /proc (of another image) one that climbs with "..".
  makeImage("escape", (root) => {
    fs.rmdirSync(path.join(root, "dev"));
    fs.symlinkSync(ESCAPE, path.join(root, "dev"));
  });
  makeImage("procescape", (root) => {
    fs.rmdirSync(path.join(root, "proc"));
    fs.symlinkSync(`../../../../../..${ESCAPE}-proc`, path.join(root, "proc"));
  });
});

afterEach(() => {
  expect(mountsUnder(dir)).toEqual([]);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.each(["tinycc", "early"] as const)("launch (%s)", (how) => {
  beforeAll(() => {
    mode = how;
  });

  test("PID 1, hostname, the host's files out of sight", async () => {
    const r = await sh("echo $$; hostname; test -e /work && echo host-visible; test -e " + dir + " && echo tmp-visible; echo done");
    expect(r).toMatchObject({ status: { exitCode: 0 }, out: "1\nbox\ndone\n" });
    if (how === "tinycc") console.log(`cc compile of init.c: ${initCompileMs.toFixed(1)} ms`);
  });

  test("Docker's mounts, devices and symlinks", async () => {
    const r = await sh("cat /proc/self/mountinfo; ls -l /dev /dev/pts");
    const mounts = r.out
      .split("\n")
      .filter((l) => l.includes(" - "))
      .map((l) => {
        const f = l.split(" ");
        const tail = l.split(" - ")[1]!.split(" ");
        return `${f[4]} ${tail[0]} ${f[5]}`;
      });
    expect(mounts).toEqual(
      expect.arrayContaining([
        "/ overlay rw,nodev,relatime",
        "/proc proc rw,nosuid,nodev,noexec,relatime",
        "/dev tmpfs rw,nosuid",
        "/dev/pts devpts rw,nosuid,noexec,relatime",
        "/sys sysfs ro,nosuid,nodev,noexec,relatime",
        "/dev/mqueue mqueue rw,nosuid,nodev,noexec,relatime",
        "/dev/shm tmpfs rw,nosuid,nodev,noexec,relatime",
        "/proc/sys proc ro,nosuid,nodev,noexec,relatime",
      ]),
    );
    expect(r.out).toMatch(/crw-rw-rw-\s+1 root\s+0\s+1,\s+3 .* null\n/);
    expect(r.out).toMatch(/crw-rw-rw-\s+1 root\s+0\s+1,\s+9 .* urandom\n/);
    expect(r.out).toMatch(/crw-rw-rw-\s+1 root\s+0\s+5,\s+0 .* tty\n/);
    expect(r.out).toMatch(/ ptmx -> pts\/ptmx\n/);
    expect(r.out).toMatch(/ fd -> \/proc\/self\/fd\n/);
  });

  test("capabilities, no_new_privs and a seccomp filter as planned", async () => {
    const allow = new Uint8Array([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]); // BPF_RET|BPF_K SECCOMP_RET_ALLOW
    const status = "grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/1/status";
    const hardened = await sh(status, { noNewPrivileges: true, seccomp: allow });
    expect(hardened.out).toBe(
      ["CapInh:\t0000000000000000", "CapPrm:\t00000000a80425fb", "CapEff:\t00000000a80425fb", "CapBnd:\t00000000a80425fb", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2", ""].join("\n"),
    );
    // Without no_new_privs the filter goes in while CAP_SYS_ADMIN is still there. A non-root user
    // keeps across execve only what is ambient (root would get the bounding set back).
    const caps = { bounding: DOCKER_CAPS, effective: 0x401n, permitted: 0x401n, inheritable: 0x400n, ambient: 0x400n };
    const user = await sh(status, { uid: 1000, gid: 1000, seccomp: allow, capabilities: caps });
    expect(user.out).toBe(
      ["CapInh:\t0000000000000400", "CapPrm:\t0000000000000400", "CapEff:\t0000000000000400", "CapBnd:\t00000000a80425fb", "CapAmb:\t0000000000000400", "NoNewPrivs:\t0", "Seccomp:\t2", ""].join("\n"),
    );
  });

  test("masked paths unreadable, /proc/sys read-only, --read-only root", async () => {
    // Masks that exist on this kernel (a missing one is skipped, as runc does): a file with content
    // on the host, a directory; both must read as empty, and the mounts must be there.
    expect(fs.readFileSync("/proc/timer_list", "utf8").length).toBeGreaterThan(0);
    const r = await sh(
      "wc -c < /proc/timer_list; ls -A /proc/acpi /sys/firmware | grep -c '^[^/]'; grep -oE ' /(null|) /proc/(timer_list|acpi) ' /proc/self/mountinfo; " +
        "echo x > /proc/sys/kernel/domainname || echo ro-sys; touch /new || echo ro-root",
      { readonlyRoot: true },
    );
    expect(r.out).toBe("0\n0\n / /proc/acpi \n /null /proc/timer_list \nro-sys\nro-root\n");
    expect(r.err).toContain("Read-only file system");
  });

  test("exit codes 0 and 42", async () => {
    expect((await sh("exit 0")).status).toEqual({ exitCode: 0 });
    expect((await sh("exit 42")).status).toEqual({ exitCode: 42 });
    expect((await sh("exit 42", { init: true })).status).toEqual({ exitCode: 42 });
  });

  test("126: a file that is not executable", async () => {
    const err = await run({ args: ["/etc/passwd"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect(err).toMatchObject({ exitCode: 126, errno: "EACCES", message: 'exec: "/etc/passwd": permission denied' });
  });

  test("127: a command not in $PATH, or an absolute path that does not exist", async () => {
    const err = await run({ args: ["nosuchcmd"] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 127, errno: "ENOENT", message: 'exec: "nosuchcmd": executable file not found in $PATH' });
    const abs = await run({ args: ["/nosuch"], init: true }).catch((e: unknown) => e);
    expect(abs).toMatchObject({ exitCode: 127, message: 'exec: "/nosuch": stat /nosuch: no such file or directory' });
    // The default PATH applies when the plan has none.
    expect((await run({ args: ["echo", "default-path"], env: [] })).out).toBe("default-path\n");
  });

  test("137 on SIGKILL; 143 on SIGTERM, which --init forwards", async () => {
    const killed = await start(plan({ args: ["sleep", "100"] }));
    killed.kill("SIGKILL");
    expect(await killed.exited).toEqual({ exitCode: 137, signal: 9 });
    killed.kill("SIGKILL"); // after the exit: a no-op

    const termed = await start(plan({ args: ["sleep", "100"], init: true }));
    await Bun.sleep(50);
    termed.kill(15);
    expect(await termed.exited).toEqual({ exitCode: 143 });
  });

  test("--init: the reaper is PID 1, hides tinydock's command line and its binary", async () => {
    const r = await sh("tr -d '\\000' < /proc/1/cmdline; echo; readlink /proc/1/exe || echo exe-hidden; echo $$", { init: true });
    expect(r.out).toBe("tinydock-init\nexe-hidden\n2\n");
  });

  test("stdin through a pipe", async () => {
    const r = await run({ args: ["cat"] }, { input: "piped line\n" });
    expect(r).toMatchObject({ status: { exitCode: 0 }, out: "piped line\n" });
  });

  test("uid, gid and groups switch; environment as planned", async () => {
    const r = await sh("id; echo $GREETING", { uid: 1000, gid: 1000, additionalGids: [1000, 10], env: ["PATH=/bin", "GREETING=hello there"] });
    expect(r.out).toBe("uid=1000 gid=1000 groups=10,1000\nhello there\n");
  });

  test("a missing working directory is created", async () => {
    const r = await sh("pwd; stat -c %a /work/deep", { cwd: "/work/deep/dir" });
    expect(r.out).toBe("/work/deep/dir\n755\n");
  });

  test("an image whose /dev is a symlink out of the rootfs creates nothing outside it; /proc one is refused, as runc does", async () => {
    const r = await sh("readlink /dev; echo ok > /dev/null && echo dev-null-works; cat /proc/1/cmdline | head -c 2; echo", {}, { image: "escape" });
    expect(r.out).toBe(`${ESCAPE}\ndev-null-works\nsh\n`);
    expect(fs.existsSync(ESCAPE)).toBe(false);
    const err = await sh("true", {}, { image: "procescape" }).catch((e: unknown) => e);
    expect(String(err)).toContain('filesystem "proc" must be mounted on ordinary directory');
    expect(fs.existsSync(`${ESCAPE}-proc`)).toBe(false);
  });

  test("only fds 0, 1 and 2 cross into the container", async () => {
    // PID 1 is the shell (the trailing `:` keeps it from exec'ing ls); ls lists the shell's fds.
    const r = await sh("ls /proc/1/fd; :");
    expect(r.out).toBe("0\n1\n2\n");
    // ls of its own fds: 3 is the directory it is reading.
    expect((await run({ args: ["ls", "/proc/self/fd"] })).out).toBe("0\n1\n2\n3\n");
  });

  test("/proc/1/exe is the command, not the tinydock (bun) binary", async () => {
    const r = await run({ args: ["readlink", "/proc/1/exe"] });
    expect(r.out).toBe("/bin/busybox\n");
  });

  test("bind mounts of a file and of a read-only dir; rlimits; oom_score_adj", async () => {
    const host = path.join(dir, "host");
    fs.mkdirSync(path.join(host, "vol"), { recursive: true });
    fs.writeFileSync(path.join(host, "file"), "from the host\n");
    const r = await sh("cat /etc/extra; touch /vol/x || echo ro-vol; ulimit -n; cat /proc/self/oom_score_adj", {
      mounts: [
        ...defaultMounts({ privileged: false, readonlyRoot: false }),
        { source: path.join(host, "file"), target: "/etc/extra", fstype: null, flags: MS.BIND, data: null, targetKind: "file" },
        { source: path.join(host, "vol"), target: "/vol", fstype: null, flags: MS.BIND | MS.REC, data: null, remountFlags: MS.RDONLY },
      ],
      rlimits: [{ resource: 7, soft: 1024, hard: 2048 }],
      oomScoreAdj: 500,
    });
    expect(r.out).toBe("from the host\nro-vol\n1024\n500\n");
  });

  test("a read-only bind is read-only with its submounts (mount_setattr AT_RECURSIVE); the host's stay writable", async () => {
    const host = path.join(dir, `rosub-${mode}`);
    fs.mkdirSync(path.join(host, "sub"), { recursive: true });
    sys.mount("tmpfs", path.join(host, "sub"), "tmpfs", 0, "size=64k");
    try {
      const r = await sh("touch /x/file 2>&1; touch /x/sub/file 2>&1; :", {
        mounts: [...defaultMounts({ privileged: false, readonlyRoot: false }), { source: host, target: "/x", fstype: null, flags: MS.BIND | MS.REC, data: null, remountFlags: MS.RDONLY | MS.REC }],
      });
      expect(r.out).toBe("touch: /x/file: Read-only file system\ntouch: /x/sub/file: Read-only file system\n");
      fs.writeFileSync(path.join(host, "sub", "after"), "host\n"); // EROFS here would throw
      expect(fs.readdirSync(path.join(host, "sub"))).toEqual(["after"]);
    } finally {
      sys.umount(path.join(host, "sub"), 0);
    }
  });

  test("joins the planned cgroup, then sees it as its root", async () => {
    // The cgroup root as the engine decides it (context.ts); v1: the pids hierarchy, v2: the root.
    const root = createContext({ env: { TINYDOCK_CONFIG: "/nonexistent/config.json" } }).cgroupRoot;
    const v2 = fs.existsSync(path.join(root, "cgroup.controllers"));
    const cg = v2 ? path.join(root, "tinydock-launch-test") : path.join(root, "pids", "tinydock-launch-test");
    expect(fs.existsSync(path.dirname(cg))).toBe(true);
    fs.mkdirSync(cg, { recursive: true });
    try {
      const launched = await start(plan({ args: ["sleep", "100"], cgroupProcs: [`${cg}/cgroup.procs`] }));
      expect(fs.readFileSync(`${cg}/cgroup.procs`, "utf8").trim()).toBe(String(launched.pid));
      launched.kill("SIGKILL");
      await launched.exited;
      const r = await sh(v2 ? "grep ^0:: /proc/self/cgroup" : "grep pids /proc/self/cgroup", { cgroupProcs: [`${cg}/cgroup.procs`] });
      expect(r.out).toMatch(v2 ? /^0::\/\n$/ : /pids:\/\n/);
    } finally {
      fs.rmdirSync(cg);
    }
  });

  test("a setup failure names the operation and its arguments", async () => {
    const mounts = [{ source: "none", target: "/x", fstype: "nosuchfs", flags: MS.NOSUID, data: null }];
    const err = await start(plan({ mounts })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as Error).message).toBe("mount nosuchfs on /x (MS_NOSUID): ENODEV");
    const cwd = await start(plan({ cwd: "/etc/passwd/sub" })).catch((e: unknown) => e);
    expect((cwd as Error).message).toBe("create working directory /etc/passwd/sub: ENOTDIR");
  });

  test("init.c refuses malformed plans: every truncation, length bombs, random bytes", () => {
    const good = encodePlan(plan());
    expect(checkEncodedPlan(good)).toBe(0);
    for (let len = 0; len < good.length; len++) expect(checkEncodedPlan(good.subarray(0, len))).toBeGreaterThan(0);
    // A huge count or string length at every aligned offset: refused, never read past the end.
    for (let at = 4; at + 4 <= good.length; at += 4) {
      for (const v of [0xfffffffe, 0x7fffffff, 0x10000]) {
        const bad = good.slice();
        new DataView(bad.buffer).setUint32(at, v, true);
        const rc = checkEncodedPlan(bad);
        expect(rc === 0 || rc > 0).toBe(true);
      }
    }
    for (let i = 0; i < 500; i++) expect(checkEncodedPlan(crypto.getRandomValues(new Uint8Array(1 + (i % 300))))).toBeGreaterThan(0);
  });

  test("containers alongside Bun.spawn: every exit status goes to its owner", async () => {
    const codes = [3, 4, 5, 6];
    const containers = codes.map((c) => sh(`sleep 0.0${c}; exit ${c}`));
    const children = codes.map((c) => Bun.spawn(["sh", "-c", `sleep 0.0${c}; exit ${c + 10}`]).exited);
    expect((await Promise.all(containers)).map((r) => r.status.exitCode)).toEqual(codes);
    expect(await Promise.all(children)).toEqual(codes.map((c) => c + 10));
  });

  test("100 sequential launches of `true`", async () => {
    const count = 100;
    const plans = Array.from({ length: count }, () => plan({ args: ["true"] }));
    const fds = fs.readdirSync("/proc/self/fd").length;
    const t0 = performance.now();
    for (const p of plans) {
      const l = await start(p);
      expect(await l.exited).toEqual({ exitCode: 0 });
    }
    const per = (performance.now() - t0) / count;
    console.log(`${how}: launch + exit of \`true\`: ${per.toFixed(2)} ms each (${count} sequential)`);
    expect(per).toBeLessThan(200);
    // Every pidfd and events pipe was closed (the last pipe once its stream has ended, just after).
    await Bun.sleep(20);
    // At most as many as before (the runtime may close one of its own meanwhile), never more.
    expect(fs.readdirSync("/proc/self/fd").length).toBeLessThanOrEqual(fds);
  });
});

/** Children of `pid` (from /proc/<pid>/task/<pid>/children). */
function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe("the early init (Sys.startEarly)", () => {
  const early = async (fds: number[] = [-1, -1, -1, -1]) => sys.startEarly(await monitorExecutable(), { cloneFlags: earlyCloneFlags(["pid", "mnt", "uts", "ipc", "net"]), fds });

  test("a cgroup it cannot join fails the start as init.c's cgroup stage does, naming the file", async () => {
    const procs = ["/sys/fs/cgroup/nonexistent-tinydock/cgroup.procs"];
    const err = await launch(sys, plan({ cgroupProcs: procs }), await early()).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as Error).message).toBe(`join cgroup: write 0 to ${procs[0]}: ENOENT`);
  });

  test("a plan its parser refuses is an InvalidArgumentError; nothing runs", async () => {
    const e = await early();
    const bad = encodePlan(plan()).slice(0, 40);
    const proc = e.start(bad);
    const err = await proc.started.catch((x: unknown) => x);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/^Cannot start the container: the encoded run plan is malformed at byte \d+$/);
  });

  test("cloned into fewer namespaces than the plan creates: the rest are unshared after the joins", async () => {
    const e = sys.startEarly(await monitorExecutable(), { cloneFlags: earlyCloneFlags(["pid"]), fds: [-1, -1, -1, -1] });
    const l = await launch(sys, plan({ args: ["sh", "-c", "test \"$(hostname)\" = box && test $$ = 1"] }), e);
    expect(await l.exited).toEqual({ exitCode: 0 });
  });

  test("cloned into a namespace the plan does not create, or without its PID namespace: refused, nothing runs", async () => {
    for (const cloned of [["pid", "mnt", "net"], ["mnt"]] as const) {
      const e = sys.startEarly(await monitorExecutable(), { cloneFlags: earlyCloneFlags(cloned), fds: [-1, -1, -1, -1] });
      const err = await launch(sys, plan({ namespaces: ["mnt", "pid", "uts", "ipc", "cgroup"] }), e).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toBe("Cannot start the container: the encoded run plan is malformed at byte 4");
    }
  });

  test("abort before the plan: the init and its waiting process are gone when it returns", async () => {
    const before = new Set(childrenOf(process.pid));
    const e = await early();
    const init = childrenOf(process.pid).filter((p) => !before.has(p));
    expect(init.length).toBe(1);
    let waiting: number[] = [];
    for (let i = 0; i < 100 && waiting.length === 0; i++) {
      waiting = childrenOf(init[0]!);
      if (waiting.length === 0) await Bun.sleep(5);
    }
    expect(waiting.length).toBe(1); // cloned at once, before any plan
    e.abort();
    expect(fs.existsSync(`/proc/${waiting[0]}`)).toBe(false);
    const stat = `/proc/${init[0]}/stat`;
    const state = fs.existsSync(stat) ? (fs.readFileSync(stat, "utf8").split(") ")[1] ?? "").slice(0, 1) : "gone";
    expect(["Z", "gone"]).toContain(state); // exited (Bun reaps it from its event loop)
    e.abort(); // idempotent
  });

  test("discard after the end: the init deletes the tree on its own, never following a symlink out of it", async () => {
    const e = sys.startEarly(await monitorExecutable(), { cloneFlags: earlyCloneFlags(["pid", "mnt", "uts", "ipc", "net"]), fds: [-1, -1, -1, -1], discardAfterExit: true });
    const l = await launch(sys, plan({ args: ["true"] }), e);
    expect(await l.exited).toEqual({ exitCode: 0 });
    const outside = path.join(dir, "outside-discard");
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(path.join(outside, "keep"), "kept\n");
    const tree = path.join(dir, ".trash-discard-test");
    fs.mkdirSync(path.join(tree, "a/b/c"), { recursive: true });
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(tree, "a", `f${i}`), "x");
    fs.writeFileSync(path.join(tree, "a/b/c/deep"), "x");
    fs.symlinkSync(outside, path.join(tree, "a/out")); // a link to a directory outside
    fs.symlinkSync(path.join(outside, "keep"), path.join(tree, "a/b/keep-link"));
    sys.mknod(path.join(tree, "fifo"), S_IFIFO | 0o600, 0);
    expect(e.discard(tree)).toBe(true);
    for (let i = 0; i < 200 && fs.existsSync(tree); i++) await Bun.sleep(10);
    expect(fs.existsSync(tree)).toBe(false);
    expect(fs.readFileSync(path.join(outside, "keep"), "utf8")).toBe("kept\n");
  });

  test("abort of a running container kills it and waits for its end", async () => {
    const e = await early();
    const l = await launch(sys, plan({ args: ["sleep", "100"] }), e);
    e.abort();
    expect(fs.existsSync(`/proc/${l.pid}`)).toBe(false);
    expect(await l.exited).toEqual({ exitCode: 137, signal: 9 });
  });

  test("stdin as fd 0 reaches the container (Bun.spawn mistakes a 0 among its extra stdio)", async () => {
    const io = path.join(dir, "io", "stdin0");
    fs.mkdirSync(io, { recursive: true });
    const out = fs.openSync(path.join(io, "out"), "w+");
    // This test process's own fd 0 is /dev/null under bun test: the container reads EOF from it, no EINVAL.
    try {
      const e = await early([0, out, out, -1]);
      const [i, o, er] = e.fdMap;
      const l = await launch(sys, plan({ args: ["sh", "-c", "cat; echo read:$?"], stdio: [i!, o!, er!] }), e);
      expect(await l.exited).toEqual({ exitCode: 0 });
      expect(fs.readFileSync(path.join(io, "out"), "utf8")).toBe("read:0\n");
    } finally {
      fs.closeSync(out);
    }
  });
});
