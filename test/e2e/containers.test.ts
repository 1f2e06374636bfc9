// The container verbs as a user runs them: ps, inspect, logs, stop, kill, rm, wait, rename, top,
// stats, pause/unpause, cp, container prune, system prune. Running containers are foreground
// `tinydock run` processes in the background (their supervisor), or, for crash cases, records
// whose supervisor is gone. Everything made here is removed; a leak check ends the file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { CliEnv } from "../helpers/cli.ts";
import { startE2e, until, type E2e } from "../helpers/e2e.ts";

// Containers get the default bridge network: the engine runs in a netns of this test's own.
let e: E2e | undefined;
let env: CliEnv;
let dir: string;
let T: E2e["T"];
const spawned: ReturnType<E2e["spawn"]>[] = [];
const containersDir = () => path.join(env.root, "containers");
const CGROUP = "/sys/fs/cgroup";

beforeAll(async () => {
  e = await startE2e({ prefix: "td-cmds-", rootName: "tinydock-root" });
  ({ env, dir, T } = e);
});

/** Every cgroup dir named after one of our containers' ids, in any hierarchy. */
function cgroupsOf(ids: Set<string>): string[] {
  const out: string[] = [];
  for (const h of fs.readdirSync(CGROUP)) {
    const parent = path.join(CGROUP, h, "tinydock");
    let names: string[] = [];
    try {
      names = fs.readdirSync(parent);
    } catch {}
    for (const n of names) if (ids.has(n)) out.push(path.join(parent, n));
  }
  return out;
}

const seenIds = new Set<string>();
function idsNow(): string[] {
  try {
    const ids = fs.readdirSync(containersDir()).filter((n) => /^[a-f0-9]{64}$/.test(n));
    for (const i of ids) seenIds.add(i);
    return ids;
  } catch {
    return [];
  }
}

afterAll(async () => {
  for (const p of spawned) {
    try {
      p.kill(9);
    } catch {}
  }
  if (!e) return;
  idsNow();
  T(["rm", "-f", ...idsNow()]);
  T(["system", "prune", "-f"]);
  const veths = e.links().split("\n").filter((l) => / td[0-9a-f]{11}[@:]/.test(l));
  // Nothing of ours is left in the kernel.
  const cg = cgroupsOf(seenIds);
  const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => dir && l.includes(dir));
  await e.stop();
  expect(veths).toEqual([]);
  expect(cg).toEqual([]);
  expect(mounts).toEqual([]);
});

/** Starts `tinydock run --name NAME busybox CMD…` in the background; resolves once it runs. */
async function background(name: string, cmd: string[], extra: string[] = []): Promise<{ id: string; proc: ReturnType<E2e["spawn"]> }> {
  const proc = e!.spawn(["run", "--name", name, ...extra, "busybox", ...cmd]);
  spawned.push(proc);
  for (let i = 0; i < 200; i++) {
    const r = T(["inspect", "-f", "{{.Id}} {{.State.Status}}", name]);
    if (r.code === 0 && r.stdout.trim().endsWith(" running")) {
      const id = r.stdout.trim().split(" ")[0]!;
      seenIds.add(id);
      return { id, proc };
    }
    await Bun.sleep(50);
  }
  throw new Error(`container ${name} did not start: ${await new Response(proc.stderr).text()}`);
}

function exited(name: string, cmd: string[]): string {
  const r = T(["run", "--name", name, "busybox", ...cmd]);
  const id = T(["inspect", "-f", "{{.Id}}", name]).stdout.trim();
  expect(id).toMatch(/^[a-f0-9]{64}$/);
  seenIds.add(id);
  void r;
  return id;
}

