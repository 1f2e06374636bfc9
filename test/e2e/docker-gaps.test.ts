// Docker's behaviour where tinydock differed: a start joins its donors' namespaces of now,
// `network connect` of a stopped container, a reference with capitals refused before any pull,
// --mount volume-opt. The compiled binary in a network namespace of this file's own.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import { useE2e } from "../helpers/e2e.ts";

const e = useE2e({ prefix: "td-gaps-" });
const ok = (args: string[]): string => {
  const r = e.T(args);
  if (r.code !== 0) throw new Error(`tinydock ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};
const inspect = (name: string, format: string) => ok(["inspect", "-f", format, name]).trim();
const nsOf = (name: string, ns: string) => fs.readlinkSync(`/proc/${inspect(name, "{{.State.Pid}}")}/ns/${ns}`);

describe("start of a container joined to another's namespaces", () => {
  test("the donor restarted since: start joins its new PID 1's ipc, pid, uts and net", () => {
    e.runDetached(["--name", "gdonor", "--ipc", "shareable", "busybox", "sleep", "300"]);
    ok(["create", "--name", "gmember", "--ipc", "container:gdonor", "--pid", "container:gdonor", "--uts", "container:gdonor", "--network", "container:gdonor", "busybox", "sleep", "300"]);
    ok(["start", "gmember"]);
    for (const ns of ["ipc", "pid", "uts", "net"]) expect(nsOf("gmember", ns)).toBe(nsOf("gdonor", ns));
    ok(["stop", "-t", "0", "gmember"]);
    const before = inspect("gdonor", "{{.State.Pid}}");
    ok(["restart", "-t", "0", "gdonor"]);
    expect(inspect("gdonor", "{{.State.Pid}}")).not.toBe(before);
    const r = e.T(["start", "gmember"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const ns of ["ipc", "pid", "uts", "net"]) expect(nsOf("gmember", ns)).toBe(nsOf("gdonor", ns));
    ok(["rm", "-f", "gmember"]);
  });

  test("the donor stopped: Docker's refusal, the member left created", () => {
    ok(["create", "--name", "gipc", "--ipc", "container:gdonor", "busybox", "sleep", "300"]);
    ok(["create", "--name", "gpid", "--pid", "container:gdonor", "busybox", "sleep", "300"]);
    ok(["create", "--name", "gnet", "--network", "container:gdonor", "busybox", "sleep", "300"]);
    ok(["stop", "-t", "0", "gdonor"]);
    const ipc = e.T(["start", "gipc"]);
    expect(ipc.stderr).toBe("Error response from daemon: failed to join IPC namespace: container gdonor is not running\nError: failed to start containers: gipc\n");
    expect(ipc.code).toBe(1);
    const pid = e.T(["start", "gpid"]);
    expect(pid.stderr).toBe("Error response from daemon: failed to join PID namespace: container gdonor is not running\nError: failed to start containers: gpid\n");
    expect(inspect("gpid", "{{.State.Status}}")).toBe("created");
    const net = e.T(["start", "gnet"]);
    expect(net.stderr).toBe("Error response from daemon: cannot join network namespace of a non running container: container gdonor is exited\nError: failed to start containers: gnet\n");
    ok(["rm", "-f", "gipc", "gpid", "gnet", "gdonor"]);
  });
});

describe("a reference with capitals", () => {
  test("run, create: Docker's one line before any lookup or pull, exit 125; pull: the same words, exit 1", () => {
    const before = ok(["ps", "-aq"]);
    for (const [args, named] of [
      [["run", "--rm", "Bad"], "library/Bad"],
      [["create", "Bad:tag"], "library/Bad"],
      [["run", "-d", "user/App", "true"], "user/App"],
    ] as const) {
      const r = e.T([...args]);
      expect(r.stderr).toBe(`Error: invalid reference format: repository name (${named}) must be lowercase\n`);
      expect(r.stdout).toBe("");
      expect(r.code).toBe(125);
    }
    const pull = e.T(["pull", "UPPER"]);
    expect(pull.stderr).toBe("Error: invalid reference format: repository name (library/UPPER) must be lowercase\n");
    expect(pull.code).toBe(1);
    expect(ok(["ps", "-aq"])).toBe(before);
    // An image id is no reference, and still runs.
    const id = inspect("busybox", "{{.Id}}");
    expect(e.T(["run", "--rm", id, "true"]).code).toBe(0);
  });
});

describe("--mount volume-opt", () => {
  test("the options of the volume the mount creates, as volume create --opt: a tmpfs of that size; an existing volume keeps its own", () => {
    const r = e.T(["run", "--rm", "--mount", 'type=volume,src=gvopt,dst=/d,volume-opt=type=tmpfs,volume-opt=device=tmpfs,"volume-opt=o=size=1m,mode=700"', "busybox", "sh", "-c", "grep ' /d ' /proc/mounts | cut -d' ' -f3,4"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^tmpfs rw,.*size=1024k,mode=700/);
    expect(inspect("gvopt", "{{json .Options}}")).toBe('{"device":"tmpfs","o":"size=1m,mode=700","type":"tmpfs"}');
    ok(["volume", "create", "gvplain"]);
    const kept = e.T(["run", "--rm", "--mount", "type=volume,src=gvplain,dst=/d,volume-opt=type=tmpfs,volume-opt=device=tmpfs", "busybox", "sh", "-c", "grep -c ' /d tmpfs ' /proc/mounts"]);
    expect(kept.stdout).toBe("0\n");
    expect(inspect("gvplain", "{{json .Options}}")).toBe("{}");
    ok(["volume", "rm", "gvopt", "gvplain"]);
  });

  test("a key the local driver does not know, or volume-opt on a bind: one line, exit 125, nothing made", () => {
    const before = ok(["ps", "-aq"]);
    const vols = ok(["volume", "ls", "-q"]);
    const r = e.T(["run", "--rm", "--mount", "type=volume,src=gvbad,dst=/d,volume-opt=foo=bar", "busybox", "true"]);
    expect(r.stderr).toBe('Error: Cannot create volume "gvbad": invalid option key: "foo"\n');
    expect(r.code).toBe(125);
    const bind = e.T(["run", "--rm", "--mount", "type=bind,src=/tmp,dst=/d,volume-opt=type=tmpfs", "busybox", "true"]);
    expect(bind.stderr).toBe(`Error: Cannot parse mount "type=bind,src=/tmp,dst=/d,volume-opt=type=tmpfs": cannot mix 'volume-*' options with mount type 'bind'\n`);
    expect(bind.code).toBe(125);
    expect(ok(["ps", "-aq"])).toBe(before);
    expect(ok(["volume", "ls", "-q"])).toBe(vols);
  });
});

describe("network connect of a container not running", () => {
  test("created or exited: the network is in inspect at once and the endpoint comes at the next start, and again after a stop", () => {
    ok(["network", "create", "gnet1"]);
    ok(["create", "--name", "gcreated", "busybox", "sleep", "300"]);
    e.runDetached(["--name", "gexited", "busybox", "sleep", "300"]);
    ok(["stop", "-t", "0", "gexited"]);
    for (const c of ["gcreated", "gexited"]) {
      const r = e.T(["network", "connect", "--alias", `${c}-alias`, "gnet1", c]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(Object.keys(JSON.parse(inspect(c, "{{json .NetworkSettings.Networks}}"))).sort()).toEqual(["bridge", "gnet1"]);
      const again = e.T(["network", "connect", "gnet1", c]);
      expect(again.code).toBe(1);
      ok(["start", c]);
      const nets = JSON.parse(inspect(c, "{{json .NetworkSettings.Networks}}")) as Record<string, { IPAddress: string; Aliases: string[] | null }>;
      expect(nets.gnet1!.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(nets.gnet1!.Aliases).toContain(`${c}-alias`);
      const ips = ok(["exec", c, "sh", "-c", "ip -o -4 addr show | awk '{print $2}' | sort | tr '\\n' ' '"]);
      expect(ips).toBe("eth0 eth1 lo ");
    }
    // A stop releases the addresses; the next start connects both networks again.
    ok(["stop", "-t", "0", "gexited"]);
    ok(["start", "gexited"]);
    expect(ok(["exec", "gexited", "sh", "-c", "ip -o -4 addr show | wc -l"]).trim()).toBe("3");
    // Disconnected while stopped: not connected at the next start.
    ok(["stop", "-t", "0", "gexited"]);
    ok(["network", "disconnect", "gnet1", "gexited"]);
    ok(["start", "gexited"]);
    expect(ok(["exec", "gexited", "sh", "-c", "ip -o -4 addr show | wc -l"]).trim()).toBe("2");
    ok(["rm", "-f", "gcreated", "gexited"]);
    ok(["network", "rm", "gnet1"]);
  });
});
