// launch() over the fake Sys: what the C init reports becomes one typed, one-line error naming the
// operation and its arguments; signals by name or number reach the process.
import { describe, expect, test } from "bun:test";
import { InvalidArgumentError, SyscallError } from "../../../src/errors.ts";
import { InitStage } from "../../../src/runtime/encode.ts";
import { ExecError, launch } from "../../../src/runtime/launch.ts";
import type { RunPlan } from "../../../src/runtime/plan.ts";
import { fakeSys } from "../../../src/sys/fake.ts";
import { MS, type InitFailure } from "../../../src/sys/sys.ts";

function samplePlan(over: Partial<RunPlan> = {}): RunPlan {
  return {
    namespaces: ["mnt", "pid"],
    hostname: "box",
    rootfs: { source: "overlay", target: "/r/rootfs", fstype: "overlay", flags: MS.NODEV, data: "lowerdir=l/A:empty", cwd: "/r" },
    rootfsPath: "/r/rootfs",
    mounts: [
      { source: "proc", target: "/proc", fstype: "proc", flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: null },
      { source: "/host/hosts", target: "/etc/hosts", fstype: null, flags: MS.BIND, data: null, targetKind: "file", remountFlags: MS.RDONLY },
    ],
    maskedPaths: [],
    readonlyPaths: [],
    readonlyRoot: false,
    devices: [{ path: "/dev/null", type: "c", major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 }],
    symlinks: [],
    cgroupProcs: ["/sys/fs/cgroup/pids/tinydock/x/cgroup.procs"],
    uid: 1000,
    gid: 1000,
    additionalGids: [],
    capabilities: { bounding: 0xa80425fbn, effective: 0xa80425fbn, permitted: 0xa80425fbn, inheritable: 0n, ambient: 0n },
    noNewPrivileges: true,
    seccomp: new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]),
    rlimits: [{ resource: 7, soft: 1024, hard: -1 }],
    args: ["sh"],
    env: [],
    cwd: "/",
    stdio: [0, 1, 2],
    consoleSocket: -1,
    init: false,
    oomScoreAdj: null,
    ...over,
  };
}

const failure = (stage: InitStage, code: string, index = 0, detail = ""): InitFailure => ({ stage, errno: 0, code, index, detail });

async function failWith(f: InitFailure, over: Partial<RunPlan> = {}): Promise<Error> {
  const sys = fakeSys();
  sys.nextSpawn({ failure: f });
  return launch(sys, samplePlan(over)).then(
    () => {
      throw new Error("launch resolved");
    },
    (e: Error) => e,
  );
}

