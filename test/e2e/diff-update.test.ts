// `diff` and `update` as Docker users' scripts type them, and Docker's aliases of verbs tinydock
// had under one spelling only (container commit/diff/update, system events). The engine runs in a
// network namespace of this file's own; what is made here goes with the test root.
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { until, useE2e } from "../helpers/e2e.ts";

const e = useE2e({ prefix: "td-diffupd-" });
const ok = (args: string[]): string => {
  const r = e.T(args);
  if (r.code !== 0) throw new Error(`tinydock ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};
const inspect = (name: string, format: string) => ok(["inspect", "-f", format, name]).trim();

/** A cgroup file of the container as the host shows it: the first of `names` in any of its cgroup dirs (v1 or v2). */
function cgroupFile(name: string, ...names: string[]): string {
  const id = inspect(name, "{{.Id}}");
  const rec = JSON.parse(fs.readFileSync(path.join(e.env.root, "containers", id, "state.json"), "utf8")) as { cgroupPath: string[] };
  for (const f of names) for (const dir of rec.cgroupPath) if (fs.existsSync(path.join(dir, f))) return fs.readFileSync(path.join(dir, f), "utf8").trim();
  return "(none)";
}

const CHANGES = "rm /bin/ls; echo x >> /etc/passwd; echo hi > /etc/new; mkdir -p /tmp/a/b; touch /tmp/a/b/c";
const EXPECTED = ["C /bin", "D /bin/ls", "C /etc", "A /etc/new", "C /etc/passwd", "C /tmp", "A /tmp/a", "A /tmp/a/b", "A /tmp/a/b/c", ""].join("\n");

test("diff: Docker's A/C/D lines in its order, running and stopped alike; container diff is the same", async () => {
  e.runDetached(["--name", "d1", "busybox", "sh", "-c", `${CHANGES}; touch /tmp/ready; sleep 600`]);
  await until("the changes", () => e.T(["exec", "d1", "test", "-e", "/tmp/ready"]).code === 0);
  ok(["exec", "d1", "rm", "/tmp/ready"]);
  expect(ok(["diff", "d1"])).toBe(EXPECTED);
  expect(ok(["container", "diff", "d1"])).toBe(EXPECTED);
  ok(["stop", "-t", "0", "d1"]);
  expect(ok(["diff", "d1"])).toBe(EXPECTED);
  // A fresh container has no changes: the mount points made for /etc/hosts and the like are not its own.
  ok(["create", "--name", "d2", "busybox", "true"]);
  expect(ok(["diff", "d2"])).toBe("");
  ok(["start", "-a", "d2"]);
  expect(ok(["diff", "d2"])).toBe("");
  const missing = e.T(["diff", "nope"]);
  expect([missing.code, missing.stderr]).toEqual([1, "Error: No such container: nope\n"]);
  ok(["rm", "-f", "d1", "d2"]);
});

test("update on a running container: the live cgroup, HostConfig, the names printed as given", () => {
  e.runDetached(["--name", "u1", "-m", "64m", "busybox", "sleep", "600"]);
  e.runDetached(["--name", "u2", "busybox", "sleep", "600"]);
  const r = e.T(["update", "-m", "100m", "--memory-swap", "300m", "--memory-reservation", "50m", "--cpus", "0.5", "-c", "512", "--pids-limit", "40", "--cpuset-cpus", "0", "u1", "u2"]);
  expect(r).toEqual({ code: 0, stdout: "u1\nu2\n", stderr: "" });
  expect(cgroupFile("u1", "memory.limit_in_bytes", "memory.max")).toBe(String(100 << 20));
  expect(cgroupFile("u1", "memory.memsw.limit_in_bytes", "memory.swap.max")).toMatch(new RegExp(`^(${300 << 20}|${200 << 20})$`));
  expect(cgroupFile("u1", "memory.soft_limit_in_bytes", "memory.low")).toBe(String(50 << 20));
  expect(cgroupFile("u2", "cpu.cfs_quota_us", "cpu.max")).toMatch(/^50000( 100000)?$/);
  expect(cgroupFile("u2", "cpu.shares", "cpu.weight")).toMatch(/^(512|20)$/);
  expect(cgroupFile("u2", "pids.max")).toBe("40");
  expect(cgroupFile("u2", "cpuset.cpus")).toBe("0");
  const fmt = "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.MemoryReservation}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpusetCpus}}";
  expect(inspect("u2", fmt)).toBe(`${100 << 20} ${300 << 20} ${50 << 20} 500000000 512 40 0`);
  // The CFS fields themselves, on a container whose CPU limit was not set as --cpus.
  ok(["run", "-d", "--name", "u3", "busybox", "sleep", "600"]);
  expect(ok(["update", "--cpu-period", "50000", "--cpu-quota", "25000", "u3"])).toBe("u3\n");
  expect(cgroupFile("u3", "cpu.cfs_quota_us", "cpu.max")).toMatch(/^25000( 50000)?$/);
  expect(inspect("u3", "{{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}} {{.HostConfig.NanoCpus}}")).toBe("50000 25000 0");
  ok(["rm", "-f", "u1", "u2", "u3"]);
});

test("update: Docker's refusals, one line each; a missing container among others fails only itself", () => {
  e.runDetached(["--name", "r1", "busybox", "sleep", "600"]);
  const cases: [string[], string][] = [
    [["update", "r1"], "Error: you must provide one or more flags when using this command\n"],
    [["update", "-m", "100m", "--memory-swap", "50m", "r1"], "Error: Minimum memoryswap limit should be larger than memory limit, see usage\n"],
    [["update", "-m", "4m", "r1"], "Error: Minimum memory limit allowed is 6MB\n"],
  ];
  for (const [args, stderr] of cases) expect(e.T(args)).toEqual({ code: 1, stdout: "", stderr });
  const id = inspect("r1", "{{.Id}}");
  // No swap limit set (0): a memory limit needs one given with it, as in Docker.
  expect(e.T(["update", "-m", "100m", "r1"]).stderr).toBe(
    `Error: Cannot update container ${id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time\n`,
  );
  ok(["update", "--cpus", "1", "r1"]);
  expect(e.T(["update", "--cpu-quota", "20000", "r1"]).stderr).toBe(`Error: Cannot update container ${id}: Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set\n`);
  expect(e.T(["update", "--pids-limit", "30", "nope", "r1"])).toEqual({ code: 1, stdout: "r1\n", stderr: "Error: No such container: nope\n" });
  const bad = e.T(["update", "--cpu-shares", "x", "r1"]);
  expect([bad.code, bad.stderr.split("\n")[0]]).toEqual([125, 'Error: invalid argument "x" for "-c, --cpu-shares" flag: not an integer']);
  ok(["rm", "-f", "r1"]);
});

test("update below the memory in use: the kernel's refusal, and the record stays as it was (only on cgroup v1)", async () => {
  if (!fs.existsSync("/sys/fs/cgroup/memory")) return;
  e.runDetached(["--name", "m1", "-m", "64m", "busybox", "sh", "-c", "head -c 40000000 /dev/zero > /dev/shm/fill; touch /tmp/ready; sleep 600"]);
  await until("the fill", () => e.T(["exec", "m1", "test", "-e", "/tmp/ready"]).code === 0);
  const id = inspect("m1", "{{.Id}}");
  const r = e.T(["update", "-m", "10m", "--memory-swap", "10m", "m1"]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toStartWith(`Error: Cannot update container ${id}: `);
  expect(r.stderr).toContain("EBUSY");
  expect(inspect("m1", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}")).toBe(`${64 << 20} ${128 << 20}`);
  ok(["rm", "-f", "m1"]);
});

test("update of a stopped, created or paused container: recorded, and the next start applies it", () => {
  ok(["create", "--name", "s1", "busybox", "sleep", "600"]);
  expect(ok(["update", "--pids-limit", "33", "-m", "80m", "--memory-swap", "160m", "s1"])).toBe("s1\n");
  ok(["start", "s1"]);
  expect(cgroupFile("s1", "pids.max")).toBe("33");
  expect(cgroupFile("s1", "memory.limit_in_bytes", "memory.max")).toBe(String(80 << 20));
  ok(["stop", "-t", "0", "s1"]);
  expect(ok(["update", "--pids-limit", "44", "s1"])).toBe("s1\n");
  expect(inspect("s1", "{{.HostConfig.PidsLimit}}")).toBe("44");
  ok(["start", "s1"]);
  expect(cgroupFile("s1", "pids.max")).toBe("44");
  ok(["restart", "-t", "0", "s1"]);
  expect(cgroupFile("s1", "pids.max")).toBe("44");
  // Paused: written into its (frozen) cgroup, as dockerd updates a paused container.
  ok(["pause", "s1"]);
  expect(ok(["update", "--pids-limit", "55", "s1"])).toBe("s1\n");
  expect(cgroupFile("s1", "pids.max")).toBe("55");
  ok(["unpause", "s1"]);
  ok(["rm", "-f", "s1"]);
});

test("update --restart on a running container: its monitor takes the new policy at the next end", async () => {
  // No policy at run: updated to on-failure:2, the container is restarted twice, then stays down.
  e.runDetached(["--name", "p1", "busybox", "sh", "-c", "sleep 1; exit 3"]);
  expect(ok(["update", "--restart", "on-failure:2", "p1"])).toBe("p1\n");
  expect(inspect("p1", "{{json .HostConfig.RestartPolicy}}")).toBe('{"Name":"on-failure","MaximumRetryCount":2}');
  await until("two restarts", () => inspect("p1", "{{.RestartCount}} {{.State.Status}}") === "2 exited", 30_000, 100);
  // always → no: the next end is the last.
  e.runDetached(["--name", "p2", "--restart", "always", "busybox", "sh", "-c", "sleep 1; exit 0"]);
  expect(ok(["update", "--restart", "no", "p2"])).toBe("p2\n");
  await until("the end", () => inspect("p2", "{{.State.Status}}") === "exited", 15_000, 100);
  await Bun.sleep(500);
  expect(inspect("p2", "{{.RestartCount}} {{.State.Status}} {{.HostConfig.RestartPolicy.Name}}")).toBe("0 exited no");
  // --rm and a restart policy exclude each other, as at run.
  e.runDetached(["--name", "p3", "--rm", "busybox", "sleep", "600"]);
  const id = inspect("p3", "{{.Id}}");
  expect(e.T(["update", "--restart", "always", "p3"]).stderr).toBe(`Error: Cannot update container ${id}: Restart policy cannot be updated because AutoRemove is enabled for the container\n`);
  ok(["rm", "-f", "p1", "p2", "p3"]);
});

test("figure: update latency on a running container", () => {
  e.runDetached(["--name", "f1", "-m", "64m", "busybox", "sleep", "600"]);
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    ok(["update", "--cpus", i % 2 ? "0.5" : "1", "--pids-limit", String(100 + i), "-m", `${70 + i}m`, "f1"]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`update latency (3 limits, running container, 10 runs): median ${times[5]!.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms, max ${times[9]!.toFixed(1)} ms`);
  expect(cgroupFile("f1", "pids.max")).toBe("109");
  ok(["rm", "-f", "f1"]);
});

test("Docker's aliases: container commit, system events, image tag, image rm, container ls", () => {
  ok(["run", "--name", "a1", "busybox", "sh", "-c", "echo hi > /greeting"]);
  const id = ok(["container", "commit", "a1", "aliased:one"]).trim();
  expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
  expect(ok(["image", "tag", "aliased:one", "aliased:two"])).toBe("");
  expect(ok(["run", "--rm", "aliased:two", "cat", "/greeting"])).toBe("hi\n");
  expect(ok(["image", "rm", "aliased:two"])).toBe("Untagged: aliased:two\n");
  expect(ok(["container", "ls", "-a", "--filter", "name=a1", "--format", "{{.Names}}"])).toBe("a1\n");
  const events = ok(["system", "events", "--since", "0", "--until", "0s", "--filter", "container=a1", "--format", "{{.Action}}"]);
  expect(events.split("\n")).toContain("create");
  ok(["rm", "-f", "a1"]);
  ok(["rmi", "aliased:one"]);
});
