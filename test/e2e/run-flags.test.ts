// run/create's Docker flags as a user runs them (the compiled binary, a real registry, busybox),
// each checked by its effect inside the container, and inspect's JSON against Docker's shape.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { tinydock, type CliEnv } from "../helpers/cli.ts";
import { useE2e, type E2e } from "../helpers/e2e.ts";

let env: CliEnv;
let dir: string;
let T: E2e["T"];
const inspect = (ref: string) => (JSON.parse(T(["inspect", ref]).stdout) as Record<string, any>[])[0]!;

// Not pulled: the first test runs with the image missing.
useE2e({ prefix: "td-flags-", rootName: "tinydock-root", pull: false }, (e) => ({ env, dir, T } = e));

describe("--pull", () => {
  test("never with the image missing: Docker's error, 125; missing pulls it; always pulls again", () => {
    const never = tinydock(env, ["run", "--rm", "--pull", "never", "busybox", "true"]);
    expect(never.code).toBe(125);
    expect(never.stderr).toContain("No such image: busybox:latest");
    expect(tinydock(env, ["pull", "-q", "busybox"]).code).toBe(0);
    expect(T(["run", "--rm", "--pull", "never", "busybox", "true"]).code).toBe(0);
    const bad = T(["run", "--rm", "--pull", "sometimes", "busybox", "true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("invalid pull option");
  });
});

describe("flags with effects inside the container", () => {
  test("--cidfile: the id written; refused when the file exists", () => {
    const f = path.join(dir, "cid");
    const r = T(["run", "--rm", "--cidfile", f, "busybox", "true"]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(f, "utf8")).toMatch(/^[0-9a-f]{64}$/);
    const again = T(["run", "--rm", "--cidfile", f, "busybox", "true"]);
    expect(again.code).toBe(125);
    expect(again.stderr).toContain("Container ID file found");
  });
  test("-a stdout: stderr is not attached", () => {
    const r = T(["run", "--rm", "-a", "stdout", "busybox", "sh", "-c", "echo out; echo err >&2"]);
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toBe("");
    const both = T(["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2"]);
    expect(both.stderr).toBe("err\n");
  });
  test("--shm-size: /dev/shm's size; 64m by default", () => {
    expect(T(["run", "--rm", "--shm-size", "128m", "busybox", "df", "-k", "/dev/shm"]).stdout).toContain("131072");
    expect(T(["run", "--rm", "busybox", "df", "-k", "/dev/shm"]).stdout).toContain("65536");
  });
  test("--sysctl net.*: set in the container's network namespace; non-namespaced keys refused", () => {
    expect(T(["run", "--rm", "--sysctl", "net.ipv4.ip_forward=1", "busybox", "cat", "/proc/sys/net/ipv4/ip_forward"]).stdout).toBe("1\n");
    const bad = T(["run", "--rm", "--sysctl", "kernel.pid_max=1000", "busybox", "true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("not allowed");
    expect(T(["run", "--rm", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", "busybox", "true"]).stderr).toContain("host network mode");
  });
  test("--pid host, --uts host, --cgroupns host, --ipc host", () => {
    expect(T(["run", "--rm", "--pid", "host", "busybox", "sh", "-c", "[ $$ -ne 1 ] && echo notone"]).stdout).toBe("notone\n");
    expect(T(["run", "--rm", "--uts", "host", "busybox", "hostname"]).stdout).toBe(`${os.hostname()}\n`);
    const hostIpc = fs.readlinkSync("/proc/self/ns/ipc");
    expect(T(["run", "--rm", "--ipc", "host", "busybox", "readlink", "/proc/self/ns/ipc"]).stdout).toBe(`${hostIpc}\n`);
    expect(T(["run", "--rm", "busybox", "readlink", "/proc/self/ns/ipc"]).stdout).not.toBe(`${hostIpc}\n`);
    const hostCg = fs.readlinkSync("/proc/self/ns/cgroup");
    expect(T(["run", "--rm", "--cgroupns", "host", "busybox", "readlink", "/proc/self/ns/cgroup"]).stdout).toBe(`${hostCg}\n`);
  });
  test("--ipc/--uts/--pid container:NAME join that container's namespaces", () => {
    expect(T(["run", "-d", "--name", "nsown", "--ipc", "shareable", "--hostname", "owner", "busybox", "sleep", "30"]).code).toBe(0);
    try {
      const ipc = T(["exec", "nsown", "readlink", "/proc/self/ns/ipc"]).stdout;
      const joined = T(["run", "--rm", "--ipc", "container:nsown", "busybox", "readlink", "/proc/self/ns/ipc"]);
      expect(joined.stderr).toBe("");
      expect(joined.stdout).toBe(ipc);
      expect(T(["run", "--rm", "--uts", "container:nsown", "busybox", "hostname"]).stdout).toBe("owner\n");
      // Its processes are seen, its PID 1 is the sleep; this one is not PID 1.
      expect(T(["run", "--rm", "--pid", "container:nsown", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; [ $$ -ne 1 ] && echo notone"]).stdout).toBe("sleep 30 notone\n");
    } finally {
      T(["rm", "-f", "nsown"]);
    }
  });
  test("--ipc shareable / container:NAME share the donor's /dev/shm (its --shm-size); a private donor is refused as Docker; none has no /dev/shm; host the host's", () => {
    expect(T(["run", "-d", "--name", "shmown", "--ipc", "shareable", "--shm-size", "8m", "busybox", "sleep", "30"]).code).toBe(0);
    expect(T(["run", "-d", "--name", "shmpriv", "busybox", "sleep", "30"]).code).toBe(0);
    const hostFile = `/dev/shm/td-e2e-${process.pid}`;
    try {
      expect(T(["exec", "shmown", "sh", "-c", "echo from-donor > /dev/shm/f"]).code).toBe(0);
      const j = T(["run", "--rm", "--ipc", "container:shmown", "busybox", "sh", "-c", "cat /dev/shm/f; echo from-joiner > /dev/shm/g; df -k /dev/shm | tail -1"]);
      expect(j.stderr).toBe("");
      expect(j.stdout).toMatch(/^from-donor\nshm +8192 /);
      expect(T(["exec", "shmown", "cat", "/dev/shm/g"]).stdout).toBe("from-joiner\n");
      // Without a bridge (the init's mount namespace made early) too.
      expect(T(["run", "--rm", "--network", "none", "--ipc", "container:shmown", "busybox", "cat", "/dev/shm/f"]).stdout).toBe("from-donor\n");
      const refused = T(["run", "--rm", "--ipc", "container:shmpriv", "busybox", "true"]);
      expect(refused.code).toBe(125);
      expect(refused.stderr).toContain('non-shareable IPC (hint: use IpcMode:shareable for the donor container)');
      expect(T(["run", "--rm", "--ipc", "private", "busybox", "ls", "/dev/shm"]).code).toBe(0);
      expect(T(["run", "--rm", "--ipc", "none", "busybox", "ls", "/dev/shm"]).code).not.toBe(0);
      fs.writeFileSync(hostFile, "from-host\n");
      expect(T(["run", "--rm", "--ipc", "host", "busybox", "cat", hostFile]).stdout).toBe("from-host\n");
      // Stopped, its tmpfs goes; started again, a new (empty) one is shared again.
      const id = T(["inspect", "-f", "{{.Id}}", "shmown"]).stdout.trim();
      const mounted = () => fs.readFileSync("/proc/self/mountinfo", "utf8").includes(`${id}/shm `);
      expect(mounted()).toBe(true);
      expect(T(["stop", "-t", "0", "shmown"]).code).toBe(0);
      for (let i = 0; i < 100 && mounted(); i++) Bun.sleepSync(50);
      expect(mounted()).toBe(false);
      expect(T(["start", "shmown"]).code).toBe(0);
      expect(T(["run", "--rm", "--ipc", "container:shmown", "busybox", "ls", "/dev/shm"]).stdout).toBe("");
    } finally {
      fs.rmSync(hostFile, { force: true });
      T(["rm", "-f", "shmown", "shmpriv"]);
    }
  });
  test("--privileged: the host's device nodes", () => {
    const hostNodes = fs.readdirSync("/dev").filter((n) => {
      const st = fs.lstatSync(`/dev/${n}`);
      return (st.isCharacterDevice() || st.isBlockDevice()) && n !== "console" && n !== "ptmx";
    });
    const seen = T(["run", "--rm", "--privileged", "busybox", "ls", "/dev"]).stdout.split(/\s+/);
    for (const n of hostNodes) expect(seen).toContain(n);
    expect(hostNodes.length).toBeGreaterThan(6);
  });
  test("--privileged: nodes in the host's /dev subdirectories (/dev/net/tun…) as Docker walks them, not /dev/pts's", () => {
    const find = ["find", "/dev", "-mindepth", "2", "(", "-path", "/dev/pts", "-o", "-path", "/dev/shm", "-o", "-path", "/dev/mqueue", ")", "-prune", "-o"];
    const paths = Bun.spawnSync([...find, "(", "-type", "c", "-o", "-type", "b", ")", "-print"]).stdout.toString().trim().split("\n").filter(Boolean);
    expect(paths).toContain("/dev/net/tun"); // what this host has: the test reads all of it
    const list = (sh: string[]) => Bun.spawnSync(sh).stdout.toString();
    const outside = list(["stat", "-c", "%n %F %t:%T", ...paths]);
    const inside = T(["run", "--rm", "--privileged", "busybox", "stat", "-c", "%n %F %t:%T", ...paths]);
    expect(inside.stderr).toBe("");
    expect(inside.stdout).toBe(outside);
    expect(T(["run", "--rm", "busybox", "ls", "/dev/net"]).code).not.toBe(0); // not without --privileged
    expect(T(["run", "--rm", "--privileged", "busybox", "ls", "/dev/pts"]).stdout).toBe("ptmx\n");
  });
  test("--device-cgroup-rule lets a mknod'ed node be opened", () => {
    // /dev/kmsg (c 1:11) is not among Docker's rules: made (mknod is allowed) but not openable until a rule allows it.
    const sh = "mknod /dev/kmsg2 c 1 11 && (echo x > /dev/kmsg2) 2>/dev/null && echo opened || echo refused";
    expect(T(["run", "--rm", "busybox", "sh", "-c", sh]).stdout).toBe("refused\n");
    const allowed = T(["run", "--rm", "--device-cgroup-rule", "c 1:11 w", "busybox", "sh", "-c", sh.replace("2>/dev/null", "")]);
    expect(allowed.stderr).toBe("");
    expect(allowed.stdout).toBe("opened\n");
  });
  test("--mac-address on eth0", () => {
    expect(T(["run", "--rm", "--mac-address", "92:d0:c6:0a:29:33", "busybox", "cat", "/sys/class/net/eth0/address"]).stdout).toBe("92:d0:c6:0a:29:33\n");
  });
  test("--dns-opt is --dns-option", () => {
    expect(T(["run", "--rm", "--dns-opt", "ndots:3", "busybox", "cat", "/etc/resolv.conf"]).stdout).toContain("ndots:3");
  });
  test("--log-driver none: logs says Docker's words", () => {
    const id = T(["run", "-d", "--log-driver", "none", "busybox", "echo", "hi"]).stdout.trim();
    T(["wait", id]);
    const r = T(["logs", id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("configured logging driver does not support reading");
  });
  test("--stop-signal and --stop-timeout: stop uses them", () => {
    const id = T(["run", "-d", "--stop-signal", "USR1", "--stop-timeout", "1", "busybox", "sh", "-c", "trap 'echo usr1; exit 3' USR1; while true; do sleep 0.1; done"]).stdout.trim();
    const t0 = Date.now();
    expect(T(["stop", id]).code).toBe(0);
    expect(T(["logs", id]).stdout).toBe("usr1\n");
    expect(inspect(id).State.ExitCode).toBe(3);
    // A container ignoring it is killed after 1 s, not 10.
    const id2 = T(["run", "-d", "--stop-timeout", "1", "busybox", "sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]).stdout.trim();
    const t1 = Date.now();
    expect(T(["stop", id2]).code).toBe(0);
    expect(Date.now() - t1).toBeLessThan(6000);
    expect(Date.now() - t0).toBeGreaterThan(0);
  });
});

describe("inspect shows how the container was run", () => {
  test("Config, HostConfig, NetworkSettings and GraphDriver under Docker's keys", () => {
    const labels = path.join(dir, "labels");
    fs.writeFileSync(labels, "# labels\nfrom.file=1\n");
    const id = T([
      "create", "--name", "shape", "-e", "X=1", "-u", "nobody", "-w", "/tmp", "--entrypoint", "sh", "-l", "a=b", "--label-file", labels,
      "--expose", "7000-7001/udp", "-p", "8080:80", "--cpus", "0.5", "-c", "512", "--pids-limit", "20", "--cap-add", "NET_ADMIN", "--dns", "1.1.1.1",
      "--dns-opt", "ndots:2", "--dns-search", "example.com", "--add-host", "h:1.2.3.4", "--tmpfs", "/t", "--ulimit", "nofile=100:200", "--log-opt", "max-size=1m",
      "--restart", "on-failure:2", "--read-only", "--stop-signal", "SIGUSR2", "--stop-timeout", "5", "--shm-size", "8m", "-v", `${dir}:/data:ro`, "--sysctl", "net.ipv4.ip_forward=1",
      "busybox", "-c", "true",
    ]).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const j = inspect("shape");
    expect(j.Name).toBe("/shape");
    expect(j.Path).toBe("sh");
    expect(j.Args).toEqual(["-c", "true"]);
    expect(j.RestartCount).toBe(0);
    expect(j.Config.Env).toContain("X=1");
    expect(j.Config.Env.some((e: string) => e.startsWith("PATH="))).toBe(true);
    expect(j.Config).toMatchObject({ User: "nobody", WorkingDir: "/tmp", Entrypoint: ["sh"], Cmd: ["-c", "true"], Image: "busybox", StopSignal: "SIGUSR2", StopTimeout: 5, Hostname: id.slice(0, 12) });
    expect(j.Config.Labels).toMatchObject({ a: "b", "from.file": "1" });
    // The image's, --expose's and -p's.
    expect(Object.keys(j.Config.ExposedPorts).sort()).toEqual(["7000/udp", "7001/udp", "80/tcp", "8080/tcp"]);
    expect(j.HostConfig).toMatchObject({
      Binds: [`${dir}:/data:ro`],
      PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "8080" }] },
      PublishAllPorts: false,
      NanoCpus: 500000000,
      CpuQuota: 0,
      CpuShares: 512,
      Memory: 0,
      PidsLimit: 20,
      CapAdd: ["NET_ADMIN"],
      Dns: ["1.1.1.1"],
      DnsOptions: ["ndots:2"],
      DnsSearch: ["example.com"],
      ExtraHosts: ["h:1.2.3.4"],
      Ulimits: [{ Name: "nofile", Soft: 100, Hard: 200 }],
      LogConfig: { Type: "json-file", Config: { "max-size": "1000000", "max-file": "3" } },
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 2 },
      AutoRemove: false,
      NetworkMode: "bridge",
      Privileged: false,
      ReadonlyRootfs: true,
      ShmSize: 8388608,
      Sysctls: { "net.ipv4.ip_forward": "1" },
      Devices: [],
    });
    expect(Object.keys(j.HostConfig.Tmpfs)).toEqual(["/t"]);
    expect(j.GraphDriver.Name).toBe("overlay2");
    expect(Object.keys(j.GraphDriver.Data).sort()).toEqual(["LowerDir", "MergedDir", "UpperDir", "WorkDir"]);
    expect(j.GraphDriver.Data.LowerDir).not.toBe("");
    // Each lower is a directory on the host (a layer's diff), as Docker's overlay2 lists them.
    for (const dir of (j.GraphDriver.Data.LowerDir as string).split(":")) expect(fs.statSync(dir).isDirectory()).toBe(true);
    T(["rm", "-f", "shape"]);
  });
  test("a running container's published port shows HostIp 0.0.0.0; an unset limit is Docker's zero", () => {
    const id = T(["run", "-d", "-p", "8081:80", "busybox", "sleep", "30"]).stdout.trim();
    try {
      const j = inspect(id);
      expect(j.NetworkSettings.Ports["80/tcp"]).toEqual([{ HostIp: "0.0.0.0", HostPort: "8081" }]);
      expect(j.HostConfig.Memory).toBe(0);
      expect(j.HostConfig.PidsLimit).toBe(null);
      expect(j.Config.AttachStdout).toBe(false);
      // Stopped: the port is released with the network, as Docker's inspect shows it ({}).
      expect(T(["stop", "-t", "0", id]).code).toBe(0);
      expect(inspect(id).NetworkSettings.Ports).toEqual({});
      expect(inspect(id).HostConfig.PortBindings).toEqual({ "80/tcp": [{ HostIp: "", HostPort: "8081" }] });
    } finally {
      T(["rm", "-f", id]);
    }
  });
});
