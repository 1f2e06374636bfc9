// run/create flags that take from another container: --volumes-from (its binds and volumes at the
// same places, :ro over them) and --link (a hosts line and, on the default bridge, Docker's
// variables), and --cgroup-parent. The compiled binary in a network namespace of this file's own.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { afterAll } from "bun:test";
import { BINARY, cliEnv } from "../helpers/cli.ts";
import { until, useE2e } from "../helpers/e2e.ts";
import { findLeaks } from "../helpers/leakcheck.ts";

const e = useE2e({ prefix: "td-share-" });
const ok = (args: string[]): string => {
  const r = e.T(args);
  if (r.code !== 0) throw new Error(`tinydock ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};
const inspect = (name: string, format: string) => ok(["inspect", "-f", format, name]).trim();
const count = () => ok(["ps", "-aq"]).split("\n").filter(Boolean).length;

describe("--volumes-from", () => {
  test("the other container's binds and volumes (named and anonymous) at the same places, not its tmpfs; inspect shows VolumesFrom", () => {
    const host = path.join(e.dir, "hostdir");
    fs.mkdirSync(host);
    fs.writeFileSync(path.join(host, "h"), "from host\n");
    ok(["run", "--rm", "-v", "vf-named:/n", "busybox", "sh", "-c", "echo named > /n/f"]);
    ok(["run", "--name", "vfdata", "-v", "vf-named:/n", "-v", `${host}:/b:ro`, "-v", "/anon", "--tmpfs", "/t", "busybox", "sh", "-c", "echo anon > /anon/a"]);
    const r = e.T(["run", "--name", "vfuser", "--volumes-from", "vfdata", "busybox", "sh", "-c", "cat /n/f /b/h /anon/a; touch /n/w && echo n-rw; touch /b/w || echo b-ro; grep -c ' /t ' /proc/mounts; exit 0"]);
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(r.stdout).toBe("named\nfrom host\nanon\nn-rw\nb-ro\n0\n");
    expect(r.code).toBe(0);
    expect(inspect("vfuser", "{{json .HostConfig.VolumesFrom}}")).toBe('["vfdata"]');
    const mounts = JSON.parse(inspect("vfuser", "{{json .Mounts}}")) as { Type: string; Destination: string; RW: boolean; Name?: string }[];
    expect(mounts.map((m) => `${m.Type} ${m.Destination} ${m.RW}`).sort()).toEqual(["bind /b false", "volume /anon true", "volume /n true"]);
    // The anonymous volume is the other container's (its name), which rm -v of this one keeps.
    const anon = mounts.find((m) => m.Destination === "/anon")!.Name;
    expect(inspect("vfdata", "{{range .Mounts}}{{if eq .Destination \"/anon\"}}{{.Name}}{{end}}{{end}}")).toBe(anon!);
    ok(["rm", "-v", "vfuser"]);
    expect(ok(["volume", "ls", "-q"])).toContain(anon!);
    // Nor does rm -v of the owner while another container still mounts it (Docker: in use).
    ok(["create", "--name", "vfowner", "-v", "/anon2", "busybox"]);
    const anon2 = inspect("vfowner", "{{range .Mounts}}{{.Name}}{{end}}");
    ok(["create", "--name", "vfkeep", "--volumes-from", "vfowner", "busybox"]);
    ok(["rm", "-v", "vfowner"]);
    expect(ok(["volume", "ls", "-q"])).toContain(anon2);
    ok(["rm", "vfkeep"]);
  });

  test(":ro makes every mount read-only, :rw keeps each one's mode; the run's own -v wins at the same place", () => {
    const r = e.T(["run", "--rm", "--volumes-from", "vfdata:ro", "busybox", "sh", "-c", "cat /n/f; touch /n/x || echo n-ro"]);
    expect(r.stdout).toBe("named\nn-ro\n");
    const rw = e.T(["run", "--rm", "--volumes-from", "vfdata:rw", "busybox", "sh", "-c", "touch /n/x && echo n-rw; touch /b/x || echo b-ro"]);
    expect(rw.stdout).toBe("n-rw\nb-ro\n");
    const own = e.T(["run", "--rm", "--volumes-from", "vfdata", "-v", "vf-other:/n", "busybox", "sh", "-c", "ls /n | wc -l"]);
    expect(own.stdout.trim()).toBe("0");
    ok(["create", "--name", "vfro", "--volumes-from", "vfdata:ro", "busybox"]);
    expect(inspect("vfro", "{{json .HostConfig.VolumesFrom}}")).toBe('["vfdata:ro"]');
    ok(["rm", "vfro"]);
  });

  test("an unknown container or a bad mode: Docker's error, exit 125, nothing made", () => {
    const before = count();
    const r = e.T(["run", "--rm", "--volumes-from", "vf-nope", "busybox", "true"]);
    expect(r.stderr).toBe("Error: No such container: vf-nope\n");
    expect(r.code).toBe(125);
    const bad = e.T(["run", "--rm", "--volumes-from", "vfdata:shared", "busybox", "true"]);
    expect(bad.stderr).toBe("Error: invalid mode: shared\n");
    expect(bad.code).toBe(125);
    expect(count()).toBe(before);
  });
});

describe("--link", () => {
  test("default bridge: the hosts line, Docker's variables, HostConfig.Links", () => {
    e.runDetached(["--name", "lkweb", "--expose", "8080", "--expose", "53/udp", "-e", "FOO=bar", "busybox", "sleep", "300"]);
    const ip = inspect("lkweb", "{{.NetworkSettings.IPAddress}}");
    const host = inspect("lkweb", "{{.Config.Hostname}}");
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const r = e.T(["run", "--name", "lkme", "--link", "lkweb:web-alias", "-e", "WEB_ALIAS_ENV_FOO=mine", "busybox", "sh", "-c", "env | grep ^WEB_ALIAS | sort; grep web-alias /etc/hosts"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        "WEB_ALIAS_ENV_FOO=mine",
        "WEB_ALIAS_NAME=/lkme/web-alias",
        `WEB_ALIAS_PORT=udp://${ip}:53`,
        `WEB_ALIAS_PORT_53_UDP=udp://${ip}:53`,
        `WEB_ALIAS_PORT_53_UDP_ADDR=${ip}`,
        "WEB_ALIAS_PORT_53_UDP_PORT=53",
        "WEB_ALIAS_PORT_53_UDP_PROTO=udp",
        `WEB_ALIAS_PORT_8080_TCP=tcp://${ip}:8080`,
        `WEB_ALIAS_PORT_8080_TCP_ADDR=${ip}`,
        "WEB_ALIAS_PORT_8080_TCP_PORT=8080",
        "WEB_ALIAS_PORT_8080_TCP_PROTO=tcp",
        `${ip}\tweb-alias ${host} lkweb`,
        "",
      ].join("\n"),
    );
    expect(inspect("lkme", "{{json .HostConfig.Links}}")).toBe('["/lkweb:/lkme/web-alias"]');
    // Not in Config.Env: Docker makes them at start, they are not the container's own.
    expect(inspect("lkme", "{{json .Config.Env}}")).not.toContain("WEB_ALIAS_PORT");
    // NAME alone is NAME:NAME.
    expect(ok(["run", "--rm", "--link", "lkweb", "busybox", "sh", "-c", "echo $LKWEB_NAME; grep -c lkweb /etc/hosts"])).toMatch(/^\/[a-z_]+\/lkweb\n1\n$/);
  });

  test("a user network: the hosts line, no variables (as Docker)", () => {
    ok(["network", "create", "lknet"]);
    e.runDetached(["--name", "lku", "--network", "lknet", "busybox", "sleep", "300"]);
    const ip = inspect("lku", "{{(index .NetworkSettings.Networks \"lknet\").IPAddress}}");
    const r = e.T(["run", "--rm", "--network", "lknet", "--link", "lku:db", "busybox", "sh", "-c", "grep -w db /etc/hosts; env | grep -c ^DB_"]);
    expect(r.stdout).toBe(`${ip}\tdb ${inspect("lku", "{{.Config.Hostname}}")} lku\n0\n`);
  });

  test("create takes a target that is not running; start resolves its address then, and anew at every start", async () => {
    ok(["create", "--name", "lklate", "--expose", "7000", "busybox", "sleep", "300"]);
    ok(["create", "--name", "lkparent", "--link", "lklate:db", "busybox", "sh", "-c", "grep -w db /etc/hosts; echo $DB_PORT; sleep 300"]);
    expect(inspect("lkparent", "{{json .HostConfig.Links}}")).toBe('["/lklate:/lkparent/db"]');
    // Docker checks at start: the target must be running then.
    const early = e.T(["start", "lkparent"]);
    expect({ code: early.code, err: early.stderr }).toEqual({ code: 1, err: "Error response from daemon: Cannot link to a non running container: /lklate AS /lkparent/db\nError: failed to start containers: lkparent\n" });
    ok(["start", "lklate"]);
    ok(["start", "lkparent"]);
    const lines = (ip: string) => `${ip}\tdb ${inspect("lklate", "{{.Config.Hostname}}")} lklate\ntcp://${ip}:7000\n`;
    const ip1 = inspect("lklate", "{{.NetworkSettings.IPAddress}}");
    await until("the parent's first log", () => ok(["logs", "lkparent"]) === lines(ip1));
    // The target back with another address (a filler holds its old one): the next start takes it.
    const parentIp = inspect("lkparent", "{{.NetworkSettings.IPAddress}}");
    ok(["stop", "-t", "0", "lkparent", "lklate"]);
    // Their supervisors give the addresses back after the end.
    const leased = (ip: string) => fs.existsSync(path.join(e.env.root, "networks", "bridge", "leases", ip));
    await until("the old addresses free", () => !leased(ip1) && !leased(parentIp));
    e.runDetached(["--name", "lkfiller", "busybox", "sleep", "300"]);
    ok(["start", "lklate"]);
    const ip2 = inspect("lklate", "{{.NetworkSettings.IPAddress}}");
    expect(ip2).not.toBe(ip1);
    ok(["start", "lkparent"]);
    await until("the parent's second log", () => ok(["logs", "lkparent"]).endsWith(lines(ip2)));
    expect(ok(["exec", "lkparent", "sh", "-c", "env | grep -c ^DB_PORT="])).toBe("1\n");
    ok(["rm", "-f", "lkparent", "lklate", "lkfiller"]);
  });

  test("a restart by the policy while the linked container is down fails as Docker's: exited with its code, RestartCount counted, State.Error", async () => {
    e.runDetached(["--name", "lkdown", "busybox", "sleep", "300"]);
    // Ends (exit 3) each time /tmp/go appears, which the restarts keep (same rootfs).
    const cmd = "until [ -e /tmp/go ]; do sleep 0.05; done; rm /tmp/go; exit 3";
    e.runDetached(["--name", "lkrestarts", "--restart", "always", "--link", "lkdown:db", "busybox", "sh", "-c", cmd]);
    // The target running: the policy restarts it.
    ok(["exec", "lkrestarts", "touch", "/tmp/go"]);
    await until("the first restart", () => inspect("lkrestarts", "{{.RestartCount}} {{.State.Status}}") === "1 running");
    // The target down: the next restart is refused and the container stays exited.
    ok(["stop", "-t", "0", "lkdown"]);
    ok(["exec", "lkrestarts", "touch", "/tmp/go"]);
    await until("the refused restart", () => inspect("lkrestarts", "{{.State.Status}}") === "exited", 15_000);
    expect(inspect("lkrestarts", "{{.State.ExitCode}} {{.RestartCount}} {{.State.Running}} {{.State.Restarting}}")).toBe("3 2 false false");
    expect(inspect("lkrestarts", "{{.State.Error}}")).toBe("Cannot link to a non running container: /lkdown AS /lkrestarts/db");
    await Bun.sleep(1500);
    expect(inspect("lkrestarts", "{{.State.Status}} {{.RestartCount}}")).toBe("exited 2");
    // A start by hand with the target back is the user's, and runs.
    ok(["start", "lkdown"]);
    ok(["start", "lkrestarts"]);
    expect(inspect("lkrestarts", "{{.State.Status}}|{{.State.Error}}|")).toBe("running||");
    ok(["rm", "-f", "lkrestarts", "lkdown"]);
  });

  test("a missing or stopped container, and host networking: Docker's errors, exit 125, nothing made", () => {
    ok(["create", "--name", "lkstopped", "busybox"]);
    const before = count();
    const missing = e.T(["run", "--rm", "--link", "lk-nope:x", "busybox", "true"]);
    expect(missing.stderr).toBe("Error: could not get container for lk-nope: No such container: lk-nope\n");
    expect(missing.code).toBe(125);
    const stopped = e.T(["run", "--rm", "--name", "lkme2", "--link", "lkstopped:s", "busybox", "true"]);
    expect(stopped.stderr).toBe("Error: Cannot link to a non running container: /lkstopped AS /lkme2/s\n");
    expect(stopped.code).toBe(125);
    const hostNet = e.T(["run", "--rm", "--network", "host", "--link", "lkweb", "busybox", "true"]);
    expect(hostNet.stderr).toBe("Error: conflicting options: host type networking can't be used with links. This would result in undefined behavior\n");
    expect(hostNet.code).toBe(125);
    const bad = e.T(["run", "--rm", "--link", "a:b:c", "busybox", "true"]);
    expect(bad.stderr).toBe("Error: bad format for links: a:b:c\n");
    expect(bad.code).toBe(125);
    expect(count()).toBe(before);
  });
});

