// Pods with the compiled binary: an infra (the monitor's pause mode) holds the pod's network, IPC
// and UTS namespaces; the containers join them, reach each other on localhost, see the pod's
// hostname and /etc/hosts; rm -f takes everything, leaving no process, netns file or rule.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { BINARY, cliEnv } from "../helpers/cli.ts";
import { findLeaks } from "../helpers/leakcheck.ts";
import { startE2e, until, type E2e } from "../helpers/e2e.ts";

let e: E2e;
beforeAll(async () => {
  e = await startE2e({ prefix: "td-pods-e2e-" });
}, 120_000);
afterAll(async () => {
  e?.T(["pod", "rm", "-f", "p1"]);
  e?.T(["pod", "rm", "-f", "p2"]);
  e?.T(["pod", "rm", "-f", "p3"]);
  e?.T(["pod", "rm", "-f", "shm1"]);
  e?.T(["pod", "rm", "-f", "shm2"]);
  e?.T(["pod", "rm", "-f", "lg"]);
  await e?.stop();
});

/** The pause process still there and not a zombie (the test runner may be its reaper). */
const livePause = (pid: number) => {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    return /^Name:\s+tinydock-pause$/m.test(status) && !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
};
const pauseRss = (pid: number) => Number(/^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? NaN);

test("two containers in a pod talk over localhost, share its hostname, /etc/hosts and IPC", async () => {
  const { T } = e;
  const created = T(["pod", "create", "--name", "p1", "--hostname", "web", "--label", "app=demo"]);
  expect(created.stderr).toBe("");
  expect(created.code).toBe(0);
  const podId = created.stdout.trim();
  expect(podId).toMatch(/^[a-f0-9]{64}$/);
  const inspect = JSON.parse(T(["pod", "inspect", "p1"]).stdout)[0];
  expect(inspect.Name).toBe("p1");
  expect(inspect.State).toBe("Running");
  const pausePid = inspect.InfraConfig.PID as number;
  expect(fs.readFileSync(`/proc/${pausePid}/comm`, "utf8").trim()).toBe("tinydock-pause");
  console.log(`infra (pause) process PSS: ${pauseRss(pausePid)} kB`);
  expect(pauseRss(pausePid)).toBeLessThan(512);

  const srv = T(["run", "-d", "--pod", "p1", "--name", "srv", "busybox", "sh", "-c", "mkdir -p /tmp/www && echo IN-POD > /tmp/www/i && httpd -f -p 127.0.0.1:8080 -h /tmp/www"]);
  expect(srv.stderr).toBe("");
  expect(srv.code).toBe(0);
  // Only localhost: the client can reach it only through the shared network namespace.
  const got = await until("httpd over localhost", () => {
    const r = T(["run", "--rm", "--pod", "p1", "busybox", "wget", "-qO-", "http://127.0.0.1:8080/i"]);
    return r.stdout.includes("IN-POD") ? r : null;
  });
  expect(got.code).toBe(0);
  const info = T(["run", "--rm", "--pod", "p1", "busybox", "sh", "-c", "hostname; grep -c web /etc/hosts; for n in ipc uts net; do readlink /proc/self/ns/$n; done"]);
  const [hostname, hostsCount, ipc, uts, net] = info.stdout.trim().split("\n");
  expect(hostname).toBe("web");
  expect(Number(hostsCount)).toBeGreaterThan(0);
  expect(ipc).toBe(fs.readlinkSync(`/proc/${pausePid}/ns/ipc`));
  expect(uts).toBe(fs.readlinkSync(`/proc/${pausePid}/ns/uts`));
  expect(net).toBe(fs.readlinkSync(`/proc/${pausePid}/ns/net`));

  // ps --filter pod=, pod ps --format, --filter.
  expect(T(["ps", "--filter", "pod=p1", "--format", "{{.Names}}"]).stdout.trim().split("\n").sort()).toEqual(["p1-infra", "srv"]);
  expect(T(["ps", "--filter", "pod=nope", "-q"]).stdout).toBe("");
  expect(T(["pod", "ps", "--format", "{{.Name}} {{.Status}} {{.NumberOfContainers}}"]).stdout).toBe("p1 Running 2\n");
  expect(T(["pod", "ls", "--filter", "label=app=demo", "-q", "--no-trunc"]).stdout.trim()).toBe(podId);
  expect(T(["pod", "ls", "--filter", "label=app=other", "-q"]).stdout).toBe("");
  expect(T(["pod", "top", "p1"]).stdout).toContain("httpd");

  // Ports belong to the pod: a container of it cannot publish its own.
  const bad = T(["run", "--rm", "--pod", "p1", "-p", "80", "busybox", "true"]);
  expect(bad.code).toBe(125);
  expect(bad.stderr.trim().split("\n")).toHaveLength(1);

  const rm = T(["pod", "rm", "p1"]);
  expect(rm.code).not.toBe(0); // running containers: refused without -f
  expect(T(["pod", "rm", "-f", "p1"]).code).toBe(0);
  expect(T(["ps", "-a", "-q"]).stdout).toBe("");
  expect(T(["pod", "ls", "-q"]).stdout).toBe("");
  expect(livePause(pausePid)).toBe(false);
  expect([...findLeaks(podId.slice(0, 12)), ...findLeaks(e.dir)]).toEqual([]);
}, 120_000);

