// run/create flags that need the init's help beyond the first set (run-flags.test.ts): joining
// another container's PID namespace, namespaced sysctls. The compiled binary, a real registry,
// busybox, in a network namespace of the test's own.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { type CliEnv, type CliResult } from "../helpers/cli.ts";
import { useE2e } from "../helpers/e2e.ts";

let env: CliEnv;
let T: (args: string[]) => CliResult;
useE2e({ prefix: "td-flags2-", rootName: "tinydock-root" }, (e) => ({ env, T } = e));

describe("--pid container:NAME", () => {
  test("the process is one more in that container's PID namespace (foreground and detached)", async () => {
    expect(T(["run", "-d", "--name", "pidowner", "busybox", "sleep", "300"]).code).toBe(0);
    const fg = T(["run", "--rm", "--pid", "container:pidowner", "busybox", "ps"]);
    expect(fg.stderr).toBe("");
    expect(fg.code).toBe(0);
    expect(fg.stdout).toMatch(/^\s*1 .*sleep 300$/m);
    expect(fg.stdout).toMatch(/ps$/m);
    expect(T(["run", "-d", "--name", "pidjoiner", "--pid", "container:pidowner", "busybox", "sh", "-c", "echo $$; sleep 300"]).code).toBe(0);
    const deadline = Date.now() + 5000;
    let out = "";
    while (Date.now() < deadline && out === "") {
      out = T(["logs", "pidjoiner"]).stdout;
      if (out === "") await Bun.sleep(50);
    }
    expect(Number(out.trim())).toBeGreaterThan(1);
    // sh exec'd its last command: two sleeps in the owner's namespace, its own PID 1 and the joiner
    expect(T(["exec", "pidowner", "ps"]).stdout.match(/sleep 300$/gm)?.length).toBe(2);
    const gone = T(["run", "--rm", "--pid", "container:nosuch", "busybox", "true"]);
    expect(gone.code).toBe(125);
  });
});

