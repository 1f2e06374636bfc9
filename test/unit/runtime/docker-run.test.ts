// docker-run semantics, table-tested: command, environment, user, volumes.
import { describe, expect, test } from "bun:test";
import { FailedPreconditionError, NotFoundError, ParseError } from "../../../src/errors.ts";
import { containerEnv, mergeEnv, parseEnvArg, parseEnvFile } from "../../../src/runtime/env.ts";
import { buildRunPlan, MASKED_PATHS, resolveArgs, type PlanInput } from "../../../src/runtime/spec.ts";
import { parseGroup, parsePasswd, resolveUser } from "../../../src/runtime/user.ts";
import { localVolumeMount, parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from "../../../src/runtime/volumes.ts";
import { MS } from "../../../src/sys/sys.ts";
import { containerResolvConf, hostsFile } from "../../../src/network/dns.ts";

describe("Entrypoint and Cmd", () => {
  const cases: [string, { Entrypoint?: string[] | null; Cmd?: string[] | null }, string[], string | undefined, string[]][] = [
    ["image Cmd", { Cmd: ["sh"] }, [], undefined, ["sh"]],
    ["args replace Cmd", { Cmd: ["sh"] }, ["echo", "hi"], undefined, ["echo", "hi"]],
    ["Entrypoint + Cmd", { Entrypoint: ["/init"], Cmd: ["--serve"] }, [], undefined, ["/init", "--serve"]],
    ["Entrypoint + args", { Entrypoint: ["/init"], Cmd: ["--serve"] }, ["x"], undefined, ["/init", "x"]],
    ["--entrypoint resets Cmd", { Entrypoint: ["/init"], Cmd: ["--serve"] }, [], "sh", ["sh"]],
    ["--entrypoint with args", { Cmd: ["x"] }, ["-c", "true"], "sh", ["sh", "-c", "true"]],
    ["--entrypoint '' clears", { Entrypoint: ["/init"], Cmd: ["a"] }, ["ls"], "", ["ls"]],
  ];
  for (const [name, cfg, args, ep, want] of cases) test(name, () => expect(resolveArgs(cfg, args, ep)).toEqual(want));
  test("nothing to run", () => expect(() => resolveArgs({}, [])).toThrow(FailedPreconditionError));
});

describe("environment", () => {
  test("-e forms", () => {
    expect(parseEnvArg("A=1", {})).toBe("A=1");
    expect(parseEnvArg("A=", {})).toBe("A=");
    expect(parseEnvArg("A", { A: "host" })).toBe("A=host");
    expect(parseEnvArg("A", {})).toBeNull();
    expect(() => parseEnvArg("=x", {})).toThrow(ParseError);
  });
  test("env file", () => {
    expect(parseEnvFile("# c\n\nA=1\n  B=two words\nC\n", "f", { C: "c" })).toEqual(["A=1", "B=two words", "C=c"]);
  });
  test("precedence: defaults < image < user; HOME from passwd", () => {
    const env = containerEnv({ image: ["PATH=/img", "X=image", "Y=image"], user: ["X=user"], hostname: "h1", tty: false, home: "/root" });
    expect(env).toEqual(["PATH=/img", "HOSTNAME=h1", "X=user", "Y=image", "HOME=/root"]);
    expect(mergeEnv(["A=1", "B=2"], ["A=3"])).toEqual(["A=3", "B=2"]);
    expect(containerEnv({ image: [], user: ["HOME=/x"], hostname: "h", tty: true, home: "/root" })).toContain("TERM=xterm");
  });
});

describe("users", () => {
  const passwd = parsePasswd("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n");
  const groups = parseGroup("root:x:0:\nuser:x:1000:\nwheel:x:10:user,other\nnogroup:x:65534:\n");
  test.each([
    ["", { uid: 0, gid: 0, additionalGids: [], home: "/root" }],
    ["user", { uid: 1000, gid: 1000, additionalGids: [10], home: "/home/user" }],
    ["1000", { uid: 1000, gid: 1000, additionalGids: [10], home: "/home/user" }],
    ["1000:1000", { uid: 1000, gid: 1000, additionalGids: [], home: "/home/user" }],
    ["user:wheel", { uid: 1000, gid: 10, additionalGids: [], home: "/home/user" }],
    ["4242", { uid: 4242, gid: 0, additionalGids: [], home: "/" }],
    ["4242:4242", { uid: 4242, gid: 4242, additionalGids: [], home: "/" }],
  ])("-u %p", (spec, want) => expect(resolveUser(spec as string, passwd, groups)).toEqual(want));
  test("errors", () => {
    expect(() => resolveUser("ghost", passwd, groups)).toThrow(NotFoundError);
    expect(() => resolveUser("user:ghosts", passwd, groups)).toThrow(/no matching entries in group file/);
    expect(() => resolveUser("a:b:c", passwd, groups)).toThrow(ParseError);
    expect(resolveUser("0", passwd, groups, ["wheel", "77"]).additionalGids).toEqual([10, 77]);
  });
});

describe("volumes", () => {
  test.each([
    ["/host:/ctr", { type: "bind", source: "/host", target: "/ctr", readonly: false }],
    ["/host:/ctr:ro", { type: "bind", source: "/host", target: "/ctr", readonly: true }],
    ["./rel:/ctr:rw", { type: "bind", source: "/work/rel", target: "/ctr", readonly: false }],
    ["data:/var/lib/data", { type: "volume", name: "data", target: "/var/lib/data", readonly: false, nocopy: false }],
    ["/anon", { type: "volume", target: "/anon", readonly: false, nocopy: false }],
    ["/ctr/../x:ro", { type: "volume", target: "/x", readonly: true, nocopy: false }],
  ])("-v %p", (text, want) => expect(parseVolumeFlag(text as string, "/work")).toEqual(want as never));
  test.each([
    ["relative target", "/h:ctr:ro", /not absolute/],
    ["target without slash", "/h:ctr", /invalid mode "ctr"/],
    ["onto /proc", "/h:/proc", /"\/proc" cannot be mounted because it is inside \/proc/],
    ["below /proc", "/h:/proc/sys/kernel", /"\/proc\/sys\/kernel" cannot be mounted because it is inside \/proc/],
    ["bad mode", "/h:/c:rx", /invalid mode "rx"/],
    ["ro and rw", "/h:/c:ro,rw", /both/],
    ["root", "/h:/", /root/],
    ["bad name", "-x:/c", /not a valid volume name/],
  ])("rejects %s", (_n, text, why) => expect(() => parseVolumeFlag(text as string)).toThrow(why as RegExp));
  test("--mount and --tmpfs", () => {
    expect(parseMountFlag("type=bind,source=/a,target=/b,readonly")).toEqual({ type: "bind", source: "/a", target: "/b", readonly: true });
    expect(parseMountFlag("type=volume,src=vol,dst=/d")).toEqual({ type: "volume", name: "vol", target: "/d", readonly: false, nocopy: false });
    expect(parseMountFlag("type=tmpfs,target=/t,tmpfs-size=1m")).toMatchObject({ type: "tmpfs", target: "/t", data: "size=1m" });
    expect(() => parseMountFlag("type=nfs,target=/t")).toThrow(/unknown type/);
    expect(() => parseMountFlag("type=bind,target=/t")).toThrow(/source is required/);
    expect(() => parseMountFlag("type=bind,src=/a,target=/t,bogus=1")).toThrow(/unknown field "bogus"/);
    // Read as Go's encoding/csv reads Docker's --mount: quoted commas are the value's.
    expect(parseMountFlag('type=bind,"src=/a,b",dst=/t')).toMatchObject({ source: "/a,b", target: "/t" });
    expect(parseMountFlag('type=bind,"src=/a""q",dst=/t')).toMatchObject({ source: '/a"q' });
    expect(() => parseMountFlag('type=bind,src=/a"b,dst=/t')).toThrow(/bare " in non-quoted-field/);
    expect(() => parseMountFlag('type=bind,"src=/a,dst=/t')).toThrow(/extraneous or missing "/);
    expect(() => parseMountFlag('type=tmpfs,dst=/t,"tmpfs-mode=1777,uid=0"')).toThrow(/unknown option/);
    expect(parseMountFlag("type=bind,src=/a,dst=/t,bind-propagation=rshared")).toMatchObject({ type: "bind" });
    expect(() => parseMountFlag("type=bind,src=/a,dst=/t,bind-propagation=bogus")).toThrow(/invalid propagation mode: bogus/);
    const t = parseTmpfsFlag("/run:size=1m,exec");
    expect(t).toMatchObject({ type: "tmpfs", target: "/run", data: "size=1m" });
    if (t.type === "tmpfs") expect(t.flags & MS.NOEXEC).toBe(0);
    expect(() => parseTmpfsFlag("/run:weird")).toThrow(/unknown option "weird"/);
  });

  test("--mount volume-opt=K=V: the created volume's options, repeated, the first = splitting key from value", () => {
    expect(parseMountFlag('type=volume,src=vo,dst=/d,volume-opt=type=tmpfs,volume-opt=device=tmpfs,"volume-opt=o=size=1m,uid=1"')).toEqual({
      type: "volume",
      name: "vo",
      target: "/d",
      readonly: false,
      nocopy: false,
      options: { type: "tmpfs", device: "tmpfs", o: "size=1m,uid=1" },
    });
    expect(parseMountFlag("dst=/d,volume-opt=flag,volume-opt==x")).toMatchObject({ options: { flag: "" } });
    expect(() => parseMountFlag("type=tmpfs,dst=/d,volume-opt=type=tmpfs")).toThrow("cannot mix 'volume-*' options with mount type 'tmpfs'");
  });

  test("volume create --opt type/device/o: the local driver's mount, o split into flags and data", () => {
    expect(localVolumeMount({ type: "tmpfs", device: "tmpfs", o: "size=1m,uid=1000,ro,noexec" })).toEqual({ fstype: "tmpfs", source: "tmpfs", flags: MS.RDONLY | MS.NOEXEC, data: "size=1m,uid=1000" });
    expect(localVolumeMount({ type: "none", device: "/srv/data", o: "bind" })).toEqual({ fstype: null, source: "/srv/data", flags: MS.BIND, data: null });
    expect(localVolumeMount({ type: "nfs", device: ":/export", o: "addr=10.0.0.1,rw,nfsvers=4" })).toEqual({ fstype: "nfs", source: ":/export", flags: 0, data: "addr=10.0.0.1,nfsvers=4" });
    expect(() => localVolumeMount({ type: "tmpfs" })).toThrow("missing device in volume options");
  });
});

describe("the run plan", () => {
  const input = (over: Partial<PlanInput> = {}): PlanInput => ({
    config: { Env: ["PATH=/bin"], Cmd: ["sh"], WorkingDir: "/srv" },
    args: [],
    env: ["A=1"],
    groupAdd: [],
    hostname: "abc",
    tty: false,
    init: false,
    privileged: false,
    readonlyRoot: false,
    noNewPrivileges: false,
    passwd: "root:x:0:0::/root:/bin/sh\n",
    group: "root:x:0:\n",
    rootfs: { source: "overlay", target: "/r/rootfs", fstype: "overlay", flags: 0, data: "lowerdir=l/A" },
    rootfsPath: "/r/rootfs",
    etcFiles: { hostname: "/c/hostname", hosts: "/c/hosts", resolvConf: "/c/resolv.conf" },
    binds: [{ source: "/h/deep", target: "/a/b/c", readonly: true, kind: "dir" }, { source: "/h", target: "/a", readonly: false, kind: "dir" }],
    tmpfs: [],
    cgroupProcs: ["/sys/fs/cgroup/pids/tinydock/x/cgroup.procs"],
    capabilities: { bounding: 0xa80425fbn, effective: 0xa80425fbn, permitted: 0xa80425fbn, inheritable: 0n, ambient: 0n },
    seccomp: null,
    rlimits: [],
    stdio: [-1, 1, 2],
    consoleSocket: -1,
    timeNamespace: true,
    ...over,
  });
  test("defaults as Docker", () => {
    const p = buildRunPlan(input());
    expect(p.args).toEqual(["sh"]);
    expect(p.cwd).toBe("/srv");
    expect(p.env).toEqual(["PATH=/bin", "HOSTNAME=abc", "A=1", "HOME=/root"]);
    expect(p.namespaces).toEqual(["mnt", "pid", "uts", "ipc", "net", "cgroup", "time"]);
    expect(p.mounts.map((m) => m.target)).toEqual(["/proc", "/dev", "/dev/pts", "/sys", "/dev/mqueue", "/dev/shm", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/a", "/a/b/c"]);
    expect(p.mounts.find((m) => m.target === "/sys")!.flags & MS.RDONLY).toBe(MS.RDONLY);
    // MS_REC: read-only with the submounts under its source (init.c: mount_setattr AT_RECURSIVE)
    expect(p.mounts.find((m) => m.target === "/a/b/c")!.remountFlags).toBe(MS.RDONLY | MS.REC);
    expect(p.maskedPaths).toEqual(MASKED_PATHS);
    expect(p.maskedPaths).toContain("/proc/kcore");
    expect(p.readonlyPaths).toContain("/proc/sys");
  });
  test("--privileged: no masks, writable /sys", () => {
    const p = buildRunPlan(input({ privileged: true }));
    expect(p.maskedPaths).toEqual([]);
    expect(p.readonlyPaths).toEqual([]);
    expect(p.mounts.find((m) => m.target === "/sys")!.flags & MS.RDONLY).toBe(0);
  });
  test("-w and -u", () => {
    const p = buildRunPlan(input({ workdir: "/new/dir", user: "1000:1000" }));
    expect(p.cwd).toBe("/new/dir");
    expect([p.uid, p.gid]).toEqual([1000, 1000]);
  });
});

describe("/etc files", () => {
  test("resolv.conf drops loopback nameservers and falls back to Docker's", () => {
    expect(containerResolvConf("nameserver 127.0.0.53\noptions edns0\nsearch x\n")).toBe("options edns0\nsearch x\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    expect(containerResolvConf("nameserver 10.0.0.2\nnameserver ::1\n")).toBe("nameserver 10.0.0.2\n");
  });
  test("hosts", () => {
    expect(hostsFile("h")).toStartWith("127.0.0.1\tlocalhost\n");
    expect(hostsFile("h", { ip: "10.0.0.2" })).toEndWith("10.0.0.2\th\n");
  });
});