test("pod stop/start: the infra is made again, the containers rejoin it; --pod new:NAME; published ports on the pod", async () => {
  const { T } = e;
  const c = T(["create", "--pod", "new:p2", "--name", "w", "busybox", "sh", "-c", "echo hello-from-w; sleep 1000"]);
  expect(c.stderr).toBe("");
  expect(c.code).toBe(0);
  expect(T(["pod", "start", "p2"]).code).toBe(0);
  await until("w running", () => T(["ps", "--filter", "pod=p2", "--filter", "name=^/w$", "-q"]).stdout.trim() !== "");
  await until("w's log", () => T(["pod", "logs", "p2"]).stdout.includes("hello-from-w"));
  expect(T(["pod", "logs", "-c", "w", "p2"]).stdout).toContain("hello-from-w");
  expect(T(["pod", "stop", "-t", "1", "p2"]).code).toBe(0);
  expect(T(["pod", "ps", "--format", "{{.Name}} {{.Status}}"]).stdout).toBe("p2 Exited\n");
  const again = T(["pod", "start", "p2"]);
  expect(again.stderr).toBe("");
  expect(again.code).toBe(0);
  expect(T(["pod", "ps", "--format", "{{.Name}} {{.Status}}"]).stdout).toBe("p2 Running\n");
  const pid = JSON.parse(T(["pod", "inspect", "p2"]).stdout)[0].InfraConfig.PID;
  const wNet = T(["exec", "w", "readlink", "/proc/self/ns/net"]).stdout.trim();
  expect(wNet).toBe(fs.readlinkSync(`/proc/${pid}/ns/net`));
  expect(T(["pod", "restart", "-t", "1", "p2"]).code).toBe(0);
  expect(T(["pod", "stop", "-t", "x", "p2"]).code).not.toBe(0);
  expect(T(["pod", "kill", "p2"]).code).toBe(0);
  expect(T(["pod", "rm", "-f", "p2"]).code).toBe(0);

  const p3 = T(["pod", "create", "--name", "p3", "-p", "18080:8080"]);
  expect(p3.code).toBe(0);
  expect(T(["run", "-d", "--pod", "p3", "busybox", "sh", "-c", "mkdir -p /tmp/w && echo PUBLISHED > /tmp/w/i && httpd -f -p 8080 -h /tmp/w"]).code).toBe(0);
  const ip = JSON.parse(T(["pod", "inspect", "p3"]).stdout)[0].InfraConfig.IPAddress as string;
  expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  await until("published port", () => e.sh(["wget", "-qO-", "-T", "1", `http://${ip}:8080/i`]).stdout.includes("PUBLISHED"));
  expect(T(["pod", "rm", "-f", "p3"]).code).toBe(0);
  expect(e.rules()).not.toContain("18080");
  expect(findLeaks(e.dir)).toEqual([]);
}, 120_000);

test("a pod sharing ipc (the default) shares its /dev/shm, held by the infra; --share net keeps each member's own; stop and rm unmount it", () => {
  const T = e.T;
  expect(T(["pod", "create", "--name", "shm1"]).code).toBe(0);
  const infraDir = `${e.env.root}/containers/${T(["pod", "inspect", "-f", "{{.InfraContainerId}}", "shm1"]).stdout.trim()}`;
  expect(T(["run", "--rm", "--pod", "shm1", "busybox", "sh", "-c", "echo shared > /dev/shm/note"]).code).toBe(0);
  const read = T(["run", "--rm", "--pod", "shm1", "busybox", "sh", "-c", "cat /dev/shm/note; grep ' /dev/shm ' /proc/mounts | cut -d' ' -f3"]);
  expect(read.stdout).toBe("shared\ntmpfs\n");
  expect(fs.readFileSync(`${infraDir}/shm/note`, "utf8")).toBe("shared\n");
  // Stopped, the pod's /dev/shm goes (Docker's shareable one does); started, it is there again, empty.
  expect(T(["pod", "stop", "shm1"]).code).toBe(0);
  expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(`${infraDir}/shm `);
  expect(T(["pod", "start", "shm1"]).code).toBe(0);
  expect(T(["run", "--rm", "--pod", "shm1", "busybox", "ls", "/dev/shm"]).stdout).toBe("");
  expect(T(["pod", "rm", "-f", "shm1"]).code).toBe(0);
  expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(infraDir);

  expect(T(["pod", "create", "--name", "shm2", "--share", "net"]).code).toBe(0);
  expect(T(["run", "--rm", "--pod", "shm2", "busybox", "sh", "-c", "echo mine > /dev/shm/note"]).code).toBe(0);
  expect(T(["run", "--rm", "--pod", "shm2", "busybox", "ls", "/dev/shm"]).stdout).toBe("");
  expect(T(["pod", "rm", "-f", "shm2"]).code).toBe(0);
}, 90_000);

