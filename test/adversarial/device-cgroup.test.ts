// A container that makes a node for a host block device (CAP_MKNOD is in Docker's default set) must
// not be able to open it: the device cgroup refuses. On cgroup v2 that is the eBPF device program
// tinydock attaches; a v2 host is emulated here by running tinydock in a mount namespace of its own
// with cgroup2 mounted on /sys/fs/cgroup. The devices probed: the disk that holds / (read only: this
// test never writes to it; on some hosts, this one included, not even the host's root may open it)
// and a loop device over a temp file of this test (read and write), which carries the proof.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { BINARY, cliEnv, requireBinary, tinydock, type CliEnv, type CliResult } from "../helpers/cli.ts";
import { startE2e, type E2e } from "../helpers/e2e.ts";

let e: E2e | undefined;
let env: CliEnv;
let dir: string;
let loop = ""; // /dev/loopN over dir/loop.img
let loopDev = { major: 0, minor: 0 };
const MARKER = "tinydock-loop-marker";

const major = (rdev: number) => ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
const minor = (rdev: number) => (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
const rootDisk = () => {
  const dev = fs.statSync("/").dev;
  return { major: major(dev), minor: minor(dev) };
};

/** tinydock as on a cgroup v2 host: its own mount namespace, cgroup2 on /sys/fs/cgroup. */
function onV2(args: string[]): CliResult {
  const r = Bun.spawnSync(["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount -t cgroup2 none /sys/fs/cgroup && exec "$0" "$@"', BINARY, ...args], {
    env: cliEnv(env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}
const onV1 = (args: string[]) => tinydock(env, args);

/** What the container managed: one word per access that worked. */
const PROBE = () => {
  const disk = rootDisk();
  return [
    `mknod /dev/disk-probe b ${disk.major} ${disk.minor} && echo DISK-MKNOD`,
    "head -c 512 /dev/disk-probe >/dev/null 2>&1 && echo DISK-READ",
    `mknod /dev/loop-probe b ${loopDev.major} ${loopDev.minor} && echo LOOP-MKNOD`,
    "head -c 512 /dev/loop-probe >/dev/null 2>&1 && echo LOOP-READ",
    "(exec 3<>/dev/loop-probe) 2>/dev/null && echo LOOP-RW",
    "printf pwned | dd of=/dev/loop-probe conv=notrunc 2>/dev/null && echo LOOP-WRITE",
    "echo x >/dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c && echo DEVNULL-OK",
    ":",
  ].join("; ");
};
const OK_DEFAULT = "DISK-MKNOD\nLOOP-MKNOD\n4\n4\nDEVNULL-OK\n";

function loopContents(): string {
  return fs.readFileSync(path.join(dir, "loop.img")).subarray(0, MARKER.length).toString();
}

beforeAll(async () => {
  e = await startE2e({ prefix: "td-adv-devices-", rootName: "tinydock-root", netns: false });
  ({ env, dir } = e);
  const img = path.join(dir, "loop.img");
  fs.writeFileSync(img, Buffer.concat([Buffer.from(MARKER), Buffer.alloc(1 << 20)]));
  const l = Bun.spawnSync(["losetup", "--find", "--show", img]);
  loop = l.stdout.toString().trim();
  expect(loop).toMatch(/^\/dev\/loop\d+$/);
  const st = fs.statSync(loop);
  loopDev = { major: major(st.rdev), minor: minor(st.rdev) };
});

afterAll(async () => {
  if (loop) Bun.spawnSync(["losetup", "-d", loop]);
  await e?.stop();
});

describe("device cgroup on a cgroup v2 host", () => {
  test("a default container may mknod a host disk and a loop device but open neither; /dev/null, zero, urandom work", () => {
    const r = onV2(["run", "--rm", "busybox", "sh", "-c", PROBE()]);
    expect(r.stderr).not.toContain("Error");
    expect(r.stdout).toBe(OK_DEFAULT);
    expect(r.code).toBe(0);
    expect(loopContents()).toBe(MARKER);
    recordCases("v2 device cgroup: host disk and loop device opened after mknod (foreground run)", 4);
  });

  test("create, then start: the re-made path is guarded too", () => {
    // --network none: a network namespace file is a mount, which each onV2 call's own mount namespace would lose
    const c = onV2(["create", "--network", "none", "busybox", "sh", "-c", PROBE()]);
    expect(c.code).toBe(0);
    const id = c.stdout.trim();
    try {
      const s = onV2(["start", "-a", id]);
      expect(s.stderr).toBe("");
      expect(s.stdout).toBe(OK_DEFAULT);
      // started again after its end: the cleanup took the cgroup, start makes it again
      const again = onV2(["start", "-a", id]);
      expect(again.stdout).toBe(OK_DEFAULT);
      expect(loopContents()).toBe(MARKER);
    } finally {
      onV2(["rm", "-f", id]);
    }
    recordCases("v2 device cgroup: host disk and loop device opened after mknod (create/start)", 8);
  });

  test("--device adds that device (with its permissions) and nothing else; --privileged allows every device", () => {
    const probeLoop = `head -c ${MARKER.length} ${loop}; echo; printf ours | dd of=${loop} bs=1 seek=${MARKER.length + 10} conv=notrunc 2>/dev/null && echo WROTE`;
    const r = onV2(["run", "--rm", "--device", loop, "busybox", "sh", "-c", `${probeLoop}; ${PROBE()}`]);
    expect(r.stdout).toBe(`${MARKER}\nWROTE\nDISK-MKNOD\nLOOP-MKNOD\nLOOP-READ\nLOOP-RW\nLOOP-WRITE\n4\n4\nDEVNULL-OK\n`);
    expect(fs.readFileSync(path.join(dir, "loop.img")).subarray(MARKER.length + 10, MARKER.length + 14).toString()).toBe("ours");
    // the dd of the probe wrote "pwned" at 0: put the marker back
    const fd = fs.openSync(loop, "r+");
    fs.writeSync(fd, MARKER, 0);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const ro = onV2(["run", "--rm", "--device", `${loop}:/dev/xvda:r`, "busybox", "sh", "-c", "head -c 4 /dev/xvda >/dev/null && echo READ; (exec 3<>/dev/xvda) 2>/dev/null && echo RW; :"]);
    expect(ro.stdout).toBe("READ\n");
    const p = onV2(["run", "--rm", "--privileged", "busybox", "sh", "-c", `mknod /dev/lp b ${loopDev.major} ${loopDev.minor} && head -c ${MARKER.length} /dev/lp`]);
    expect(p.stderr).toBe("");
    expect(p.stdout).toBe(MARKER);
    recordCases("v2 device cgroup: --device and --privileged", 3);
  });
});

describe("device cgroup on this cgroup v1 host (unchanged)", () => {
  test("default: the same probe gives the same answers; --device allows its device", () => {
    const r = onV1(["run", "--rm", "busybox", "sh", "-c", PROBE()]);
    expect(r.stdout).toBe(OK_DEFAULT);
    const d = onV1(["run", "--rm", "--device", `${loop}:/dev/xvda:r`, "busybox", "sh", "-c", "head -c 4 /dev/xvda >/dev/null && echo READ; (exec 3<>/dev/xvda) 2>/dev/null && echo RW; :"]);
    expect(d.stdout).toBe("READ\n");
    expect(loopContents()).toBe(MARKER);
    recordCases("v1 device cgroup: host disk and loop device opened after mknod", 5);
  });
});
