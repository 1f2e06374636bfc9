import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseCopyArg, containerRel } from "../../../src/lifecycle/copy.ts";
import { containerFiles, containerPaths, saveContainer, type ContainerRecord } from "../../../src/store/containers.ts";
import { inspectContainer } from "../../../src/lifecycle/inspect.ts";
import { findLive, listLive } from "../../../src/lifecycle/live.ts";
import { reconcile } from "../../../src/lifecycle/reconcile.ts";
import { formatStats, parseBlockIo, parseNetDev, statsRow } from "../../../src/lifecycle/stats.ts";
import { bytesSize, humanSize3 } from "../../../src/units.ts";
import { formatProcess } from "../../../src/lifecycle/top.ts";
import { tryLock } from "../../../src/store/lock.ts";
import { fakeSys } from "../../../src/sys/fake.ts";
import { linuxSys } from "../../../src/sys/linux.ts";
import { testContext, type TestEnv } from "../../helpers/ctx.ts";

let t: TestEnv | undefined;
afterEach(() => {
  t?.cleanup();
  t = undefined;
});

/** A temp root and a plain directory laid out like a v2 cgroupfs. */
function env(): TestEnv & { cgroupRoot: string } {
  const base = testContext();
  const cgroupRoot = path.join(base.dir, "cgroup");
  fs.mkdirSync(path.join(cgroupRoot, "tinydock"), { recursive: true });
  fs.writeFileSync(path.join(cgroupRoot, "cgroup.controllers"), "cpu memory pids\n");
  base.ctx.cgroupRoot = cgroupRoot;
  base.ctx.sys = fakeSys();
  t = base;
  return { ...base, cgroupRoot };
}

function container(root: string, id: string, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  const rec: ContainerRecord = {
    id,
    name: `n${id.slice(0, 4)}`,
    image: "busybox",
    imageId: "sha256:gone",
    created: "2026-11-23T22:00:00.000Z",
    args: ["sh", "-c", "exit 3"],
    hostname: id.slice(0, 12),
    state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
    ...extra,
  };
  fs.mkdirSync(containerPaths(root, id).dir, { recursive: true });
  saveContainer(root, rec);
  return rec;
}

describe("inspect", () => {
  test("Docker's shape and field names", () => {
    const e = env();
    const id = "1".repeat(64);
    container(e.root, id, {
      labels: { a: "b" },
      restartPolicy: { name: "on-failure", maximumRetryCount: 3 },
      ports: [{ hostIp: "0.0.0.0", hostPort: 8080, containerPort: 80, protocol: "tcp" }],
      config: { StopSignal: "SIGQUIT", Cmd: ["sh", "-c", "exit 3"], Entrypoint: null },
    });
    fs.writeFileSync(
      containerFiles(e.root, id).run,
      JSON.stringify({ status: "exited", pid: 0, startedAt: "2026-11-23T22:00:01Z", finishedAt: "2026-11-23T22:00:02Z", exitCode: 3, oomKilled: true, restartCount: 2, error: "" }),
    );
    const out = inspectContainer(e.ctx, findLive(e.ctx, id.slice(0, 5)));
    expect(Object.keys(out)).toEqual(
      expect.arrayContaining(["Id", "Created", "Path", "Args", "State", "Image", "Name", "RestartCount", "HostConfig", "Config", "Mounts", "NetworkSettings", "LogPath"]),
    );
    expect(out).toMatchObject({
      Id: id,
      Name: `/n1111`,
      Path: "sh",
      Args: ["-c", "exit 3"],
      RestartCount: 2,
      Image: "sha256:gone",
      State: { Status: "exited", Running: false, Paused: false, Restarting: false, OOMKilled: true, Dead: false, Pid: 0, ExitCode: 3, Error: "", StartedAt: "2026-11-23T22:00:01Z", FinishedAt: "2026-11-23T22:00:02Z" },
      HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 }, AutoRemove: false, LogConfig: { Type: "json-file" } },
      Config: { StopSignal: "SIGQUIT", Labels: { a: "b" }, Image: "busybox" },
      // Exited: its ports went with its network, as Docker's inspect shows them ({}).
      NetworkSettings: { Ports: {} },
      Mounts: [],
    });
    expect(Object.keys(out.State as object)).toEqual(["Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid", "ExitCode", "Error", "StartedAt", "FinishedAt"]);
  });
});

