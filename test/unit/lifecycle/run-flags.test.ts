// The pure parsers of run's newer flags (good and bad tables), and what the record maps them to.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseLabelFile } from "../../../src/lifecycle/labelfile.ts";
import { dockerConfig, dockerHostConfig } from "../../../src/lifecycle/docker-config.ts";
import { parseAttach, parseMacAddress, parsePullPolicy } from "../../../src/lifecycle/run/flags.ts";
import { splitSysctls } from "../../../src/lifecycle/run/sysctls.ts";
import { applyNamespaceModes, donorShm, parseNamespaceMode, parseNamespaceModes, pidNamespaceToJoin } from "../../../src/lifecycle/run/namespaces.ts";
import { readHostDevices, setShmSize, withHostDevices } from "../../../src/lifecycle/run/plan-flags.ts";
import type { RunRequest } from "../../../src/lifecycle/run/request.ts";
import { parseExpose } from "../../../src/network/expose.ts";
import { parseDeviceCgroupRule } from "../../../src/runtime/devicecgrouprule.ts";
import { parseDeviceRule } from "../../../src/runtime/cgroups/devicefilter.ts";
import { checkSysctls, parseSysctl } from "../../../src/runtime/sysctl.ts";
import { DEFAULT_DEVICES, defaultMounts } from "../../../src/runtime/spec.ts";
import type { RunPlan } from "../../../src/runtime/plan.ts";

describe("--sysctl", () => {
  test.each([
    ["net.ipv4.ip_forward=1", "net.ipv4.ip_forward", "net"],
    ["net/ipv4/tcp_syncookies=0", "net.ipv4.tcp_syncookies", "net"],
    ["kernel.shmmax=1000000", "kernel.shmmax", "ipc"],
    ["kernel.msgmax=8192", "kernel.msgmax", "ipc"],
    ["kernel.sem=250 32000 100 128", "kernel.sem", "ipc"],
    ["fs.mqueue.msg_max=20", "fs.mqueue.msg_max", "ipc"],
  ])("good %p", (input, key, ns) => {
    const s = parseSysctl(input);
    expect(s.key).toBe(key);
    expect(s.ns).toBe(ns as "net");
  });
  test.each(["kernel.pid_max=1", "vm.swappiness=1", "kernel.shm", "fs.file-max=1", "=1", "net", "net..x=1", "kernel.core_pattern=|/x"])("bad %p", (input) => {
    expect(() => parseSysctl(input)).toThrow(/^Cannot parse sysctl/);
  });
  test("net.* refused with the host's network, IPC keys with the host's IPC", () => {
    const net = [parseSysctl("net.ipv4.ip_forward=1")];
    expect(() => checkSysctls(net, { network: "host", ipc: "private", uts: "private" })).toThrow(/not allowed in host network mode/);
    expect(() => checkSysctls(net, { network: "bridge", ipc: "private", uts: "private" })).not.toThrow();
    expect(() => checkSysctls([parseSysctl("kernel.shmmax=1")], { network: "bridge", ipc: "host", uts: "private" })).toThrow(/host IPC/);
  });
});

describe("--device-cgroup-rule", () => {
  test.each([
    ["c 1:3 rwm", "c 1:3 rwm"],
    ["b 8:* r", "b 8:* r"],
    ["c *:* m", "c *:* m"],
    ["a *:* rwm", "a"],
  ])("good %p", (input, rule) => {
    const r = parseDeviceCgroupRule(input);
    expect(r).toEqual({ allow: true, rule });
    expect(() => parseDeviceRule(r)).not.toThrow(); // the cgroup layers (v1 text, v2 program) take it
  });
  test.each(["c 1:3", "x 1:3 rwm", "c 1 rwm", "c 1:3 rwx", "c 1:3 rwmr", "c 1:3  rwm", "c -1:3 rwm", "c 99999999999:1 r", ""])("bad %p", (input) => {
    expect(() => parseDeviceCgroupRule(input)).toThrow(/^Cannot parse device cgroup rule/);
  });
});

describe("--expose", () => {
  test.each([
    ["80", ["80/tcp"]],
    ["53/udp", ["53/udp"]],
    ["7000-7002", ["7000/tcp", "7001/tcp", "7002/tcp"]],
    ["9000-9001/SCTP", ["9000/sctp", "9001/sctp"]],
  ])("good %p", (input, keys) => expect(parseExpose(input)).toEqual(keys));
  test.each(["", "x", "80/icmp", "0", "70000", "8080:80", "9-1", "80-"])("bad %p", (input) => {
    expect(() => parseExpose(input)).toThrow(/^Cannot parse exposed port/);
  });
});