test("pod logs: --tail per container, --names, --since, -f follows every container until all have exited", async () => {
  const { T } = e;
  expect(T(["pod", "create", "--name", "lg"]).code).toBe(0);
  const la = T(["run", "-d", "--pod", "lg", "--name", "la", "busybox", "sh", "-c", "echo a1; echo a2; echo a3"]).stdout.trim();
  await until("la exited", () => T(["ps", "-a", "--filter", "name=^/la$", "--filter", "status=exited", "-q"]).stdout.trim() !== "");
  expect(T(["pod", "logs", "--tail", "1", "lg"]).stdout).toBe("a3\n");
  expect(T(["pod", "logs", "--tail", "2", "-t", "lg"]).stdout).toMatch(/^\S+Z a2\n\S+Z a3\n$/);
  expect(T(["pod", "logs", "--since", "2999-01-01", "lg"]).stdout).toBe("");
  // Two containers: each line carries its container (its short ID, or its name with --names).
  const started = Date.now();
  const lb = T(["run", "-d", "--pod", "lg", "--name", "lb", "busybox", "sh", "-c", "echo b1; sleep 2; echo b2"]).stdout.trim();
  const follow = T(["pod", "logs", "-f", "lg"]);
  expect(follow.code).toBe(0);
  expect(Date.now() - started).toBeGreaterThan(1500); // it waited for lb's last line
  expect(follow.stdout.split("\n").filter(Boolean).sort()).toEqual([`${la.slice(0, 12)} a1`, `${la.slice(0, 12)} a2`, `${la.slice(0, 12)} a3`, `${lb.slice(0, 12)} b1`, `${lb.slice(0, 12)} b2`].sort());
  // Merged in time order, the last line of each.
  expect(T(["pod", "logs", "--names", "--tail", "1", "lg"]).stdout).toBe("la a3\nlb b2\n");
  expect(T(["pod", "logs", "--tail", "x", "lg"]).code).toBe(125);
  expect(T(["pod", "rm", "-f", "lg"]).code).toBe(0);
}, 90_000);

test("pod create leaves its fsyncs to the infra's pause process, which syncs the records once the CLI has exited", async () => {
  const trace = path.join(e.dir, "pod-create.strace");
  // -b execve: the pause process and the firewall tools are not followed (the pause never ends).
  const r = Bun.spawnSync(e.inNs(["strace", "-f", "-b", "execve", "-qq", "-e", "trace=fsync,fdatasync", "-o", trace, BINARY, "pod", "create", "--name", "p3"]), {
    env: cliEnv(e.env),
    stdout: "pipe",
    stderr: "pipe",
    timeout: 60_000,
  });
  expect(r.exitCode).toBe(0);
  // The CLI syncs nothing: the pod's record and directory, the infra's record and directory are the pause's.
  expect(fs.readFileSync(trace, "utf8").split("\n").filter((l) => /\bf(data)?sync\(/.test(l)).length).toBe(0);
  const pid = Number(e.T(["inspect", "-f", "{{.State.Pid}}", "p3-infra"]).stdout.trim());
  expect(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")).toContain(path.join(e.env.root, "pods"));
  // Past its syncs, the pause process has fd 0 on /dev/null (it read the CLI's pipe to EOF first).
  let fd0 = "";
  for (let i = 0; i < 200 && fd0 !== "/dev/null"; i++, await Bun.sleep(10)) fd0 = fs.readlinkSync(`/proc/${pid}/fd/0`);
  expect(fd0).toBe("/dev/null");
  expect(e.T(["pod", "rm", "-f", "p3"]).code).toBe(0);
});

test("bad pod inputs: one line each, nothing made", () => {
  const { T } = e;
  for (const args of [
    ["pod", "create", "--name", "bad name"],
    ["pod", "create", "--share", "pid"],
    ["pod", "create", "-p", "80:x"],
    ["pod", "create", "--network", "host", "-p", "80"],
    ["pod", "create", "--network", "container:x"],
    ["pod", "inspect", "nope"],
    ["run", "--rm", "--pod", "nope", "busybox", "true"],
  ]) {
    const r = T(args);
    expect({ args, code: r.code }).toEqual({ args, code: 125 });
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }
  expect(T(["pod", "ls", "-q"]).stdout).toBe("");
  expect(T(["ps", "-a", "-q"]).stdout).toBe("");
});
