// encodePlan: the bytes src/sys/init.c parses, laid out as the layout test spells them; decodePlan
// (the same walk as parse() in init.c) must get the plan back, for hand-picked and random plans.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { decodePlan, encodePlan, encodePlanAt, PLAN_MAGIC, withoutCallerFds } from "../../../src/runtime/encode.ts";
import type { Namespace, RunPlan } from "../../../src/runtime/plan.ts";
import { MS } from "../../../src/sys/sys.ts";
import { recordCases } from "../../helpers/adversarial.ts";

/** Namespaces are a set: the decoder returns them sorted. */
const sorted = (p: RunPlan): RunPlan => ({ ...p, namespaces: [...p.namespaces].sort() });
const roundTrip = (p: RunPlan): RunPlan => sorted(decodePlan(encodePlan(p)));

function samplePlan(over: Partial<RunPlan> = {}): RunPlan {
  return {
    namespaces: ["mnt", "pid", "uts", "ipc", "net", "cgroup"],
    hostname: "box",
    rootfs: { source: "overlay", target: "/r/rootfs", fstype: "overlay", flags: MS.NODEV, data: "lowerdir=l/A:l/B,upperdir=/u,workdir=/w", cwd: "/r" },
    rootfsPath: "/r/rootfs",
    mounts: [
      { source: "proc", target: "/proc", fstype: "proc", flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: null },
      { source: "/host/file", target: "/etc/hosts", fstype: null, flags: MS.BIND, data: null, targetKind: "file", remountFlags: MS.RDONLY },
    ],
    maskedPaths: ["/proc/kcore"],
    readonlyPaths: ["/proc/sys"],
    readonlyRoot: false,
    devices: [{ path: "/dev/null", type: "c", major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 }],
    symlinks: [{ target: "pts/ptmx", path: "/dev/ptmx" }],
    cgroupProcs: ["/sys/fs/cgroup/pids/tinydock/x/cgroup.procs"],
    uid: 1000,
    gid: 1000,
    additionalGids: [10, 1000],
    capabilities: { bounding: 0xa80425fbn, effective: 0xa80425fbn, permitted: 0xa80425fbn, inheritable: 0n, ambient: 0n },
    noNewPrivileges: true,
    seccomp: new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]),
    rlimits: [{ resource: 7, soft: 1024, hard: -1 }],
    args: ["sh", "-c", "echo héllo"],
    env: ["PATH=/bin", "EMPTY="],
    cwd: "/",
    stdio: [0, 1, -1],
    consoleSocket: -1,
    init: false,
    oomScoreAdj: null,
    ...over,
  };
}