describe("reconcile on a fake root and cgroupfs", () => {
  test("orphan dirs, trash, stale containers and cgroups of no container; young dirs and live ones kept", async () => {
    const e = env();
    const stale = "2".repeat(64);
    container(e.root, stale, { autoRemove: true });
    fs.writeFileSync(containerFiles(e.root, stale).run, JSON.stringify({ status: "running", pid: 2 ** 22 - 1, monitorPid: 2 ** 22 - 1, monitorStartTime: 1 }));
    fs.mkdirSync(path.join(e.cgroupRoot, "tinydock", stale));
    const kept = "3".repeat(64);
    container(e.root, kept);
    const young = "4".repeat(64);
    fs.mkdirSync(containerPaths(e.root, young).dir);
    const old = "5".repeat(64);
    fs.mkdirSync(containerPaths(e.root, old).dir);
    const past = new Date(Date.now() - 3_600_000);
    fs.utimesSync(containerPaths(e.root, old).dir, past, past);
    fs.mkdirSync(path.join(e.root, "containers", `.trash-${"6".repeat(64)}-1`, "upper"), { recursive: true });
    const nobody = "7".repeat(64);
    fs.mkdirSync(path.join(e.cgroupRoot, "tinydock", nobody));
    fs.writeFileSync(path.join(e.cgroupRoot, "tinydock", nobody, "cgroup.procs"), "");

    expect(findLive(e.ctx, stale).state).toMatchObject({ Status: "exited", ExitCode: 137, stale: true });
    // network: false — the network stage would look at the host's veths and firewall.
    const report = await reconcile(e.ctx, { network: false });
    expect(report.tornDown).toEqual([stale]);
    expect(report.removedDirs.sort()).toEqual([old, `.trash-${"6".repeat(64)}-1`].sort());
    expect(report.cgroups).toEqual([path.join(e.cgroupRoot, "tinydock", nobody)]);
    // --rm: the stale container goes; the exited one stays for ps -a; the young dir is a create in progress.
    expect(listLive(e.ctx).map((c) => c.record.id)).toEqual([kept]);
    expect(fs.existsSync(containerPaths(e.root, young).dir)).toBe(true);
    expect(fs.existsSync(path.join(e.cgroupRoot, "tinydock"))).toBe(false); // the empty parent goes too
    // Idempotent.
    const again = await reconcile(e.ctx, { network: false });
    expect([again.tornDown, again.removedDirs, again.cgroups]).toEqual([[], [], []]);
  });
});

describe("reconcile: creates killed half-way", () => {
  test("a record-less dir or a .creating- dir with a free lock goes at once; a held lock keeps it", async () => {
    const e = env();
    e.ctx.sys = linuxSys(); // real flock (no root needed): the fake's always succeeds
    const abandoned = "8".repeat(64);
    fs.mkdirSync(containerPaths(e.root, abandoned).dir, { recursive: true });
    fs.writeFileSync(containerFiles(e.root, abandoned).lock, "");
    const making = path.join(e.root, "containers", `.creating-${"9".repeat(64)}`);
    fs.mkdirSync(making);
    fs.writeFileSync(path.join(making, "lock"), "");
    const busy = "a".repeat(64);
    fs.mkdirSync(containerPaths(e.root, busy).dir);
    const held = tryLock({ sys: e.ctx.sys, sleep: e.ctx.sleep }, containerFiles(e.root, busy).lock)!;
    try {
      const report = await reconcile(e.ctx, { network: false });
      expect(report.removedDirs.sort()).toEqual([abandoned, `.creating-${"9".repeat(64)}`].sort());
      expect(fs.existsSync(containerPaths(e.root, busy).dir)).toBe(true);
    } finally {
      held.release();
    }
  });
});