describe("--label-file", () => {
  test("lines, comments, blank lines, CRLF, a key alone", () => {
    expect(parseLabelFile("# c\na=1\n\n  b=x y\r\nc\n", "f")).toEqual(["a=1", "b=x y", "c"]);
  });
  test("a line without a name is refused, naming the line", () => {
    expect(() => parseLabelFile("a=1\n=2\n", "f")).toThrow('Cannot parse label file "f": line 2: no label name before "="');
  });
});

describe("the small flags", () => {
  test("--pull", () => {
    expect(parsePullPolicy("never")).toBe("never");
    expect(() => parsePullPolicy("sometimes")).toThrow(`invalid pull option: 'sometimes': must be one of "always", "missing" or "never"`);
  });
  test("-a", () => {
    expect([...parseAttach(["STDOUT", "stderr", "stdout"])]).toEqual(["stdout", "stderr"]);
    expect(() => parseAttach(["stdall"])).toThrow(/valid streams are STDIN, STDOUT and STDERR/);
  });
  test("--mac-address", () => {
    expect(parseMacAddress("92:D0:C6:0A:29:33")).toBe("92:d0:c6:0a:29:33");
    for (const bad of ["92:d0:c6:0a:29", "zz:d0:c6:0a:29:33", "01:00:5e:00:00:01"]) expect(() => parseMacAddress(bad)).toThrow(/not a valid mac address/);
  });
  test("--ipc/--pid/--uts/--cgroupns", () => {
    expect(parseNamespaceModes({ ipc: "host", pid: undefined, uts: "container:web", cgroupns: "host" })).toEqual({ ipc: "host", pid: "private", uts: "container:web", cgroupns: "host" });
    expect(() => parseNamespaceMode("cgroupns", "container:x")).toThrow(/invalid cgroup namespace mode/);
    expect(() => parseNamespaceMode("pid", "bogus")).toThrow(/invalid PID mode/);
    expect(() => parseNamespaceMode("ipc", "container:")).toThrow(/no container named/);
  });
});

function plan(): RunPlan {
  return { namespaces: ["mnt", "pid", "uts", "ipc", "net", "cgroup"], mounts: defaultMounts({ privileged: false, readonlyRoot: false }), devices: DEFAULT_DEVICES } as unknown as RunPlan;
}

