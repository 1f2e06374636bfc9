// run/create's flags Docker has beyond the common set, end to end: their effect in the container's
// cgroup (v1 on this host: read from the host side) or inside it, inspect's HostConfig/Config, and
// the refused ones (one line, exit 125). The compiled binary, a real registry, busybox, in a network
// namespace of the test's own.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { tinydock, type CliEnv, type CliResult } from "../helpers/cli.ts";
import { useE2e } from "../helpers/e2e.ts";

let env: CliEnv;
let T: (args: string[]) => CliResult;
useE2e({ prefix: "td-flags3-", rootName: "tinydock-root" }, (e) => ({ env, T } = e));

const V1 = "/sys/fs/cgroup";
const cg = (controller: string, id: string, file: string) => fs.readFileSync(path.join(V1, controller, "tinydock", id, file), "utf8").trim();
const onV1 = fs.existsSync(path.join(V1, "memory", "cgroup.procs"));
/** A block device of this host (the throttles need one): the root filesystem's disk. */
function blockDevice(): { path: string; majMin: string } | undefined {
  for (const name of ["vda", "sda", "nvme0n1", "xvda", "loop0"]) {
    const p = `/dev/${name}`;
    try {
      const st = fs.statSync(p);
      if (st.isBlockDevice()) return { path: p, majMin: `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}` };
    } catch {}
  }
  return undefined;
}