describe("encodePlan", () => {
  test("round-trips a typical plan", () => {
    const plan = samplePlan();
    expect(roundTrip(plan)).toEqual(sorted(plan));
  });

  test("round-trips the optional shapes: no seccomp, oom_score_adj, init, a tty, time namespace", () => {
    const plan = samplePlan({ seccomp: null, oomScoreAdj: -500, init: true, consoleSocket: 9, consoleSize: { rows: 33, cols: 101 }, namespaces: ["mnt", "time"], mounts: [], rlimits: [] });
    expect(roundTrip(plan)).toEqual(sorted(plan));
  });

  test("layout: magic at both ends, strings NUL-terminated, null as 0xFFFFFFFF", () => {
    const bytes = encodePlan(samplePlan());
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(0, true)).toBe(PLAN_MAGIC);
    expect(view.getUint32(bytes.length - 4, true)).toBe(PLAN_MAGIC);
    // namespaces as clone flags, then the hostname "box\0"
    expect(view.getUint32(4, true)).toBe(0x20000 | 0x20000000 | 0x04000000 | 0x08000000 | 0x40000000 | 0x02000000);
    expect([...bytes.subarray(8, 16)]).toEqual([3, 0, 0, 0, 0x62, 0x6f, 0x78, 0]);
    const proc = encodePlan(samplePlan({ mounts: [samplePlan().mounts[0]!] }));
    // the proc mount's data is null: its length field is 0xFFFFFFFF somewhere after "proc\0"
    expect(Buffer.from(proc).includes(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBe(true);
  });

  test("joined namespaces: encoded by clone flag and path, and not created too", () => {
    const joinNamespaces = [
      { ns: "net" as const, path: "/var/lib/tinydock/netns/abc" },
      { ns: "uts" as const, path: "/proc/42/ns/uts" },
      { ns: "pid" as const, path: "/proc/42/ns/pid" },
    ];
    const plan = samplePlan({ joinNamespaces });
    const decoded = roundTrip(plan);
    expect(decoded.joinNamespaces).toEqual(joinNamespaces);
    expect(decoded.namespaces).toEqual(["cgroup", "ipc", "mnt"]);
    // the list sits just before the sysctls' (empty) and the trailing magic: count, flag, path
    const bytes = Buffer.from(encodePlan(samplePlan({ joinNamespaces: [{ ns: "ipc", path: "/x" }] })));
    expect([...bytes.subarray(bytes.length - 8 - 15, bytes.length - 4)]).toEqual([1, 0, 0, 0, 0, 0, 0, 0x08, 2, 0, 0, 0, 0x2f, 0x78, 0, 0, 0, 0, 0]);
  });

  test("sysctls: path and value pairs after the joins, under /proc/sys only", () => {
    const sysctls = [
      { path: "/proc/sys/kernel/shmmax", value: "1048576" },
      { path: "/proc/sys/fs/mqueue/msg_max", value: "" },
    ];
    expect(roundTrip(samplePlan({ sysctls })).sysctls).toEqual(sysctls);
    for (const path of ["/etc/passwd", "/proc/sys/../../etc/passwd", "proc/sys/kernel/shmmax", "/proc/sysx"]) {
      expect(() => encodePlan(samplePlan({ sysctls: [{ path, value: "1" }] }))).toThrow(/not under \/proc\/sys/);
    }
  });

  test("-1 rlimits are RLIM_INFINITY", () => {
    const bytes = Buffer.from(encodePlan(samplePlan({ rlimits: [{ resource: 7, soft: -1, hard: -1 }] })));
    expect(bytes.includes(Buffer.from([7, 0, 0, 0, ...Array(16).fill(0xff)]))).toBe(true);
  });

  const bad: [string, Partial<RunPlan>, RegExp][] = [
    ["NUL in an argument", { args: ["sh", "a\0b"] }, /argument "a\\0b" contains a NUL byte/],
    ["NUL in the environment", { env: ["A=\0"] }, /NUL byte/],
    ["no mount namespace", { namespaces: ["pid"] }, /own mount namespace/],
    ["no command", { args: [] }, /no command/],
    ["relative cwd", { cwd: "work" }, /working directory "work" is not an absolute path/],
    ["relative mount target", { mounts: [{ source: "tmpfs", target: "tmp", fstype: "tmpfs", flags: 0, data: null }] }, /mount target "tmp"/],
    ["seccomp not whole instructions", { seccomp: new Uint8Array(12) }, /12 bytes/],
    ["seccomp empty", { seccomp: new Uint8Array(0) }, /0 bytes/],
    ["negative uid", { uid: -1 }, /uid -1/],
    ["fractional gid", { gid: 1.5 }, /gid 1.5/],
    ["stdio beyond 32 bits", { stdio: [0, 2 ** 31, 2] }, /stdio fd/],
    ["joining the mount namespace", { joinNamespaces: [{ ns: "mnt", path: "/proc/1/ns/mnt" }] }, /cannot join a mnt namespace/],
    ["a relative namespace path", { joinNamespaces: [{ ns: "net", path: "netns/x" }] }, /net namespace path "netns\/x"/],
  ];
  for (const [name, over, message] of bad) {
    test(`refuses ${name}`, () => {
      expect(() => encodePlan(samplePlan(over))).toThrow(InvalidArgumentError);
      expect(() => encodePlan(samplePlan(over))).toThrow(message);
    });
  }

  test("strings past the first 4 KiB, multi-byte and lone surrogates: UTF-8 as TextEncoder writes it", () => {
    // Each string lands at another offset of a buffer that grows while it is written.
    const env = Array.from({ length: 40 }, (_, i) => `${"é😀\ud800".repeat(i * 7)}=${"x".repeat(i * 13)}`);
    const bytes = encodePlan(samplePlan({ env, hostname: "ü".repeat(3000) }));
    expect(decodePlan(bytes).env).toEqual(env.map((e) => new TextDecoder().decode(new TextEncoder().encode(e))));
    const at = Buffer.from(bytes).indexOf(Buffer.from("ü".repeat(3000)));
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(at - 4, true)).toBe(6000);
  });

  test("property: any valid plan round-trips", () => {
    const text = fc.string({ unit: "grapheme", maxLength: 12 }).filter((s) => !s.includes("\0"));
    const abs = text.map((s) => `/${s}`);
    const u32 = fc.nat({ max: 0xffffffff });
    const mask = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const mount = fc.record({
      source: text,
      target: abs,
      fstype: fc.option(text, { nil: null }),
      flags: u32,
      data: fc.option(text, { nil: null }),
    });
    const plan = fc.record({
      namespaces: fc.subarray(["pid", "uts", "ipc", "net", "cgroup", "time"] as Namespace[]).map((n) => ["mnt", ...n] as Namespace[]),
      hostname: text,
      rootfs: mount,
      rootfsPath: abs,
      mounts: fc.array(
        fc.record({ m: mount, file: fc.boolean(), remount: fc.nat({ max: 0xffff }) }).map(({ m, file, remount }) => ({
          ...m,
          ...(file ? { targetKind: "file" as const } : {}),
          ...(remount ? { remountFlags: remount } : {}),
        })),
        { maxLength: 4 },
      ),
      maskedPaths: fc.array(abs, { maxLength: 3 }),
      readonlyPaths: fc.array(abs, { maxLength: 3 }),
      readonlyRoot: fc.boolean(),
      devices: fc.array(
        fc.record({ path: abs, type: fc.constantFrom("c" as const, "b" as const), major: u32, minor: u32, mode: fc.nat({ max: 0o7777 }), uid: u32, gid: u32 }),
        { maxLength: 3 },
      ),
      symlinks: fc.array(fc.record({ target: text, path: abs }), { maxLength: 3 }),
      cgroupProcs: fc.array(abs, { maxLength: 2 }),
      uid: u32,
      gid: u32,
      additionalGids: fc.array(u32, { maxLength: 4 }),
      capabilities: fc.record({ bounding: mask, effective: mask, permitted: mask, inheritable: mask, ambient: mask }),
      noNewPrivileges: fc.boolean(),
      seccomp: fc.option(fc.uint8Array({ minLength: 1, maxLength: 5 }).chain((b) => fc.uint8Array({ minLength: b.length * 8, maxLength: b.length * 8 })), { nil: null }),
      rlimits: fc.array(fc.record({ resource: fc.nat({ max: 15 }), soft: fc.integer({ min: -1, max: 2 ** 40 }), hard: fc.integer({ min: -1, max: 2 ** 40 }) }), { maxLength: 3 }),
      args: fc.array(text, { minLength: 1, maxLength: 4 }),
      env: fc.array(text, { maxLength: 4 }),
      cwd: abs,
      stdio: fc.tuple(fc.integer({ min: -1, max: 1000 }), fc.integer({ min: -1, max: 1000 }), fc.integer({ min: -1, max: 1000 })),
      consoleSocket: fc.integer({ min: -1, max: 1000 }),
      init: fc.boolean(),
      oomScoreAdj: fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null }),
    });
    fc.assert(
      fc.property(plan, (p) => {
        expect(roundTrip(p as RunPlan)).toEqual(sorted(p as RunPlan));
        expect(withoutCallerFds(encodePlanAt(p as RunPlan))).toEqual(encodePlan({ ...(p as RunPlan), stdio: [-1, -1, -1], consoleSocket: -1 }));
      }),
      { numRuns: 300 },
    );
    recordCases("property unit/runtime/encode.test.ts: property: any valid plan round-trips", 300);
  });
});