describe("ps, inspect, rename, wait, rm on exited containers", () => {
  test("ps -a columns, -q, filters, --format json, inspect fields and templates", () => {
    const id = exited("three", ["sh", "-c", "exit 3"]);
    const ps = T(["ps", "-a"]);
    expect(ps.code).toBe(0);
    const lines = ps.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    const row = lines.find((l) => l.includes("three"))!;
    expect(row).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'exit 3'"\\s+.* ago\\s+Exited \\(3\\) .* ago\\s+three$`));
    // Not running: hidden from plain ps.
    expect(T(["ps"]).stdout).not.toContain("three");
    expect(T(["ps", "-aq", "--filter", "name=^/three$"]).stdout).toBe(`${id.slice(0, 12)}\n`);
    expect(T(["ps", "-q", "--filter", "status=exited", "--filter", "exited=3", "--no-trunc"]).stdout).toContain(`${id}\n`);
    expect(T(["ps", "-q", "--filter", "status=running"]).stdout).not.toContain(id.slice(0, 12));
    const json = JSON.parse(T(["ps", "-a", "--format", "json", "--filter", "name=three"]).stdout);
    expect(json).toMatchObject({ ID: id.slice(0, 12), Names: "three", State: "exited", Image: "busybox" });
    expect(T(["ps", "-a", "--format", "{{.Names}}:{{.State}}", "-f", "name=three"]).stdout).toBe("three:exited\n");
    expect(T(["ps", "-a", "--filter", "bogus=1"]).code).not.toBe(0);
    expect(T(["ps", "-as", "--filter", "name=three"]).stdout).toMatch(/\s+SIZE\n.*three\s+\d+B \(virtual [\d.]+[kM]B\)\n$/);

    const inspect = JSON.parse(T(["inspect", "three"]).stdout);
    expect(inspect).toHaveLength(1);
    const c = inspect[0];
    expect(c).toMatchObject({ Id: id, Name: "/three", Path: "sh", Args: ["-c", "exit 3"], RestartCount: 0 });
    expect(c.State).toMatchObject({ Status: "exited", Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 3, Error: "" });
    for (const k of ["Created", "Image", "HostConfig", "Config", "Mounts", "NetworkSettings"]) expect(c).toHaveProperty(k);
    expect(c.State.StartedAt).toMatch(/^\d{4}-/);
    expect(c.Config.Image).toBe("busybox");
    expect(T(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{json .State.Running}}", id.slice(0, 8)]).stdout).toBe("exited 3 false\n");
    const missing = T(["inspect", "nope-nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No such object: nope-nope");
    expect(missing.stdout.trim()).toBe("[]");
  });

  test("wait prints the exit code; rename; a taken name; rm by prefix; No such container", () => {
    const id = exited("seven", ["sh", "-c", "exit 7"]);
    expect(T(["wait", "seven"]).stdout).toBe("7\n");
    expect(T(["rename", "seven", "eight"]).code).toBe(0);
    expect(T(["inspect", "-f", "{{.Name}}", id]).stdout).toBe("/eight\n");
    const clash = T(["rename", "eight", "three"]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain('Conflict. The container name "/three" is already in use');
    const rm = T(["rm", id.slice(0, 10), "ghost"]);
    expect(rm.code).toBe(1);
    expect(rm.stdout).toBe(`${id.slice(0, 10)}\n`);
    expect(rm.stderr).toBe("Error: No such container: ghost\n");
    expect(fs.existsSync(path.join(containersDir(), id))).toBe(false);
  });

  test("logs: json-file and rotated files in order, streams, --tail, -t, --since", () => {
    const id = exited("logger", ["true"]);
    const d = path.join(containersDir(), id);
    const l = (log: string, stream: string, s: number) => `${JSON.stringify({ log, stream, time: `2026-11-23T22:00:0${s}.000000001Z` })}\n`;
    fs.writeFileSync(path.join(d, `${id}-json.log.2`), l("one\n", "stdout", 1));
    fs.writeFileSync(path.join(d, `${id}-json.log.1`), l("two\n", "stderr", 2));
    fs.writeFileSync(path.join(d, `${id}-json.log`), l("three\n", "stdout", 3) + l("four\n", "stdout", 4));
    const r = T(["logs", "logger"]);
    expect(r.stdout).toBe("one\nthree\nfour\n");
    expect(r.stderr).toBe("two\n");
    expect(T(["logs", "--tail", "1", "logger"]).stdout).toBe("four\n");
    expect(T(["logs", "-t", "--tail", "1", "logger"]).stdout).toBe("2026-11-23T22:00:04.000000001Z four\n");
    expect(T(["logs", "--since", "2026-11-23T22:00:03Z", "logger"]).stdout).toBe("three\nfour\n");
    expect(T(["logs", "--until", "2026-11-23T22:00:01.5Z", "logger"]).stdout).toBe("one\n");
    // -f on an exited container prints what is there and ends.
    expect(T(["logs", "-f", "logger"]).stdout).toBe("one\nthree\nfour\n");
    expect(T(["rm", "logger"]).code).toBe(0);
  });
});

describe("running containers", () => {
  test("ps shows Up; rm refuses a running one in Docker's words; top; stats; pause/unpause; stop -t 1 timing; rm", async () => {
    const { id, proc } = await background("sleeper", ["sleep", "1000"]);
    const ps = T(["ps"]);
    expect(ps.stdout).toMatch(new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+"sleep 1000"\\s+.*Up .*sleeper`));
    const rm = T(["rm", "sleeper"]);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toBe(`Error: You cannot remove a running container ${id}. Stop the container before attempting removal or force remove\n`);

    const top = T(["top", "sleeper"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n/);
    expect(top.stdout).toMatch(/root\s+\d+\s+\d+\s+\d+\s+\S+\s+\?\s+00:00:00\s+sleep 1000\n/);

    // Docker's `top C [ps options]`: the host's ps, only the container's processes.
    const aux = T(["top", "sleeper", "aux"]);
    expect(aux.stdout).toMatch(/^USER\s+PID\s+%CPU/);
    expect(aux.stdout.trim().split("\n").slice(1).map((l) => l.split(/\s+/).slice(10).join(" "))).toEqual(["sleep 1000"]);
    // ps's own flags too (`-o pid,comm`): they are ps's, not tinydock's.
    const cols = T(["top", "sleeper", "-o", "pid,comm"]);
    expect({ code: cols.code, stderr: cols.stderr }).toEqual({ code: 0, stderr: "" });
    expect(cols.stdout).toMatch(/^\s*PID\s+COMMAND\n\s*\d+\s+sleep\n$/);

    const stats = T(["stats", "--no-stream", "sleeper"]);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\n/);
    expect(stats.stdout).toMatch(new RegExp(`${id.slice(0, 12)}\\s+sleeper\\s+\\d+\\.\\d\\d%\\s+[\\d.]+[KMG]?i?B \\/ [\\d.]+[KMG]iB\\s+\\d+\\.\\d\\d%\\s+.*\\s1\\n`));

    expect(T(["pause", "sleeper"]).stdout).toBe("sleeper\n");
    expect(T(["inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", "sleeper"]).stdout).toBe("paused true true\n");
    expect(T(["ps"]).stdout).toMatch(/Up .* \(Paused\)\s+8080\/tcp\s+sleeper/); // the image EXPOSEs 8080
    const again = T(["pause", "sleeper"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`Container ${id} is already paused`);
    expect(T(["unpause", "sleeper"]).code).toBe(0);
    expect(T(["inspect", "-f", "{{.State.Status}}", "sleeper"]).stdout).toBe("running\n");
    expect(T(["unpause", "sleeper"]).stderr).toContain(`Container ${id} is not paused`);

    // PID 1 ignores SIGTERM (no handler): stop waits -t 1, then SIGKILL.
    const t0 = performance.now();
    const stop = T(["stop", "-t", "1", "sleeper"]);
    const took = performance.now() - t0;
    expect(stop.code).toBe(0);
    expect(stop.stdout).toBe("sleeper\n");
    expect(took).toBeGreaterThan(900);
    expect(took).toBeLessThan(4000);
    console.log(`stop -t 1 of a container that ignores SIGTERM: ${took.toFixed(0)} ms`);
    expect(await proc.exited).toBe(137);
    expect(fs.existsSync(path.join(containersDir(), id, "stopping"))).toBe(true);
    expect(T(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "sleeper"]).stdout).toBe("exited 137\n");
    // Stopping a stopped container is fine, as in Docker.
    expect(T(["stop", "sleeper"]).code).toBe(0);
    expect(T(["kill", "sleeper"]).stderr).toContain(`Container ${id} is not running`);
    expect(T(["rm", "sleeper"]).code).toBe(0);
    expect(cgroupsOf(new Set([id]))).toEqual([]);
  });

  test("stop sends the signal a process handles: sh with a TERM trap exits at once with its code", async () => {
    const { proc } = await background("trapper", ["sh", "-c", "trap 'exit 42' TERM; while true; do sleep 0.1; done"]);
    const t0 = performance.now();
    expect(T(["stop", "trapper"]).code).toBe(0);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(await proc.exited).toBe(42);
    expect(T(["wait", "trapper"]).stdout).toBe("42\n");
    expect(T(["rm", "trapper"]).code).toBe(0);
  });

  test("kill -s, wait through to the exit code", async () => {
    const { proc } = await background("killme", ["sh", "-c", "trap 'exit 9' USR1; while true; do sleep 0.1; done"]);
    const waiter = e!.spawn(["wait", "killme"]);
    spawned.push(waiter);
    expect(T(["kill", "-s", "SIGUSR1", "killme"]).stdout).toBe("killme\n");
    expect(await proc.exited).toBe(9);
    expect(await waiter.exited).toBe(0);
    expect(await new Response(waiter.stdout).text()).toBe("9\n");
    expect(T(["kill", "-s", "NOPE", "killme"]).code).not.toBe(0);
    expect(T(["rm", "killme"]).code).toBe(0);
  });

  test("rm -f of a running container: killed, cgroup and directory gone", async () => {
    const { id, proc } = await background("forced", ["sleep", "1000"]);
    const rm = T(["rm", "-f", "forced"]);
    expect(rm.code).toBe(0);
    await proc.exited;
    expect(fs.existsSync(path.join(containersDir(), id))).toBe(false);
    expect(cgroupsOf(new Set([id]))).toEqual([]);
  });
});

describe("logs -f", () => {
  test("follows lines as they are written, stdout and stderr apart, and ends when the container exits", async () => {
    const { id } = await background("follower", ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]);
    const log = path.join(containersDir(), id, `${id}-json.log`);
    const entry = (text: string, stream = "stdout") => `${JSON.stringify({ log: text, stream, time: new Date().toISOString().replace("Z", "000000Z") })}\n`;
    fs.writeFileSync(log, entry("first\n"));
    const f = e!.spawn(["logs", "-f", "--tail", "1", "follower"]);
    spawned.push(f);
    const reader = f.stdout.getReader();
    const read = async () => new TextDecoder().decode((await reader.read()).value);
    expect(await read()).toBe("first\n");
    fs.appendFileSync(log, entry("second\n"));
    expect(await read()).toBe("second\n");
    fs.appendFileSync(log, entry("to stderr\n", "stderr"));
    // Rotation: the live file becomes .1, a new one starts.
    fs.renameSync(log, `${log}.1`);
    fs.writeFileSync(log, entry("after rotation\n"));
    expect(await read()).toBe("after rotation\n");
    expect(T(["stop", "follower"]).code).toBe(0);
    const ended = await Promise.race([f.exited, Bun.sleep(5000).then(() => "timeout")]);
    expect(ended).toBe(0);
    expect(await new Response(f.stderr).text()).toBe("to stderr\n");
    expect(T(["rm", "follower"]).code).toBe(0);
  });
});

describe("cp", () => {
  test("both ways with a running container; a symlink pointing out never leaks host files or writes outside", async () => {
    const host = path.join(dir, "cp");
    fs.mkdirSync(host);
    const secret = path.join(dir, "host-secret");
    fs.writeFileSync(secret, "HOST SECRET\n");
    const { id } = await background("copier", [
      "sh",
      "-c",
      `mkdir -p /data/sub && echo hello > /data/a.txt && echo deep > /data/sub/b.txt && ln -s ${secret} /data/escape && ln -s ../../../../../../../${secret} /data/escape2 && ln -s / /data/rootlink && sleep 1000`,
    ]);
    for (let i = 0; i < 100 && T(["cp", "copier:/data/rootlink", path.join(host, "probe")]).code !== 0; i++) await Bun.sleep(50);
    fs.rmSync(path.join(host, "probe"), { force: true });

    // Container → host: a file, a directory (into an existing dir), contents with "/.".
    expect(T(["cp", "copier:/data/a.txt", path.join(host, "a.txt")]).code).toBe(0);
    expect(fs.readFileSync(path.join(host, "a.txt"), "utf8")).toBe("hello\n");
    expect(T(["cp", "copier:/data", host]).code).toBe(0);
    expect(fs.readFileSync(path.join(host, "data", "sub", "b.txt"), "utf8")).toBe("deep\n");
    // Symlinks are copied as links, never followed to the host's file.
    expect(fs.readlinkSync(path.join(host, "data", "escape"))).toBe(secret);
    // Following the link (-L) resolves it inside the container, where there is no such file.
    const follow = T(["cp", "-L", "copier:/data/escape", path.join(host, "leak")]);
    expect(follow.code).not.toBe(0);
    expect(fs.existsSync(path.join(host, "leak"))).toBe(false);
    // A path through a symlink to "/" stays in the container's root.
    expect(T(["cp", "copier:/data/rootlink/etc/hostname", path.join(host, "hn")]).code).toBe(0);
    expect(fs.readFileSync(path.join(host, "hn"), "utf8").trim()).toBe(id.slice(0, 12));
    expect(T(["cp", `copier:/data/escape2`, path.join(host, "e2")]).code).toBe(0);
    expect(fs.lstatSync(path.join(host, "e2")).isSymbolicLink()).toBe(true);

    // Host → container: into a dir, a new name, a whole dir; through the escaping links: inside.
    fs.writeFileSync(path.join(host, "up.txt"), "up\n");
    expect(T(["cp", path.join(host, "up.txt"), "copier:/data/"]).code).toBe(0);
    expect(T(["cp", path.join(host, "up.txt"), "copier:/tmp/renamed"]).code).toBe(0);
    expect(T(["cp", path.join(host, "data", "sub"), "copier:/newdir"]).code).toBe(0);
    const check = T(["cp", "copier:/newdir/b.txt", path.join(host, "b2")]);
    expect(check.code).toBe(0);
    expect(fs.readFileSync(path.join(host, "b2"), "utf8")).toBe("deep\n");
    expect(T(["cp", path.join(host, "up.txt"), "copier:/data/escape"]).code).toBe(0);
    expect(T(["cp", path.join(host, "up.txt"), "copier:/data/rootlink/tmp/via-root"]).code).toBe(0);
    expect(T(["cp", path.join(host, "up.txt"), "copier:/data/escape2"]).code).toBe(0);
    expect(fs.readFileSync(secret, "utf8")).toBe("HOST SECRET\n");
    expect(fs.existsSync("/tmp/via-root")).toBe(false);
    expect(T(["cp", "copier:/tmp/via-root", path.join(host, "via")]).code).toBe(0);
    expect(fs.readFileSync(path.join(host, "via"), "utf8")).toBe("up\n");
    const bad = T(["cp", path.join(host, "up.txt"), "copier:/no/such/dir/x"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Could not find the file");
    expect(T(["cp", "copier:/nope", host]).code).toBe(1);

    // A stopped container: its overlay, mounted for the copy only.
    expect(T(["rm", "-f", "copier"]).code).toBe(0);
    exited("stopped-cp", ["sh", "-c", "echo kept > /kept"]);
    expect(T(["cp", "stopped-cp:/kept", path.join(host, "kept")]).code).toBe(0);
    expect(fs.readFileSync(path.join(host, "kept"), "utf8")).toBe("kept\n");
    expect(T(["cp", path.join(host, "up.txt"), "stopped-cp:/"]).code).toBe(0);
    expect(T(["cp", "stopped-cp:/up.txt", path.join(host, "up2")]).code).toBe(0);
    expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(path.join(containersDir()));
    expect(T(["rm", "stopped-cp"]).code).toBe(0);
  });
});

describe("crash consistency and reconcile", () => {
  test("SIGKILL of the supervisor: ps -a says exited (137), rm -f cleans cgroup and dir", async () => {
    const { id, proc } = await background("orphaned", ["sleep", "1000"]);
    proc.kill(9);
    await proc.exited;
    // The container dies with its supervisor (PDEATHSIG).
    let status = "";
    for (let i = 0; i < 100; i++) {
      status = T(["ps", "-a", "--filter", "name=orphaned", "--format", "{{.Status}}"]).stdout.trim();
      if (status.startsWith("Exited")) break;
      await Bun.sleep(50);
    }
    expect(status).toMatch(/^Exited \(137\)/);
    expect(cgroupsOf(new Set([id])).length).toBeGreaterThan(0);
    // The supervisor's last act, had it lived: release the cgroup, keep the record (no --rm).
    expect(T(["container", "cleanup", id]).code).toBe(0);
    expect(cgroupsOf(new Set([id]))).toEqual([]);
    expect(T(["ps", "-aq", "--filter", "name=orphaned"]).stdout).toBe(`${id.slice(0, 12)}\n`);
    expect(T(["container", "--help"]).stdout).not.toContain("cleanup");
    // An rm killed half-way: "Dead", and rm -f finishes it.
    fs.writeFileSync(path.join(containersDir(), id, "removing"), "");
    expect(T(["ps", "-a", "--filter", "name=orphaned", "--format", "{{.Status}}"]).stdout).toBe("Dead\n");
    expect(T(["rm", "-f", "orphaned"]).code).toBe(0);
    expect(cgroupsOf(new Set([id]))).toEqual([]);
    expect(fs.existsSync(path.join(containersDir(), id))).toBe(false);
  });

  test("SIGKILL of stop and rm -f at several points: ps -a tells the truth, rm -f cleans everything", async () => {
    for (const [verb, delay] of [["stop", 0], ["stop", 30], ["stop", 120], ["rm", 0], ["rm", 10], ["rm", 40], ["rm", 120]] as const) {
      const name = `crash-${verb}-${delay}`;
      const { id, proc } = await background(name, ["sleep", "1000"]);
      const cli = e!.spawn(verb === "stop" ? ["stop", "-t", "1", name] : ["rm", "-f", name]);
      spawned.push(cli);
      await Bun.sleep(delay);
      cli.kill(9);
      await cli.exited;
      const ps = T(["ps", "-a", "--filter", `name=^/${name}$`, "--format", "{{.State}}|{{.Status}}"]);
      expect(ps.code).toBe(0);
      expect(ps.stdout).toMatch(/^((running|exited|dead)\|(Up|Exited|Dead).*\n)?$/);
      const rm = T(["rm", "-f", name]);
      expect(rm.code === 0 || rm.stderr.includes("No such container")).toBe(true);
      proc.kill(9);
      await proc.exited;
      expect(fs.existsSync(path.join(containersDir(), id))).toBe(false);
      expect(cgroupsOf(new Set([id]))).toEqual([]);
    }
  });

  test("a cp killed while a stopped container's rootfs is mounted: rm unmounts it", async () => {
    const id = exited("cp-crash", ["sh", "-c", "dd if=/dev/zero of=/big bs=1M count=64 2>/dev/null"]);
    const cli = e!.spawn(["cp", "cp-crash:/big", path.join(dir, "big")]);
    spawned.push(cli);
    const rootfs = path.join(containersDir(), id, "rootfs");
    let seen = false;
    for (let i = 0; i < 400 && !(seen = fs.readFileSync("/proc/self/mountinfo", "utf8").includes(rootfs)); i++) await Bun.sleep(2);
    cli.kill(9);
    console.log(`cp killed ${seen ? "with" : "before/after"} the rootfs mounted`);
    await cli.exited;
    expect(T(["rm", "cp-crash"]).code).toBe(0);
    expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(rootfs);
    fs.rmSync(path.join(dir, "big"), { force: true });
  });

  test("run.json naming a dead monitor: exited 137; system prune removes orphans by name", () => {
    const id = exited("stale", ["true"]);
    const d = path.join(containersDir(), id);
    fs.writeFileSync(
      path.join(d, "run.json"),
      JSON.stringify({ status: "running", pid: 2 ** 22 - 1, pidStartTime: 1, monitorPid: 2 ** 22 - 2, monitorStartTime: 1, startedAt: new Date().toISOString(), finishedAt: "0001-01-01T00:00:00Z", exitCode: 0, oomKilled: false, restartCount: 0, error: "" }),
    );
    expect(T(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}", "stale"]).stdout).toBe("exited 137 0\n");
    // Orphans: a dir without a record (crash mid-create), an interrupted rm, a cgroup with no container.
    const orphanId = "d".repeat(63) + "1";
    const deadId = exited("half-removed", ["true"]);
    fs.writeFileSync(path.join(containersDir(), deadId, "removing"), "");
    expect(T(["ps", "-a", "--filter", "name=half-removed", "--format", "{{.State}} {{.Status}}"]).stdout).toBe("dead Dead\n");
    fs.mkdirSync(path.join(containersDir(), orphanId, "upper"), { recursive: true });
    const old = new Date(Date.now() - 3_600_000);
    fs.utimesSync(path.join(containersDir(), orphanId), old, old);
    const cgId = "e".repeat(63) + "2";
    seenIds.add(cgId);
    const freezer = path.join(CGROUP, "freezer", "tinydock", cgId);
    fs.mkdirSync(freezer, { recursive: true });
    const r = T(["system", "prune", "-f"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`container directory: ${orphanId}`);
    expect(r.stdout).toContain(`container directory: ${deadId}`);
    expect(r.stdout).toContain(`cgroup: ${freezer}`);
    expect(r.stdout).toContain("Deleted Containers:");
    expect(r.stdout).toContain(id);
    expect(fs.existsSync(freezer)).toBe(false);
    expect(idsNow()).toEqual([]);
  });

  test("container prune asks first and removes only stopped containers", async () => {
    const { id: runningId } = await background("keeper", ["sleep", "1000"]);
    const goneId = exited("goner", ["true"]);
    expect(T(["container", "prune"], "n\n").stdout).toContain("Are you sure you want to continue? [y/N]");
    expect(fs.existsSync(path.join(containersDir(), goneId))).toBe(true);
    const r = T(["container", "prune"], "y\n");
    expect(r.stdout).toContain(`Deleted Containers:\n${goneId}\n`);
    expect(r.stdout).toMatch(/Total reclaimed space: \S+B\n$/);
    expect(idsNow()).toEqual([runningId]);
    expect(T(["container", "rm", "-f", "keeper"]).code).toBe(0);
  });
});

/** `run -d`: the monitor supervises it; the id is printed at once. */
function detached(args: string[]): string {
  const id = e!.runDetached(args);
  seenIds.add(id);
  return id;
}

describe("detached containers (run -d)", () => {
  test("ps, logs -f of a sh loop, top, stats, pause, stop -t 1 timing, wait 137, rm", async () => {
    const id = detached(["--name", "looper", "busybox", "sh", "-c", "i=0; while true; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.1; done"]);
    expect(T(["ps", "--filter", "name=looper", "--format", "{{.ID}} {{.State}} {{.Command}}"]).stdout).toMatch(
      new RegExp(`^${id.slice(0, 12)} running "sh -c 'i=0; while t…"\n$`),
    );
    const f = e!.spawn(["logs", "-f", "looper"]);
    spawned.push(f);
    const reader = f.stdout.getReader();
    let text = "";
    while (!/line 12\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    expect(text.startsWith("line 0\nline 1\n")).toBe(true);
    expect(T(["top", "looper"]).stdout).toMatch(/sh -c i=0; while true/);
    expect(T(["stats", "--no-stream", "looper"]).stdout).toMatch(/looper\s+\d+\.\d\d%/);
    expect(T(["pause", "looper"]).code).toBe(0);
    expect(T(["ps", "--filter", "status=paused", "-q"]).stdout).toBe(`${id.slice(0, 12)}\n`);
    expect(T(["unpause", "looper"]).code).toBe(0);
    // sh as PID 1 has no TERM handler: the kernel ignores SIGTERM; SIGKILL after 1 s.
    const t0 = performance.now();
    expect(T(["stop", "-t", "1", "looper"]).code).toBe(0);
    const took = performance.now() - t0;
    console.log(`stop -t 1 of a detached sh loop: ${took.toFixed(0)} ms`);
    expect(took).toBeGreaterThan(900);
    expect(took).toBeLessThan(4000);
    // logs -f ends once the container has exited, stderr lines on stderr.
    expect(await Promise.race([f.exited, Bun.sleep(5000).then(() => "timeout")])).toBe(0);
    expect(await new Response(f.stderr).text()).toContain("err 0\n");
    expect(T(["wait", "looper"]).stdout).toBe("137\n");
    expect(T(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}", "looper"]).stdout).toBe("exited 137 0\n");
    const tail = T(["logs", "--tail", "2", "looper"]);
    expect(tail.stdout).toMatch(/^line \d+\n$/);
    expect(tail.stderr).toMatch(/^err \d+\n$/);
    expect(T(["rm", "looper"]).code).toBe(0);
    expect(cgroupsOf(new Set([id]))).toEqual([]);
  });

  test("httpd; wait through on-failure:3 restarts; --rm with wait; kill; rm -f of a running one", async () => {
    const httpd = detached(["--name", "web", "busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]);
    expect(T(["top", "web"]).stdout).toContain("httpd -f -p 8080 -h /www");
    const flaky = detached(["--name", "flaky", "--restart", "on-failure:3", "busybox", "sh", "-c", "echo try; exit 3"]);
    expect(T(["wait", "flaky"]).stdout).toBe("3\n");
    expect(T(["inspect", "-f", "{{.RestartCount}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}", "flaky"]).stdout).toBe("3 3 on-failure\n");
    expect(T(["logs", "flaky"]).stdout).toBe("try\ntry\ntry\ntry\n");
    const gone = detached(["--rm", "--name", "gone", "busybox", "sh", "-c", "sleep 0.5; exit 5"]);
    expect(T(["wait", "gone"]).stdout).toBe("5\n");
    await until("--rm removal", () => !fs.existsSync(path.join(containersDir(), gone)));
    const trap = detached(["--name", "trap", "busybox", "sh", "-c", "trap 'exit 43' TERM; while true; do sleep 0.1; done"]);
    await until("trap set", () => /sleep/.test(T(["top", "trap"]).stdout));
    expect(T(["kill", "-s", "TERM", "trap"]).stdout).toBe("trap\n");
    const w = T(["wait", "trap"]);
    expect(w.stderr).toBe("");
    expect(w.stdout).toBe("43\n");
    // kill marks it stopping: no restart policy brings it back (none here), and rm takes it.
    expect(fs.existsSync(path.join(containersDir(), trap, "stopping"))).toBe(true);
    expect(T(["rm", "trap"]).code).toBe(0);
    const sleeper = detached(["--name", "sleeper2", "busybox", "sleep", "1000"]);
    const monitorPid = JSON.parse(fs.readFileSync(path.join(containersDir(), sleeper, "run.json"), "utf8")).monitorPid as number;
    expect(T(["rm", "-f", "sleeper2", "web", "flaky"]).stdout).toBe("sleeper2\nweb\nflaky\n");
    await until("monitor gone", () => !fs.existsSync(`/proc/${monitorPid}`));
    expect(cgroupsOf(new Set([httpd, flaky, gone, sleeper]))).toEqual([]);
  });

  test("attach and start -a show only new output and exit with the container's code", async () => {
    const id = detached(["--name", "attached", "busybox", "sh", "-c", "echo before; sleep 1; echo after; echo oops >&2; exit 3"]);
    await until("before in the log", () => T(["logs", id]).stdout.includes("before"));
    const a = T(["attach", "attached"]);
    expect(a.code).toBe(3);
    expect(a.stdout).toBe("after\n");
    expect(a.stderr).toBe("oops\n");
    // start -a of the stopped container: this run's lines only, though the log has both runs.
    const s = T(["start", "-a", "attached"]);
    expect(s.code).toBe(3);
    expect(s.stdout).toBe("before\nafter\n");
    expect(T(["logs", id]).stdout).toBe("before\nafter\nbefore\nafter\n");
    const stopped = T(["attach", "attached"]);
    expect(stopped.code).not.toBe(0);
    expect(stopped.stderr).toContain("You cannot attach to a stopped container");
    expect(T(["rm", id]).code).toBe(0);
  }, 30_000);

  test("cp in and out of a detached container; symlinks in it stay in it", async () => {
    const id = detached(["--name", "cpd", "busybox", "sh", "-c", "ln -s / /up && ln -s /etc/../../../../etc/hostname /hn && sleep 1000"]);
    await until("links", () => T(["cp", "cpd:/hn", path.join(dir, "hn-link")]).code === 0);
    // Without -L the link itself is copied (as Docker); with -L it is followed inside the container.
    expect(fs.readlinkSync(path.join(dir, "hn-link"))).toBe("/etc/../../../../etc/hostname");
    expect(T(["cp", "-L", "cpd:/hn", path.join(dir, "hn-d")]).code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "hn-d"), "utf8").trim()).toBe(id.slice(0, 12));
    fs.writeFileSync(path.join(dir, "in-d"), "in\n");
    expect(T(["cp", path.join(dir, "in-d"), "cpd:/up/tmp/"]).code).toBe(0);
    expect(T(["cp", "cpd:/tmp/in-d", path.join(dir, "back-d")]).code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "back-d"), "utf8")).toBe("in\n");
    expect(fs.existsSync("/tmp/in-d")).toBe(false);
    expect(T(["rm", "-f", "cpd"]).code).toBe(0);
  });
});

describe("scale", () => {
  test("50 detached containers started, listed and removed in a bounded loop, nothing left", async () => {
    const ids: string[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) ids.push(detached(["--name", `det-${i}`, "busybox", "sleep", "1000"]));
    console.log(`run -d of 50 containers: ${(performance.now() - t0).toFixed(0)} ms`);
    const t1 = performance.now();
    const ps = T(["ps", "-q", "--no-trunc", "--filter", "name=^/det-"]);
    console.log(`ps of 50 running containers: ${(performance.now() - t1).toFixed(0)} ms`);
    expect(ps.stdout.trim().split("\n").sort()).toEqual([...ids].sort());
    const monitors = ids.map((id) => JSON.parse(fs.readFileSync(path.join(containersDir(), id, "run.json"), "utf8")).monitorPid as number);
    // Docker's CLI stops them in parallel: ten sleeps that ignore SIGTERM take one timeout, not ten.
    const t3 = performance.now();
    const stop = T(["stop", "-t", "1", ...ids.slice(0, 10)]);
    const stopMs = performance.now() - t3;
    console.log(`stop -t 1 of 10 containers that ignore SIGTERM: ${stopMs.toFixed(0)} ms`);
    expect(stop.stdout.trim().split("\n")).toEqual(ids.slice(0, 10));
    expect(stopMs).toBeLessThan(5000);
    const t2 = performance.now();
    const rm = T(["rm", "-f", ...ids]);
    console.log(`rm -f of 50 running containers: ${(performance.now() - t2).toFixed(0)} ms`);
    expect(rm.code).toBe(0);
    expect(T(["ps", "-aq"]).stdout).toBe("");
    expect(idsNow()).toEqual([]);
    expect(cgroupsOf(new Set(ids))).toEqual([]);
    await until("monitors gone", () => monitors.every((p) => !fs.existsSync(`/proc/${p}`)));
  });

  test("50 containers listed and removed, nothing left", () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const r = T(["run", "--name", `many-${i}`, "busybox", "true"]);
      expect(r.code).toBe(0);
    }
    const t0 = performance.now();
    const ps = T(["ps", "-a", "-q", "--no-trunc", "--filter", "name=^/many-"]);
    console.log(`ps -a of 50 containers: ${(performance.now() - t0).toFixed(0)} ms`);
    ids.push(...ps.stdout.trim().split("\n"));
    for (const i of ids) seenIds.add(i);
    expect(ids).toHaveLength(50);
    const t1 = performance.now();
    const rm = T(["rm", ...ids]);
    console.log(`rm of 50 containers: ${(performance.now() - t1).toFixed(0)} ms`);
    expect(rm.code).toBe(0);
    expect(rm.stdout.trim().split("\n")).toHaveLength(50);
    expect(T(["ps", "-aq"]).stdout).toBe("");
    expect(idsNow()).toEqual([]);
    expect(cgroupsOf(new Set(ids))).toEqual([]);
  });
});