describe("launch", () => {
  test("hands the encoded plan to the Sys and resolves once started", async () => {
    const sys = fakeSys();
    const l = await launch(sys, samplePlan());
    expect(sys.calls.map((c) => c.op)).toEqual(["spawnContainer"]);
    expect(sys.spawned[0]!.plan[0]).toBe(0x54); // "TDP1", little-endian
    expect(l.pid).toBe(sys.spawned[0]!.pid);
    sys.spawned[0]!.exit({ exitCode: 3 });
    expect(await l.exited).toEqual({ exitCode: 3 });
  });

  test("with an early container the plan goes to it, not to spawnContainer (no TinyCC compile)", async () => {
    const sys = fakeSys();
    const early = sys.startEarly("/proc/self/fd/9", { cloneFlags: 0x20000000, fds: [0, 1, 2, -1] });
    expect(early.fdMap).toEqual([3, 4, 5, -1]);
    const l = await launch(sys, samplePlan({ stdio: [3, 4, 5] }), early);
    expect(sys.calls.map((c) => c.op)).toEqual(["startEarly"]);
    expect(l.pid).toBe(sys.spawned[0]!.pid);
    early.abort();
    expect(await l.exited).toEqual({ exitCode: 137, signal: 9 });
  });

  test("whileStarting runs after the plan is handed over; if it throws, the started process is killed and reaped first", async () => {
    const sys = fakeSys();
    const order: string[] = [];
    const l = await launch(sys, samplePlan(), undefined, () => order.push(`side, ${sys.spawned.length} spawned`));
    expect(order).toEqual(["side, 1 spawned"]);
    sys.spawned[0]!.exit({ exitCode: 0 });
    expect(await l.exited).toEqual({ exitCode: 0 });

    const failing = launch(sys, samplePlan(), undefined, () => {
      throw new Error("ENOSPC writing plan.bin");
    });
    await expect(failing).rejects.toThrow("ENOSPC writing plan.bin");
    expect(sys.spawned[1]!.signals).toEqual([9]);
    expect(await sys.spawned[1]!.exited).toEqual({ exitCode: 137, signal: 9 });
  });

    test("kill takes names and numbers", async () => {
    const sys = fakeSys();
    const l = await launch(sys, samplePlan());
    l.kill("SIGUSR1");
    l.kill(28);
    l.kill("SIGTERM");
    expect(sys.spawned[0]!.signals).toEqual([10, 28, 15]);
    expect(await l.exited).toEqual({ exitCode: 143, signal: 15 });
    expect(() => l.kill("SIGNOPE" as NodeJS.Signals)).toThrow(InvalidArgumentError);
    expect(() => l.kill(99)).toThrow(InvalidArgumentError);
  });

  const setup: [string, InitFailure, string][] = [
    ["mount", failure(InitStage.Mount, "EPERM", 0), "mount proc on /proc (MS_NOSUID|MS_NODEV|MS_NOEXEC): EPERM"],
    ["mount target", failure(InitStage.MountTarget, "ELOOP", 1), "create mount target /etc/hosts in /r/rootfs: ELOOP"],
    ["remount", failure(InitStage.Remount, "EPERM", 1), "remount /etc/hosts (MS_RDONLY|MS_REMOUNT|MS_BIND): EPERM"],
    ["recursive read-only", failure(InitStage.Remount, "EPERM", 1, "recursive"), "make /etc/hosts read-only with its submounts: mount_setattr /host/hosts (AT_RECURSIVE, MOUNT_ATTR_RDONLY): EPERM"],
    [
      "recursive read-only without mount_setattr",
      failure(InitStage.Remount, "ENOSYS", 1, "recursive"),
      "make /etc/hosts read-only with its submounts: mount_setattr /host/hosts (AT_RECURSIVE, MOUNT_ATTR_RDONLY); the kernel lacks mount_setattr (Linux 5.12), which a read-only bind with submounts needs: ENOSYS",
    ],
    ["rootfs", failure(InitStage.Rootfs, "EINVAL"), "mount overlay on /r/rootfs (MS_NODEV): EINVAL"],
    ["rootfs chdir", failure(InitStage.Rootfs, "ENOENT", 0, "chdir"), "chdir /r: ENOENT"],
    ["cgroup", failure(InitStage.Cgroup, "EACCES"), "join cgroup: write 0 to /sys/fs/cgroup/pids/tinydock/x/cgroup.procs: EACCES"],
    ["device", failure(InitStage.Device, "EPERM", 0, "mknod"), "mknod device /dev/null (c 1:3): EPERM"],
    ["pivot_root", failure(InitStage.PivotRoot, "EINVAL"), "pivot_root to /r/rootfs: EINVAL"],
    ["setuid", failure(InitStage.Setuid, "EPERM"), "setresuid 1000: EPERM"],
    ["rlimit", failure(InitStage.Rlimit, "EPERM"), "setrlimit nofile 1024:-1: EPERM"],
    ["seccomp", failure(InitStage.Seccomp, "EACCES"), "install the seccomp filter (1 instructions): EACCES"],
    ["capset", failure(InitStage.Capset, "EPERM"), "capset effective 0x00000000a80425fb permitted 0x00000000a80425fb inheritable 0x0000000000000000: EPERM"],
  ];
  test("setup failure: a sysctl's write or open, and the clone into another container's PID namespace", async () => {
    const sysctls = [{ path: "/proc/sys/kernel/shmmax", value: "lots" }];
    expect((await failWith(failure(InitStage.Sysctl, "EINVAL", 0, "write"), { sysctls })).message).toBe('write sysctl kernel.shmmax = "lots": EINVAL');
    expect((await failWith(failure(InitStage.Sysctl, "ENOENT", 0, "open"), { sysctls })).message).toBe("open sysctl kernel.shmmax: ENOENT");
    const joinNamespaces = [{ ns: "pid" as const, path: "/proc/4242/ns/pid" }];
    expect((await failWith(failure(InitStage.Fork, "ENOENT"), { joinNamespaces })).message).toBe("clone the container's process into the PID namespace /proc/4242/ns/pid: ENOENT");
    expect((await failWith(failure(InitStage.Fork, "EAGAIN"))).message).toBe("fork the command under --init: EAGAIN");
  });
  for (const [name, f, message] of setup) {
    test(`setup failure: ${name}`, async () => {
      const err = await failWith(f);
      expect(err).toBeInstanceOf(SyscallError);
      expect(err.message).toBe(message);
    });
  }

  test("the error kind follows the errno", async () => {
    expect(await failWith(failure(InitStage.Mount, "EPERM"))).toMatchObject({ kind: "Permission", code: "EPERM" });
    expect(await failWith(failure(InitStage.Cwd, "ENOENT"))).toMatchObject({ kind: "NotFound" });
  });

  const exec: [string, InitFailure, Partial<RunPlan>, string, number][] = [
    ["not in $PATH", failure(InitStage.Exec, "ENOENT", 1), { args: ["nosuchcmd"] }, 'exec: "nosuchcmd": executable file not found in $PATH', 127],
    ["absolute, missing", failure(InitStage.Exec, "ENOENT", 0), { args: ["/nosuch"] }, 'exec: "/nosuch": stat /nosuch: no such file or directory', 127],
    ["not executable", failure(InitStage.Exec, "EACCES", 0), { args: ["/etc/passwd"] }, 'exec: "/etc/passwd": permission denied', 126],
    ["not a binary", failure(InitStage.Exec, "ENOEXEC", 0), { args: ["/x"] }, 'exec: "/x": exec format error', 126],
    ["a directory", failure(InitStage.Exec, "EACCES", 1), { args: ["bin"] }, 'exec: "bin": permission denied', 126],
  ];
  for (const [name, f, over, message, code] of exec) {
    test(`exec failure: ${name} → ${code}`, async () => {
      const err = await failWith(f, over);
      expect(err).toBeInstanceOf(ExecError);
      expect(err).toMatchObject({ message, exitCode: code, errno: f.code });
    });
  }
});