describe("withoutCallerFds", () => {
  test("the stored plan is the encoding of the plan without the caller's fds, and the sent one is left as it was", () => {
    const plan = samplePlan({ stdio: [3, 4, 5], consoleSocket: 9 });
    const encoded = encodePlanAt(plan);
    const sent = encoded.bytes.slice();
    const stored = withoutCallerFds(encoded);
    expect(stored).toEqual(encodePlan({ ...plan, stdio: [-1, -1, -1], consoleSocket: -1 }));
    expect(decodePlan(stored).stdio).toEqual([-1, -1, -1]);
    expect(encoded.bytes).toEqual(sent);
    expect(decodePlan(encoded.bytes).consoleSocket).toBe(9);
  });
});

describe("decodePlan", () => {
  test("a joined namespace comes back in joinNamespaces only", () => {
    const plan = samplePlan({ seccomp: null, oomScoreAdj: 3, joinNamespaces: [{ ns: "net", path: "/run/netns/x" }] });
    expect(roundTrip(plan)).toEqual(sorted({ ...plan, namespaces: plan.namespaces.filter((n) => n !== "net") }));
  });
  test("refuses truncated bytes with a typed error", () => {
    const bytes = encodePlan(samplePlan());
    expect(() => decodePlan(bytes.subarray(0, bytes.length - 1))).toThrow(InvalidArgumentError);
  });
});