describe("--cgroup-parent", () => {
  const V1 = "/sys/fs/cgroup";
  const onV1 = fs.existsSync(path.join(V1, "memory", "cgroup.procs"));
  // A parent of this test's own, left by the engine as Docker leaves it: removed here in every hierarchy.
  const top = `tdtest-cgp-${crypto.randomBytes(3).toString("hex")}`;
  afterAll(() => {
    for (const h of fs.existsSync(V1) ? fs.readdirSync(V1) : []) {
      for (const d of [path.join(V1, h, top, "sub"), path.join(V1, h, top, "crash"), path.join(V1, h, top)]) {
        try {
          fs.rmdirSync(d);
        } catch {}
      }
    }
  });

  test("the cgroup is <parent>/tinydock-<id> in every hierarchy: limits there, stats and update find it, start makes it again, rm takes it; inspect shows CgroupParent", async () => {
    if (!onV1) throw new Error("this host has no cgroup v1 memory hierarchy (only on cgroup v1 hosts)");
    const id = e.runDetached(["--name", "cgp", "--cgroup-parent", `/${top}/sub`, "-m", "32m", "busybox", "sleep", "300"]);
    const dir = (h: string) => path.join(V1, h, top, "sub", `tinydock-${id}`);
    expect(fs.readFileSync(path.join(dir("memory"), "memory.limit_in_bytes"), "utf8").trim()).toBe(String(32 * 1024 * 1024));
    const pid = Number(inspect("cgp", "{{.State.Pid}}"));
    expect(fs.readFileSync(path.join(dir("pids"), "cgroup.procs"), "utf8")).toContain(String(pid));
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, "utf8")).toMatch(new RegExp(`:memory:/${top}/sub/tinydock-${id}$`, "m"));
    expect(fs.existsSync(path.join(V1, "memory", "tinydock", id))).toBe(false);
    expect(inspect("cgp", "{{.HostConfig.CgroupParent}}")).toBe(`/${top}/sub`);
    // A leftover would be found by its name, as the suite's leak check looks.
    expect(findLeaks().filter((l) => l.includes(`tinydock-${id}`)).length).toBeGreaterThan(0);
    expect(ok(["stats", "--no-stream", "--format", "{{.MemUsage}}", "cgp"])).toMatch(/ \/ 32MiB$/m);
    ok(["update", "-m", "48m", "cgp"]);
    expect(fs.readFileSync(path.join(dir("memory"), "memory.limit_in_bytes"), "utf8").trim()).toBe(String(48 * 1024 * 1024));
    ok(["stop", "-t", "0", "cgp"]);
    await until("the cgroup gone after stop", () => !fs.existsSync(dir("memory")));
    ok(["start", "cgp"]);
    expect(fs.readFileSync(path.join(dir("memory"), "memory.limit_in_bytes"), "utf8").trim()).toBe(String(48 * 1024 * 1024));
    ok(["rm", "-f", "cgp"]);
    for (const h of ["memory", "pids", "cpu", "freezer", "devices"]) expect(fs.existsSync(dir(h))).toBe(false);
    expect(fs.existsSync(path.join(V1, "memory", top, "sub"))).toBe(true); // the parent stays, as Docker's
    expect(findLeaks().filter((l) => l.startsWith("cgroup:") && l.includes(id))).toEqual([]);
  });

  test("a create killed while its image downloads leaves <parent>/tinydock-<id>: system prune finds it by the pending record", async () => {
    if (!onV1) throw new Error("this host has no cgroup v1 memory hierarchy (only on cgroup v1 hosts)");
    // A registry that takes the connection and never answers: the create waits in the pull, its cgroup made.
    const port = 20000 + crypto.randomInt(20000);
    const script = `import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",${port}))\ns.listen(8)\nprint("ready",flush=True)\ntime.sleep(120)`;
    const hang = Bun.spawn(e.inNs(["python3", "-c", script]), { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    try {
      await new Response(hang.stdout).body!.getReader().read();
      const p = Bun.spawn(e.inNs([BINARY, "create", "--cgroup-parent", `/${top}/crash`, `127.0.0.1:${port}/hang:latest`]), { env: cliEnv(e.env), stdin: "ignore", stdout: "ignore", stderr: "ignore" });
      const made = () => {
        const d = path.join(V1, "memory", top, "crash");
        return fs.existsSync(d) ? fs.readdirSync(d).filter((n) => n.startsWith("tinydock-")) : [];
      };
      await until("the cgroup made", () => made().length > 0);
      p.kill("SIGKILL");
      await p.exited;
      const [leaf] = made();
      expect(made()).toEqual([leaf!]);
      expect(e.T(["system", "prune", "-f"]).code).toBe(0);
      for (const h of ["memory", "pids", "cpu", "freezer", "devices"]) expect([h, fs.existsSync(path.join(V1, h, top, "crash", leaf!))]).toEqual([h, false]);
    } finally {
      hang.kill();
      await hang.exited;
    }
  });

  test("a foreground run under a parent; a bad parent: one line, exit 125", () => {
    const r = e.T(["run", "--rm", "--cgroupns", "host", "--cgroup-parent", `${top}/sub`, "busybox", "cat", "/proc/self/cgroup"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(new RegExp(`:pids:/${top}/sub/tinydock-[0-9a-f]{64}$`, "m"));
    const bad = e.T(["run", "--rm", "--cgroup-parent", "/a/../b", "busybox", "true"]);
    expect(bad.stderr).toBe('Error: Cannot use --cgroup-parent "/a/../b": ".." is not a plain cgroup name\n');
    expect(bad.code).toBe(125);
  });
});