describe("resource flags (cgroup v1 here)", () => {
  // Raising it only: lowering needs CAP_SYS_RESOURCE, which this host's root may lack (as dockerd's runc would).
  // The limits are on the host's root disk: at 30 write IOPS the container's exit waited on throttled
  // writes for 1.5 to 10 s (measured), longer than stop waits after SIGKILL, so they are kept loose.
  test("--memory-reservation, --cpu-period/--cpu-quota, --oom-kill-disable, --cpu-rt-*, --device-*-bps/iops in the cgroup; --oom-score-adj inside; HostConfig under Docker's names", () => {
    if (!onV1) throw new Error("this host has no cgroup v1 memory hierarchy (only on cgroup v1 hosts)");
    const dev = blockDevice()!;
    const r = T(["run", "-d", "--name", "res", "-m", "64m", "--memory-reservation", "32m", "--cpu-period", "50000", "--cpu-quota", "25000", "--oom-kill-disable",
      "--cpu-rt-period", "1000000", "--cpu-rt-runtime", "5000", "--oom-score-adj", "500", "--device-read-bps", `${dev.path}:64mb`, "--device-write-iops", `${dev.path}:1000`,
      "--blkio-weight", "300", "busybox", "sh", "-c", "cat /proc/self/oom_score_adj; sleep 300"]);
    expect(r.stderr.split("\n").filter((l) => l && !l.includes("Block I/O weight"))).toEqual([]);
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect(cg("memory", id, "memory.soft_limit_in_bytes")).toBe(String(32 * 2 ** 20));
    expect(cg("memory", id, "memory.oom_control")).toMatch(/^oom_kill_disable 1$/m);
    expect(cg("cpu", id, "cpu.cfs_period_us")).toBe("50000");
    expect(cg("cpu", id, "cpu.cfs_quota_us")).toBe("25000");
    expect(cg("cpu", id, "cpu.rt_runtime_us")).toBe("5000");
    expect(cg("blkio", id, "blkio.throttle.read_bps_device")).toBe(`${dev.majMin} 67108864`);
    expect(cg("blkio", id, "blkio.throttle.write_iops_device")).toBe(`${dev.majMin} 1000`);
    // This kernel's blkio has no weight file (no CFQ/BFQ): Docker's warning, the weight discarded.
    if (!fs.existsSync(path.join(V1, "blkio", "blkio.weight"))) expect(r.stderr).toContain("WARNING: Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.");
    let out = "";
    for (const end = Date.now() + 5000; Date.now() < end && out === ""; ) out = T(["logs", "res"]).stdout;
    expect(out).toBe("500\n");
    const hc = JSON.parse(T(["inspect", "-f", "{{json .HostConfig}}", "res"]).stdout);
    expect(hc).toMatchObject({
      Memory: 64 * 2 ** 20, MemoryReservation: 32 * 2 ** 20, CpuPeriod: 50000, CpuQuota: 25000, NanoCpus: 0, OomKillDisable: true, OomScoreAdj: 500,
      CpuRealtimePeriod: 1000000, CpuRealtimeRuntime: 5000, BlkioWeight: 300,
      BlkioDeviceReadBps: [{ Path: dev.path, Rate: 67108864 }], BlkioDeviceWriteIOps: [{ Path: dev.path, Rate: 1000 }],
    });
    // After a stop the cgroup goes; start makes it again from HostConfig, the device looked up again.
    const stopped = T(["stop", "-t", "1", "res"]);
    expect(stopped.stderr).toBe("");
    expect(stopped.code).toBe(0);
    expect(T(["start", "res"]).code).toBe(0);
    expect(cg("blkio", id, "blkio.throttle.read_bps_device")).toBe(`${dev.majMin} 67108864`);
    expect(cg("memory", id, "memory.oom_control")).toMatch(/^oom_kill_disable 1$/m);
    expect(cg("cpu", id, "cpu.rt_runtime_us")).toBe("5000");
    expect(T(["rm", "-f", "res"]).code).toBe(0);
  });

  test("--kernel-memory: accepted with Docker's deprecation warning, no limit set", () => {
    const r = T(["run", "--rm", "--kernel-memory", "50m", "busybox", "true"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("WARNING: Specifying a kernel memory limit is deprecated and will be removed in a future release.\n");
  });
});

describe("compat flags", () => {
  test("--domainname is the container's NIS domain name and Config.Domainname; --annotation, --isolation, --runtime, --userns in HostConfig", () => {
    const r = T(["run", "--rm", "--domainname", "example.test", "busybox", "cat", "/proc/sys/kernel/domainname"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("example.test\n");
    const c = T(["create", "--name", "compat", "--domainname", "example.test", "--annotation", "org.example=1", "--isolation", "default", "--runtime", "runc",
      "--userns", "host", "--volume-driver", "local", "--detach-keys", "ctrl-a", "--disable-content-trust", "busybox", "true"]);
    expect(c.code).toBe(0);
    const j = JSON.parse(T(["inspect", "compat"]).stdout)[0];
    expect(j.Config.Domainname).toBe("example.test");
    expect(j.HostConfig).toMatchObject({ Annotations: { "org.example": "1" }, Isolation: "default", Runtime: "runc", UsernsMode: "host", VolumeDriver: "local" });
    expect(T(["rm", "compat"]).code).toBe(0);
  });

  test("-q: no pull output", () => {
    // Not in the namespace of T: the registry listens in this process's.
    const q = tinydock(env, ["run", "-q", "--pull", "always", "--rm", "--network", "none", "busybox", "true"]);
    expect(q.stderr).toBe("");
    expect(q.code).toBe(0);
    expect(tinydock(env, ["run", "--pull", "always", "--rm", "--network", "none", "busybox", "true"]).stderr).toContain("Digest:");
  });

  test.each([
    [["--gpus", "all"], 'Error: could not select device driver "" with capabilities: [[gpu]]'],
    [["--cpu-count", "2"], "Error: Invalid QoS settings: --cpu-count is supported for Windows containers only"],
    [["--io-maxiops", "100"], "Error: Invalid QoS settings: --io-maxiops is supported for Windows containers only"],
    [["--isolation", "hyperv"], `Error: Invalid isolation: "hyperv" - linux only supports 'default'`],
    [["--storage-opt", "size=1G"], "Error: --storage-opt is supported only for overlay over xfs with 'pquota' mount option"],
    [["--runtime", "kata"], "Error: unknown or invalid runtime name: kata"],
    [["--cpu-quota", "500"], "Error: CPU cfs quota can not be less than 1ms (i.e. 1000)"],
    [["--oom-score-adj", "-2000"], "Error: Invalid value -2000, range for oom score adj is [-1000, 1000]"],
    [["--device-read-bps", "/dev/null:1mb"], 'Error: Cannot use "/dev/null" for a block I/O limit: not a block device'],
  ])("%p: one line, exit 125, nothing made", (flags, line) => {
    const before = T(["ps", "-aq"]).stdout;
    const r = T(["run", "--rm", ...flags, "busybox", "true"]);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.code).toBe(125);
    expect(T(["ps", "-aq"]).stdout).toBe(before);
  });
});