describe("plan flags", () => {
  test("--shm-size replaces the size of /dev/shm's tmpfs only", () => {
    const p = plan();
    setShmSize(p, 128 * 1024 * 1024);
    expect(p.mounts.find((m) => m.target === "/dev/shm")!.data).toBe("mode=1777,size=134217728");
    expect(p.mounts.find((m) => m.target === "/dev")!.data).toBe("mode=755,size=65536k");
  });
  test("--ipc host / --uts container: / --pid host / --cgroupns host", () => {
    const p = plan();
    applyNamespaceModes(p, { ipc: "host", pid: "host", uts: "container:web", cgroupns: "host" }, (ref) => (ref === "web" ? 4242 : 0));
    expect(p.namespaces).toEqual(["mnt", "net"]);
    expect(p.joinNamespaces).toEqual([{ ns: "uts", path: "/proc/4242/ns/uts" }]);
    expect(p.mounts.find((m) => m.target === "/dev/shm")).toMatchObject({ source: "/dev/shm", fstype: null });
    const q = plan();
    applyNamespaceModes(q, { ipc: "container:db", pid: "private", uts: "private", cgroupns: "private" }, () => 7);
    expect(q.namespaces).toEqual(["mnt", "pid", "uts", "net", "cgroup"]);
    expect(q.joinNamespaces).toEqual([{ ns: "ipc", path: "/proc/7/ns/ipc" }]);
    expect(q.mounts.find((m) => m.target === "/dev/shm")!.fstype).toBe("tmpfs");
  });
  test("--ipc container:NAME binds the donor's /dev/shm; a donor sharing none leaves the joiner its own tmpfs", () => {
    const p = plan();
    applyNamespaceModes(p, { ipc: "container:db", pid: "private", uts: "private", cgroupns: "private" }, () => 7, (ref) => (ref === "db" ? "/r/containers/db/shm" : null));
    expect(p.joinNamespaces).toEqual([{ ns: "ipc", path: "/proc/7/ns/ipc" }]);
    expect(p.mounts.find((m) => m.target === "/dev/shm")).toMatchObject({ source: "/r/containers/db/shm", fstype: null });
  });
  test("the donor's /dev/shm: shareable its tmpfs, host the host's, a joiner what it joined, a pod's infra none; private and none refused as Docker", () => {
    const none = () => null;
    expect(donorShm("a", { hostConfig: { IpcMode: "shareable" } }, "/r/c/a", none)).toBe("/r/c/a/shm");
    expect(donorShm("a", { hostConfig: { IpcMode: "host" } }, "/r/c/a", none)).toBe("/dev/shm");
    expect(donorShm("a", { hostConfig: { IpcMode: "container:b" } }, "/r/c/a", (r) => `/r/c/${r}/shm`)).toBe("/r/c/b/shm");
    expect(donorShm("infra", { hostConfig: { NetworkMode: "bridge" }, pod: "p" }, "/r/c/i", none)).toBeNull();
    for (const IpcMode of ["private", "none", undefined]) {
      expect(() => donorShm("a", { hostConfig: { IpcMode } }, "/r/c/a", none)).toThrow('Cannot join IPC of container "a": non-shareable IPC (hint: use IpcMode:shareable for the donor container)');
    }
  });
  test("--pid container:NAME: no PID namespace of its own, that container's joined (by the clone's parent)", () => {
    const p = plan();
    const modes = { ipc: "private", pid: "container:web", uts: "private", cgroupns: "private" };
    applyNamespaceModes(p, modes, (ref) => (ref === "web" ? 4242 : 0));
    expect(p.namespaces).not.toContain("pid");
    expect(p.joinNamespaces).toEqual([{ ns: "pid", path: "/proc/4242/ns/pid" }]);
    expect(pidNamespaceToJoin(modes, () => 4242)).toBe("/proc/4242/ns/pid");
  });
  test("--privileged: the host's /dev nodes after the defaults, console and the symlinked names skipped", () => {
    const host = readHostDevices("/dev");
    expect(host.some((d) => d.path === "/dev/console" || d.path === "/dev/ptmx")).toBe(false);
    expect(host.length).toBeGreaterThan(DEFAULT_DEVICES.length);
    const all = withHostDevices(DEFAULT_DEVICES, host);
    expect(all.slice(0, DEFAULT_DEVICES.length)).toEqual(DEFAULT_DEVICES);
    expect(new Set(all.map((d) => d.path)).size).toBe(all.length);
  });
  test("--privileged: nodes in /dev's subdirectories too, not in pts, shm, mqueue…, nor through symlinks, nor a console", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-hostdev-"));
    try {
      const mknod = (p: string, t: string, ma: number, mi: number) => {
        fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
        expect(Bun.spawnSync(["mknod", path.join(dir, p), t, String(ma), String(mi)]).exitCode).toBe(0);
      };
      mknod("null", "c", 1, 3);
      mknod("net/tun", "c", 10, 200);
      mknod("dri/by-x/card0", "c", 226, 0);
      mknod("mapper/vg-lv", "b", 253, 0);
      mknod("pts/0", "c", 136, 0);
      mknod("shm/x", "c", 1, 3);
      mknod("mqueue/x", "c", 1, 3);
      mknod("tty/console", "c", 5, 1);
      fs.symlinkSync("net", path.join(dir, "netlink"));
      fs.symlinkSync("null", path.join(dir, "null2"));
      const found = readHostDevices(dir);
      expect(found.map((d) => `${d.path} ${d.type} ${d.major}:${d.minor}`)).toEqual(["/dev/dri/by-x/card0 c 226:0", "/dev/mapper/vg-lv b 253:0", "/dev/net/tun c 10:200", "/dev/null c 1:3"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function request(over: Partial<RunRequest> = {}): RunRequest {
  return {
    image: "busybox",
    process: { args: [], env: ["A=2", "B=3"], groupAdd: [], tty: false, interactive: false, init: false },
    volumes: [{ type: "bind", source: "/h", target: "/c", readonly: true }],
    network: { mode: "bridge", aliases: [], dns: [], dnsSearch: [], dnsOptions: ["ndots:2"], extraHosts: [] },
    ports: { publish: [], publishAll: false, expose: ["7000/tcp"] },
    lifetime: { detach: true, rm: false },
    resources: { limits: { cpuQuota: 150000, cpuPeriod: 100000, nanoCpus: 1_500_000_000, pidsLimit: 20 }, ulimits: [{ resource: 7, soft: 100, hard: 200 }], devices: [] },
    security: { privileged: false, capAdd: ["NET_ADMIN"], capDrop: [], noNewPrivileges: false, seccomp: true, readOnly: false },
    namespaces: { ipc: "private", pid: "private", uts: "private", cgroupns: "private" },
    ...over,
  };
}

describe("record mapping (Docker's Config and HostConfig)", () => {
  const image = { Env: ["PATH=/bin", "A=1"], Cmd: ["sh"], Labels: { a: "img" }, ExposedPorts: { "80/tcp": {} }, StopSignal: "SIGQUIT", Healthcheck: { Test: ["CMD", "true"] } };
  test("Config: the image's under the flags", () => {
    const req = request({ labels: { b: "flag" } });
    req.process.user = "nobody";
    req.process.workdir = "/w";
    req.process.entrypoint = "echo";
    req.process.args = ["hi"];
    const c = dockerConfig(req, image, { hostname: "h", ports: [{ hostIp: "", hostPort: 8080, containerPort: 81, protocol: "tcp" }] });
    expect(c).toMatchObject({ Env: ["PATH=/bin", "A=2", "B=3"], User: "nobody", WorkingDir: "/w", Entrypoint: ["echo"], Cmd: ["hi"], Labels: { a: "img", b: "flag" }, StopSignal: "SIGQUIT", Healthcheck: { Test: ["CMD", "true"] }, Hostname: "h", Image: "busybox" });
    expect(Object.keys(c.ExposedPorts as object).sort()).toEqual(["7000/tcp", "80/tcp", "81/tcp"]);
    // --entrypoint resets the image's Cmd; a detached container attaches nothing.
    req.process.args = [];
    expect(dockerConfig(req, image, { hostname: "h", ports: [] })).toMatchObject({ Cmd: null, AttachStdout: false });
    req.process.stopSignal = "SIGUSR1";
    req.process.stopTimeout = 3;
    expect(dockerConfig(req, image, { hostname: "h", ports: [] })).toMatchObject({ StopSignal: "SIGUSR1", StopTimeout: 3 });
  });
  test("HostConfig: asked values and Docker's zero values", () => {
    const req = request();
    req.resources.shmSize = 1 << 20;
    const h = dockerHostConfig(req, { ports: [{ hostIp: "", hostPort: 8080, containerPort: 80, protocol: "tcp" }] });
    expect(h).toMatchObject({
      Binds: ["/h:/c:ro"],
      NanoCpus: 1500000000,
      CpuQuota: 0,
      CpuPeriod: 0,
      Memory: 0,
      CpuShares: 0,
      PidsLimit: 20,
      CapAdd: ["NET_ADMIN"],
      CapDrop: null,
      DnsOptions: ["ndots:2"],
      Ulimits: [{ Name: "nofile", Soft: 100, Hard: 200 }],
      LogConfig: { Type: "json-file", Config: {} },
      RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
      PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "8080" }] },
      ShmSize: 1048576,
      IpcMode: "private",
      CgroupnsMode: "private",
      Devices: [],
    });
  });
});

describe("--sysctl: who writes what", () => {
  test("net.* in a namespace file now; IPC/UTS keys and net.* with --network none by the init", () => {
    const sysctls = ["net.ipv4.ip_forward=1", "kernel.shmmax=1048576", "fs.mqueue.msg_max=20", "kernel.domainname=x"].map(parseSysctl);
    const bridge = splitSysctls(sysctls, { mode: "bridge", netnsPath: "/run/tinydock/netns/x" });
    expect(bridge.now.map((s) => s.key)).toEqual(["net.ipv4.ip_forward"]);
    expect(bridge.init.map((s) => s.key)).toEqual(["kernel.shmmax", "fs.mqueue.msg_max", "kernel.domainname"]);
    const none = splitSysctls(sysctls, { mode: "none" });
    expect(none.now).toEqual([]);
    expect(none.init.map((s) => s.key)).toEqual(["net.ipv4.ip_forward", "kernel.shmmax", "fs.mqueue.msg_max", "kernel.domainname"]);
  });
});