describe("--sysctl of the namespaces the init makes", () => {
  test("IPC and UTS keys, and net.* with --network none, written inside; the host's values unchanged", () => {
    const host = fs.readFileSync("/proc/sys/kernel/shmmax", "utf8");
    const hostMsg = fs.readFileSync("/proc/sys/fs/mqueue/msg_max", "utf8");
    const hostDomain = fs.readFileSync("/proc/sys/kernel/domainname", "utf8");
    const r = T(["run", "--rm", "--sysctl", "kernel.shmmax=1048576", "--sysctl", "fs.mqueue.msg_max=20", "--sysctl", "kernel.domainname=example.test",
      "busybox", "cat", "/proc/sys/kernel/shmmax", "/proc/sys/fs/mqueue/msg_max", "/proc/sys/kernel/domainname"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("1048576\n20\nexample.test\n");
    expect(fs.readFileSync("/proc/sys/kernel/shmmax", "utf8")).toBe(host);
    expect(fs.readFileSync("/proc/sys/fs/mqueue/msg_max", "utf8")).toBe(hostMsg);
    expect(fs.readFileSync("/proc/sys/kernel/domainname", "utf8")).toBe(hostDomain);
    const none = T(["run", "--rm", "--network", "none", "--sysctl", "net.ipv4.ip_local_port_range=40000 40100", "busybox", "cat", "/proc/sys/net/ipv4/ip_local_port_range"]);
    expect(none.stderr).toBe("");
    expect(none.stdout.split(/\s+/).filter(Boolean)).toEqual(["40000", "40100"]);
  });

  test("detached too; a value the kernel refuses fails the run, naming the key", async () => {
    expect(T(["run", "-d", "--name", "sysctld", "--sysctl", "kernel.shm_rmid_forced=1", "busybox", "cat", "/proc/sys/kernel/shm_rmid_forced"]).code).toBe(0);
    const deadline = Date.now() + 5000;
    let out = "";
    while (Date.now() < deadline && out === "") {
      out = T(["logs", "sysctld"]).stdout;
      if (out === "") await Bun.sleep(50);
    }
    expect(out).toBe("1\n");
    const bad = T(["run", "--rm", "--sysctl", "kernel.shmmax=lots", "busybox", "true"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("sysctl kernel.shmmax");
    expect(bad.stderr).toContain("EINVAL");
  });
});

describe("--log-driver none", () => {
  test("the monitor writes no json log (json-file, the default, does); inspect's LogPath is empty as Docker's", () => {
    for (const [name, driver] of [["lognone", "none"], ["logjson", "json-file"]] as const) {
      expect(T(["run", "-d", "--name", name, "--log-driver", driver, "busybox", "echo", "hello"]).code).toBe(0);
      expect(T(["wait", name]).stdout).toBe("0\n");
    }
    const none = JSON.parse(T(["inspect", "lognone"]).stdout)[0];
    const json = JSON.parse(T(["inspect", "logjson"]).stdout)[0];
    expect(fs.readFileSync(json.LogPath, "utf8")).toContain('"log":"hello\\n"');
    expect(none.LogPath).toBe("");
    expect(fs.readdirSync(path.dirname(json.LogPath).replace(json.Id, none.Id)).filter((f) => f.includes("json.log"))).toEqual([]);
    expect(T(["logs", "lognone"]).stderr).toContain("does not support reading");
  });
});

describe("--link-local-ip", () => {
  test("run, create and network connect add the addresses (/16, /64) to the interface; inspect's IPAMConfig shows them and --ip", () => {
    const fg = T(["run", "--rm", "--link-local-ip", "169.254.10.10", "--link-local-ip", "fe80::42", "busybox", "ip", "addr", "show", "eth0"]);
    expect({ code: fg.code, err: fg.stderr }).toEqual({ code: 0, err: "" });
    expect(fg.stdout).toContain("inet 169.254.10.10/16 ");
    expect(fg.stdout).toContain("inet6 fe80::42/64 ");
    expect(T(["create", "--name", "llc", "--link-local-ip", "169.254.10.11", "busybox", "sleep", "300"]).code).toBe(0);
    expect(T(["start", "llc"]).code).toBe(0);
    expect(T(["exec", "llc", "ip", "-4", "addr", "show", "eth0"]).stdout).toContain("inet 169.254.10.11/16 ");
    expect(T(["inspect", "-f", "{{json .NetworkSettings.Networks.bridge.IPAMConfig}}", "llc"]).stdout).toBe('{"LinkLocalIPs":["169.254.10.11"]}\n');
    expect(T(["network", "create", "--subnet", "10.251.7.0/24", "llnet"]).code).toBe(0);
    const c = T(["network", "connect", "--ip", "10.251.7.9", "--link-local-ip", "169.254.20.20", "llnet", "llc"]);
    expect({ code: c.code, err: c.stderr }).toEqual({ code: 0, err: "" });
    expect(T(["exec", "llc", "ip", "-4", "addr", "show", "eth1"]).stdout).toContain("inet 169.254.20.20/16 ");
    expect(T(["inspect", "-f", "{{json .NetworkSettings.Networks.llnet.IPAMConfig}}", "llc"]).stdout).toBe('{"IPv4Address":"10.251.7.9","LinkLocalIPs":["169.254.20.20"]}\n');
    expect(T(["rm", "-f", "llc"]).code).toBe(0);
    expect(T(["network", "rm", "llnet"]).code).toBe(0);
  });

  test("an address that does not parse, or no interface to put it on: Docker's words, nothing made", () => {
    const before = T(["ps", "-aq"]).stdout;
    const bad = T(["run", "--rm", "--link-local-ip", "bogus", "busybox", "true"]);
    expect({ code: bad.code, err: bad.stderr }).toEqual({ code: 125, err: 'Error: invalid link-local IP "bogus": ParseAddr("bogus"): unable to parse IP\n' });
    const none = T(["run", "--rm", "--network", "none", "--link-local-ip", "169.254.1.1", "busybox", "true"]);
    expect({ code: none.code, err: none.stderr }).toEqual({ code: 125, err: "Error: Cannot use --link-local-ip with --network none: the container has no interface of its own\n" });
    expect(T(["ps", "-aq"]).stdout).toBe(before);
  });
});
