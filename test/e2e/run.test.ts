// `tinydock run` as a user runs it: isolation, Docker's defaults and hardening, docker-run flags,
// cgroup limits, exit codes — with the busybox image from images/busybox pushed to a real registry.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BINARY, cliEnv, spawnTinydock, tinydock, type CliEnv } from "../helpers/cli.ts";
import { useE2e } from "../helpers/e2e.ts";
import { findLeaks, newLeaks } from "../helpers/leakcheck.ts";

let env: CliEnv;
let dir: string;
const R = (args: string[], stdin?: string) => tinydock(env, ["run", "--rm", ...args], stdin);

useE2e({ prefix: "td-run-", rootName: "tinydock-root", netns: false }, (e) => ({ env, dir } = e));

describe("isolation", () => {
  test("the entrypoint is PID 1 with its own hostname, in the image's rootfs only", () => {
    const r = R(["--hostname", "box1", "busybox", "sh", "-c", "echo $$; hostname; ls /; test -e /work && echo HOST-VISIBLE; cat /etc/hostname"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("1");
    expect(lines[1]).toBe("box1");
    expect(r.stdout).toContain("www");
    expect(r.stdout).not.toContain("HOST-VISIBLE");
    expect(lines.at(-1)).toBe("box1");
  });

  test("Docker's mounts: proc, sysfs ro, tmpfs /dev with devices, devpts, shm, mqueue", () => {
    const r = R(["busybox", "sh", "-c", "cat /proc/mounts; ls /dev"]);
    expect(r.code).toBe(0);
    for (const m of [/^proc \/proc proc /m, /^sysfs \/sys sysfs ro,/m, /^tmpfs \/dev tmpfs /m, /^devpts \/dev\/pts devpts /m, /^shm \/dev\/shm tmpfs /m, /^mqueue \/dev\/mqueue mqueue /m, /^overlay \/ overlay /m]) {
      expect(r.stdout).toMatch(m);
    }
    for (const d of ["null", "zero", "full", "random", "urandom", "tty", "ptmx", "fd", "stdin", "shm", "pts"]) expect(r.stdout).toContain(d);
  });

  test("default capabilities, --privileged, --cap-drop ALL, --cap-add", () => {
    const capEff = (args: string[]) => /CapEff:\s*([0-9a-f]+)/.exec(R([...args, "busybox", "grep", "CapEff", "/proc/self/status"]).stdout)?.[1];
    expect(capEff([])).toBe("00000000a80425fb");
    expect(capEff(["--cap-drop", "ALL"])).toBe("0000000000000000");
    expect(capEff(["--cap-add", "NET_ADMIN"])).toBe("00000000a80435fb");
    // --privileged: every capability the engine itself holds (a sandbox may lack some).
    const bnd = /CapBnd:\s*([0-9a-f]+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))![1]!;
    expect(capEff(["--privileged"])).toBe(bnd);
  });

  test("NoNewPrivs, seccomp filter mode, masked and read-only paths", () => {
    const status = R(["--security-opt", "no-new-privileges", "busybox", "cat", "/proc/self/status"]).stdout;
    expect(status).toMatch(/NoNewPrivs:\s*1/);
    expect(status).toMatch(/Seccomp:\s*2/);
    expect(R(["busybox", "cat", "/proc/self/status"]).stdout).toMatch(/NoNewPrivs:\s*0/);
    expect(R(["--security-opt", "seccomp=unconfined", "busybox", "cat", "/proc/self/status"]).stdout).toMatch(/Seccomp:\s*0/);
    const masked = R(["busybox", "sh", "-c", "wc -c < /proc/keys; cat /proc/timer_list; ls /sys/firmware; echo end"]);
    expect(masked.stdout.trim().split("\n")).toEqual(["0", "end"]);
    const sys = R(["busybox", "sh", "-c", "echo 1 > /proc/sys/kernel/domainname && echo WROTE"]);
    expect(sys.stdout).not.toContain("WROTE");
    expect(sys.stderr).toMatch(/Read-only file system/);
  });

  test("seccomp refuses what Docker refuses (unshare, mount) even with the caps to try", () => {
    const r = R(["busybox", "sh", "-c", "unshare -u true; echo rc=$?"]);
    expect(r.stdout).toContain("rc=1");
  });

  test("no host fd leaks into the container and /proc/1/exe is not the engine", () => {
    const r = R(["busybox", "sh", "-c", "ls /proc/self/fd; readlink /proc/1/exe"]);
    expect(r.stdout.trim().split("\n")).toEqual(["0", "1", "2", "3", "/bin/busybox"]);
  });
});

describe("docker-run flags", () => {
  test("-u 1000:1000, -u user, -w creates the directory", () => {
    expect(R(["-u", "1000:1000", "busybox", "id"]).stdout).toBe("uid=1000(user) gid=1000(user) groups=1000(user)\n");
    expect(R(["-u", "4242:4242", "busybox", "id"]).stdout).toBe("uid=4242 gid=4242 groups=4242\n");
    expect(R(["-u", "user", "busybox", "sh", "-c", "id -u; echo $HOME"]).stdout).toBe("1000\n/home/user\n");
    expect(R(["-w", "/new/dir", "busybox", "pwd"]).stdout).toBe("/new/dir\n");
  });

  test("environment precedence: image < --env-file < -e; -e K from the host", () => {
    const f = path.join(dir, "envfile");
    fs.writeFileSync(f, "# comment\nA=file\nB=file\n");
    const r = tinydock({ ...env }, ["run", "--rm", "--env-file", f, "-e", "B=flag", "-e", "PATH", "busybox", "sh", "-c", 'echo "$A $B $HOSTNAME $HOME"; echo $PATH']);
    const [first, pathLine] = r.stdout.trim().split("\n");
    expect(first).toMatch(/^file flag [0-9a-f]{12} \/root$/);
    expect(pathLine).toBe("/usr/sbin:/usr/bin:/sbin:/bin");
  });

  test("-v rw and ro binds; a missing host dir is created", () => {
    const host = path.join(dir, "vol");
    fs.mkdirSync(host);
    fs.writeFileSync(path.join(host, "in"), "from host\n");
    const r = R(["-v", `${host}:/data`, "-v", `${host}:/ro:ro`, "busybox", "sh", "-c", "cat /data/in; echo out > /data/out; echo x > /ro/x || echo RO"]);
    expect(r.stdout).toBe("from host\nRO\n");
    expect(fs.readFileSync(path.join(host, "out"), "utf8")).toBe("out\n");
    const made = path.join(dir, "made/by/run");
    expect(R(["-v", `${made}:/m`, "busybox", "true"]).code).toBe(0);
    expect(fs.statSync(made).isDirectory()).toBe(true);
  });

  test("-v onto /proc is refused", () => {
    const r = R(["-v", `${dir}:/proc`, "busybox", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/"\/proc" cannot be mounted because it is inside \/proc/);
  });

  test("--read-only with --tmpfs", () => {
    const r = R(["--read-only", "--tmpfs", "/run", "busybox", "sh", "-c", "touch /x || echo RO; touch /run/ok && echo TMPFS"]);
    expect(r.stdout).toBe("RO\nTMPFS\n");
  });

  test("stdin is piped with -i and empty without", () => {
    expect(R(["-i", "busybox", "tr", "a-z", "A-Z"], "hello\n").stdout).toBe("HELLO\n");
    expect(R(["busybox", "cat"], "ignored\n").stdout).toBe("");
  });

  test("-t gives the container a terminal (CRLF output as Docker's); -it from a pipe is refused as Docker's", () => {
    const t = R(["-t", "busybox", "sh", "-c", "test -t 0 && test -t 1 && echo on-a-tty"]);
    expect(t.stdout).toBe("on-a-tty\r\n");
    // Typing at -it from a real terminal: test/e2e/terminal.test.ts.
    const it = R(["-it", "busybox", "sh"], "echo typed-$((6*7))\nexit 3\n");
    expect(it.code).toBe(1);
    expect(it.stderr).toBe("Error: the input device is not a TTY\n");
    // The terminal has a name inside: its own devpts's, as under runc; none without -t.
    expect(R(["-t", "busybox", "tty"]).stdout).toBe("/dev/pts/0\r\n");
    const none = R(["busybox", "sh", "-c", "tty; test -e /dev/console || echo no-console"]);
    expect(none.stdout).toBe("not a tty\nno-console\n");
  });

  test("named volumes are seeded from the image and kept", () => {
    expect(R(["-v", "webdata:/www", "busybox", "sh", "-c", "ls /www; echo more > /www/added"]).stdout).toContain("index.html");
    expect(R(["-v", "webdata:/www", "busybox", "cat", "/www/added"]).stdout).toBe("more\n");
  });
});

describe("exit codes", () => {
  test.each([
    [["true"], 0],
    [["sh", "-c", "exit 42"], 42],
    [["/etc/passwd"], 126],
    [["nosuchcommand"], 127],
    [["sh", "-c", "sh -c 'kill -9 $$'; exit $?"], 137],
  ])("%p → %p", (args, code) => {
    const r = R(["busybox", ...(args as string[])]);
    expect(r.code).toBe(code as number);
  });

  test("a missing command is one line naming it", () => {
    const r = R(["busybox", "nosuchcommand"]);
    expect(r.stderr).toMatch(/^Error: exec: "nosuchcommand": executable file not found in \$PATH\n$/);
  });

  test("SIGTERM to tinydock with --init: the command dies of it, exit 143", async () => {
    const p = spawnTinydock(env, ["run", "--rm", "--init", "busybox", "sleep", "30"]);
    await Bun.sleep(1000);
    p.kill("SIGTERM");
    expect(await p.exited).toBe(143);
  });

  test("SIGKILL of the container's PID 1 from the host: exit 137", async () => {
    const p = spawnTinydock(env, ["run", "--rm", "--name", "victim", "busybox", "sleep", "30"]);
    let pid = 0;
    for (let i = 0; i < 50 && !pid; i++) {
      await Bun.sleep(100);
      for (const id of fs.existsSync(path.join(env.root, "containers")) ? fs.readdirSync(path.join(env.root, "containers")) : []) {
        // The live state (pid included) is run.json's, written by the supervising `run`.
        const dir = path.join(env.root, "containers", id);
        // The directory exists a moment before its record (and a .trash-* one has none).
        if (!fs.existsSync(path.join(dir, "state.json"))) continue;
        const st = JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8"));
        const run = fs.existsSync(path.join(dir, "run.json")) ? JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")) : {};
        if (st.name === "victim" && run.pid) pid = run.pid;
      }
    }
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    expect(await p.exited).toBe(137);
  });

  test("where the kernel will not execute the embedded init from a memfd, run executes a read-only copy of it", () => {
    // vm.memfd_noexec is per PID namespace: 2 (no executable memfd at all) in a new one, the host's stays.
    const before = fs.readFileSync("/proc/sys/vm/memfd_noexec", "utf8");
    const script = `echo 2 > /proc/sys/vm/memfd_noexec && exec ${BINARY} --debug run --rm busybox sh -c 'echo fallback:$$'`;
    const r = Bun.spawnSync(["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script], { env: cliEnv(env), stdout: "pipe", stderr: "pipe" });
    expect(r.stdout.toString()).toBe("fallback:1\n");
    expect(r.exitCode).toBe(0);
    expect(fs.readFileSync("/proc/sys/vm/memfd_noexec", "utf8")).toBe(before);
  });

  test("a signal sent to tinydock reaches the container", async () => {
    const p = spawnTinydock(env, ["run", "--rm", "busybox", "sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.1; done"]);
    await Bun.sleep(1500);
    p.kill("SIGTERM");
    expect(await p.exited).toBe(7);
  });
});

describe("cgroup limits", () => {
  test("-m 16m and a 64 MB allocation: OOM kill, exit 137", () => {
    const r = R(["-m", "16m", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]);
    expect(r.code).toBe(137);
  });

  test("--pids-limit stops a fork loop", () => {
    const r = R(["--pids-limit", "8", "busybox", "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 2 & done 2>/dev/null; echo $(ls /proc | grep -c '^[0-9]')"]);
    expect(Number(r.stdout.trim())).toBeLessThanOrEqual(9);
  });

  test("--cpus 0.5 sets the quota in the container's cgroup", async () => {
    const p = spawnTinydock(env, ["run", "--rm", "--cpus", "0.5", "--cpu-shares", "700", "busybox", "sleep", "3"]);
    try {
      let quota = "";
      for (let i = 0; i < 40 && !quota; i++) {
        await Bun.sleep(100);
        const base = "/sys/fs/cgroup/cpu/tinydock";
        for (const id of fs.existsSync(base) ? fs.readdirSync(base) : []) {
          const f = path.join(base, id, "cpu.cfs_quota_us");
          if (fs.existsSync(f) && fs.readFileSync(path.join(base, id, "cpu.shares"), "utf8").trim() === "700") quota = fs.readFileSync(f, "utf8").trim();
        }
      }
      expect(quota).toBe("50000");
    } finally {
      await p.exited;
    }
  });
});

describe("nothing is left", () => {
  test("--rm and failed runs leave no container dir, mount or cgroup", async () => {
    // What appears on the host from here on, but for other roots' mounts (a user's containers, a
    // parallel job) and the parent cgroup tinydock/, which outlives containers as docker's does.
    const before = findLeaks();
    expect(R(["busybox", "nosuchcommand"]).code).toBe(127);
    expect(R(["-v", "/x:relative", "busybox", "true"]).code).toBe(125);
    // A --rm run's directory leaves the listing at once (renamed .trash-*), and its init deletes
    // it while the CLI exits: give that deletion a bounded moment.
    // The names lock file (a --name run's) stays, as for run -d.
    const listing = () => (fs.existsSync(path.join(env.root, "containers")) ? fs.readdirSync(path.join(env.root, "containers")).filter((n) => n !== ".names.lock") : []);
    for (let i = 0; i < 50 && listing().length > 0; i++) await Bun.sleep(100);
    expect(listing()).toEqual([]);
    // The default bridge and its NAT chains stay (as docker0) until `network prune` finds them unused.
    expect(tinydock(env, ["network", "prune", "-f"]).code).toBe(0);
    const ours = (l: string) => !l.includes("docker-registry") && !l.startsWith("process") && (!l.startsWith("mount:") || l.includes(env.root)) && (!l.startsWith("cgroup:") || /tinydock\/[0-9a-f]{64}$/.test(l));
    expect(newLeaks(before).filter(ours)).toEqual([]);
  });
});