describe("stats and top formatting", () => {
  test("Docker's units and columns", () => {
    expect(bytesSize(0)).toBe("0B");
    expect(bytesSize(1_261_568)).toBe("1.203MiB");
    expect(bytesSize(8 * 1024 ** 3)).toBe("8GiB");
    expect(humanSize3(1450)).toBe("1.45kB");
    expect(humanSize3(656)).toBe("656B");
    const c = { record: { id: "a".repeat(64), name: "web" }, state: { Running: true } } as never;
    const row = statsRow(
      c,
      { atMs: 0, cgroup: { cpuUsageNs: 0, memoryUsage: 0, memoryLimit: Infinity, pids: 1 }, net: { rx: 0, tx: 0 }, block: { read: 0, write: 0 } },
      { atMs: 1000, cgroup: { cpuUsageNs: 250_000_000, memoryUsage: 1024 ** 2, memoryLimit: 4 * 1024 ** 2, pids: 2 }, net: { rx: 1450, tx: 0 }, block: { read: 4096, write: 0 } },
    );
    expect(formatStats(row)).toEqual(["aaaaaaaaaaaa", "web", "25.00%", "1MiB / 4MiB", "25.00%", "1.45kB / 0B", "4.1kB / 0B", "2"]);
  });
  test("net/dev and block I/O files", () => {
    const dev = "Inter-|   Receive |  Transmit\n face |bytes packets\n    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n  eth0: 2000 5 0 0 0 0 0 0 300 4 0 0 0 0 0 0\n";
    expect(parseNetDev(dev)).toEqual({ rx: 2000, tx: 300 });
    expect(parseBlockIo("8:0 Read 10\n8:0 Write 20\n8:0 Sync 30\nTotal 30\n", false)).toEqual({ read: 10, write: 20 });
    expect(parseBlockIo("8:0 rbytes=5 wbytes=6 rios=1 wios=1\n", true)).toEqual({ read: 5, write: 6 });
  });
  test("ps -ef columns", () => {
    const now = new Date(2026, 10, 23, 22, 30).getTime();
    const p = { uid: 0, pid: 42, ppid: 1, c: 0, startMs: new Date(2026, 10, 23, 22, 4).getTime(), tty: 0, cpuS: 3725, cmd: "sleep 1000" };
    expect(formatProcess(p, new Map([[0, "root"]]), now)).toEqual(["root", "42", "1", "0", "22:04", "?", "01:02:05", "sleep 1000"]);
    expect(formatProcess({ ...p, uid: 1000, tty: (136 << 8) | 3, startMs: new Date(2026, 10, 20, 1, 0).getTime() }, new Map(), now).slice(0, 6)).toEqual(["1000", "42", "1", "0", "Nov20", "pts/3"]);
  });
});

describe("cp arguments", () => {
  test.each([
    ["c1:/etc/hosts", { container: "c1", path: "/etc/hosts" }],
    ["c1:relative", { container: "c1", path: "relative" }],
    ["/host/path", { path: "/host/path" }],
    ["./a:b", { path: "./a:b" }],
    ["dir/with:colon", { path: "dir/with:colon" }],
    ["plain", { path: "plain" }],
  ])("%s", (arg, want) => expect(parseCopyArg(arg)).toEqual(want));
  test("container paths are relative to its root", () => {
    expect(containerRel("/")).toBe(".");
    expect(containerRel("/etc//hosts")).toBe("etc/hosts");
    expect(containerRel("/data/.")).toBe("data");
    expect(containerRel("../../etc")).toBe("../../etc");
  });
});

describe("top with ps options", () => {
  test("keeps the container's lines by the PID column, the command with its spaces", async () => {
    const { filterPsOutput } = await import("../../../src/lifecycle/top.ts");
    const out = "USER  PID %CPU COMMAND\nroot    1  0.0 /sbin/init splash\nroot   42  0.1 sleep 1000\nroot   43  0.0 sh -c x y\n";
    expect(filterPsOutput(out, new Set([42, 43]), "aux")).toEqual({
      titles: ["USER", "PID", "%CPU", "COMMAND"],
      processes: [
        ["root", "42", "0.1", "sleep 1000"],
        ["root", "43", "0.0", "sh -c x y"],
      ],
    });
    expect(() => filterPsOutput("A B\n1 2\n", new Set(), "-o a")).toThrow("ps printed no PID column");
  });
});
