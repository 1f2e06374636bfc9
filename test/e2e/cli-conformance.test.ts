// What Docker users' scripts and CI jobs type, checked against Docker's documented output and exit
// codes (its daemon's messages word for word where scripts match on them). The compiled binary, in a
// network namespace of this file's own.
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { useE2e } from "../helpers/e2e.ts";

const e = useE2e({ prefix: "td-conform-" });
const ok = (args: string[]): string => {
  const r = e.T(args);
  if (r.code !== 0) throw new Error(`tinydock ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};

describe("rmi of an image a container uses: Docker's conflicts", () => {
  test("by name (must force), by id with a stopped (must be forced) or running container (cannot be forced), by id with several tags", () => {
    const id = ok(["images", "-q", "busybox"]).trim();
    ok(["create", "--name", "rmi-user", "busybox", "true"]);
    const user = ok(["inspect", "-f", "{{.Id}}", "rmi-user"]).trim().slice(0, 12);
    const byName = e.T(["rmi", "busybox"]);
    expect(byName).toEqual({ code: 1, stdout: "", stderr: `Error: conflict: unable to remove repository reference "busybox" (must force) - container ${user} is using its referenced image ${id}\n` });
    expect(e.T(["rmi", id]).stderr).toBe(`Error: conflict: unable to delete ${id} (must be forced) - image is being used by stopped container ${user}\n`);
    ok(["rm", "rmi-user"]);
    const running = e.runDetached(["--name", "rmi-running", "busybox", "sleep", "300"]).slice(0, 12);
    for (const args of [["rmi", id], ["rmi", "-f", id]]) {
      expect(e.T(args)).toEqual({ code: 1, stdout: "", stderr: `Error: conflict: unable to delete ${id} (cannot be forced) - image is being used by running container ${running}\n` });
    }
    ok(["rm", "-f", "rmi-running"]);
    ok(["tag", "busybox", "other/name:v1"]);
    expect(e.T(["rmi", id]).stderr).toBe(`Error: conflict: unable to delete ${id} (must be forced) - image is referenced in multiple repositories\n`);
    expect(ok(["rmi", "other/name:v1"])).toBe("Untagged: other/name:v1\n");
    expect(ok(["images", "-q"])).toBe(`${id}\n`);
  });
});

describe("rmi -f of an image only stopped containers use: deleted, as Docker's daemon does", () => {
  test("untagged and deleted (by id or by name); the containers still start, inspect, commit and list its id; their rm frees its layers", () => {
    const layers = () => fs.readdirSync(path.join(e.env.root, "layers")).filter((n) => /^[a-f0-9]{64}$/.test(n)).sort();
    const before = layers();
    ok(["run", "--name", "rmi-base", "busybox", "sh", "-c", "echo layer > /marker"]);
    ok(["commit", "rmi-base", "rmi-img:v1"]);
    ok(["rm", "rmi-base"]);
    const full = ok(["image", "inspect", "-f", "{{.Id}}", "rmi-img:v1"]).trim();
    const id = full.slice(7, 19);
    expect(ok(["run", "--name", "rmi-stopped", "rmi-img:v1", "cat", "/marker"])).toBe("layer\n");
    expect(ok(["rmi", "-f", id])).toBe(`Untagged: rmi-img:v1\nDeleted: ${full}\n`);
    expect(ok(["images", "-q", "rmi-img"])).toBe("");
    expect(e.T(["image", "inspect", id]).code).toBe(1);
    expect(e.T(["rmi", id])).toEqual({ code: 1, stdout: "", stderr: `Error: No such image: ${id}:latest\n` });
    // Docker's ps shows the id of an image that is gone; inspect keeps both.
    expect(ok(["ps", "-a", "--filter", "name=rmi-stopped", "--format", "{{.Image}}"])).toBe(`${id}\n`);
    expect(ok(["ps", "-a", "--no-trunc", "--filter", "name=rmi-stopped", "--format", "{{.Image}}"])).toBe(`${full}\n`);
    expect(ok(["ps", "-a", "--filter", "name=rmi-stopped"])).toContain(`   ${id}   `);
    expect(ok(["inspect", "-f", "{{.Image}} {{.Config.Image}}", "rmi-stopped"])).toBe(`${full} rmi-img:v1\n`);
    // Its layers are the container's still: prune leaves them, start and commit use them.
    ok(["image", "prune", "-f"]);
    expect(ok(["start", "-a", "rmi-stopped"])).toBe("layer\n");
    ok(["commit", "rmi-stopped", "rmi-again:v1"]);
    expect(ok(["run", "--rm", "rmi-again:v1", "cat", "/marker"])).toBe("layer\n");
    // A name that leads to another image now (the tag moved: a new build or pull) shows the id
    // too; one that still leads to it, or an id prefix, stays as typed.
    const bb = ok(["images", "-q", "busybox"]).trim();
    ok(["tag", "busybox", "rmi-tagged:v1"]);
    ok(["create", "--name", "rmi-moved", "rmi-tagged:v1"]);
    ok(["create", "--name", "rmi-byid", bb]);
    const images = () => ok(["ps", "-a", "--filter", "name=rmi-moved", "--filter", "name=rmi-byid", "--format", "{{.Names}} {{.Image}}"]).trim().split("\n").sort();
    expect(images()).toEqual([`rmi-byid ${bb}`, "rmi-moved rmi-tagged:v1"]);
    ok(["tag", "rmi-again:v1", "rmi-tagged:v1"]);
    expect(images()).toEqual([`rmi-byid ${bb}`, `rmi-moved ${bb}`]);
    ok(["rm", "rmi-moved", "rmi-byid"]);
    ok(["rmi", "rmi-tagged:v1"]);
    ok(["rm", "rmi-stopped"]);
    // By name, the last tag: the same deletion.
    ok(["create", "--name", "rmi-named", "rmi-again:v1"]);
    const again = ok(["image", "inspect", "-f", "{{.Id}}", "rmi-again:v1"]).trim();
    expect(ok(["rmi", "-f", "rmi-again:v1"])).toBe(`Untagged: rmi-again:v1\nDeleted: ${again}\n`);
    expect(layers().length).toBeGreaterThan(before.length);
    expect(ok(["start", "-a", "rmi-named"])).toBe("layer\n");
    ok(["rm", "rmi-named"]);
    expect(layers()).toEqual(before);
    expect(ok(["images", "-q"])).toBe(ok(["images", "-q", "busybox"]));
  });
});

describe("inspect of any object, image prune --filter", () => {
  test("inspect finds a network or a volume by name as Docker's does (container, image, network, volume); --type volume|network; -s adds the sizes", () => {
    ok(["volume", "create", "ins-vol"]);
    ok(["network", "create", "ins-net"]);
    expect(ok(["inspect", "-f", "{{.Name}} {{.Driver}}", "ins-vol", "ins-net"])).toBe("ins-vol local\nins-net bridge\n");
    expect(ok(["inspect", "--type", "volume", "-f", "{{.Mountpoint}}", "ins-vol"])).toBe(`${path.join(e.env.root, "volumes", "ins-vol", "_data")}\n`);
    expect(ok(["inspect", "--type", "network", "-f", "{{.Name}}", "ins-net"])).toBe("ins-net\n");
    expect(e.T(["inspect", "--type", "volume", "ins-net"])).toMatchObject({ code: 1, stderr: "Error: No such object: ins-net\n" });
    expect(JSON.parse(ok(["inspect", "ins-vol"]))[0]).toMatchObject({ Name: "ins-vol", Driver: "local", Scope: "local" });
    ok(["create", "--name", "ins-c", "busybox", "true"]);
    const sizes = ok(["inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", "ins-c"]).trim().split(" ").map(Number);
    expect(sizes[1]).toBeGreaterThan(1_000_000);
    expect(sizes[1]! - sizes[0]!).toBe(Number(ok(["image", "inspect", "-f", "{{.Size}}", "busybox"]).trim()));
    expect(ok(["inspect", "-f", "{{.SizeRw}}", "ins-c"])).toBe("<no value>\n");
    ok(["rm", "ins-c"]);
    ok(["volume", "rm", "ins-vol"]);
    ok(["network", "rm", "ins-net"]);
  });

  test("image prune --filter until=, label=, label!= as Docker's daemon; an unknown key refused", () => {
    ok(["create", "--name", "pf-src", "busybox", "true"]);
    ok(["commit", "-c", "LABEL drop=me", "pf-src", "pf-drop:v1"]);
    ok(["commit", "-c", "LABEL drop=me", "-c", "LABEL keep=1", "pf-src", "pf-keep:v1"]);
    ok(["rm", "pf-src"]);
    const drop = ok(["image", "inspect", "-f", "{{.Id}}", "pf-drop:v1"]).trim();
    // Nothing was created before 2000: nothing goes.
    expect(ok(["image", "prune", "-a", "-f", "--filter", "until=2000-01-01T00:00:00Z"])).toBe("Total reclaimed space: 0B\n");
    const out = ok(["image", "prune", "-a", "-f", "--filter", "label=drop=me", "--filter", "label!=keep"]);
    expect(out).toStartWith(`Deleted Images:\ndeleted: ${drop}\n\nTotal reclaimed space: `);
    expect(ok(["images", "--format", "{{.Repository}}", "pf-*"])).toBe("pf-keep\n");
    expect(e.T(["image", "prune", "-f", "--filter", "bogus=1"])).toMatchObject({ code: 1, stderr: "Error: invalid filter 'bogus'\n" });
    ok(["rmi", "pf-keep:v1"]);
  });
});

describe("network prune and system prune --filter", () => {
  test("until= and label= spare what they do not match, as in Docker's prunes", () => {
    ok(["network", "create", "--label", "tier=x", "np-x"]);
    ok(["network", "create", "np-y"]);
    expect(ok(["network", "prune", "-f", "--filter", "until=2000-01-01T00:00:00Z"])).toBe("");
    expect(ok(["network", "prune", "-f", "--filter", "label=tier=x"])).toBe("Deleted Networks:\nnp-x\n");
    expect(ok(["network", "ls", "-q", "--filter", "name=np-"]).trim().split("\n")).toHaveLength(1);
    expect(e.T(["network", "prune", "-f", "--filter", "bogus=1"])).toMatchObject({ code: 1, stderr: "Error: invalid filter 'bogus'\n" });
    ok(["network", "rm", "np-y"]);
    ok(["create", "--name", "sp-a", "-l", "sweep=1", "busybox", "true"]);
    ok(["create", "--name", "sp-b", "busybox", "true"]);
    const a = ok(["inspect", "-f", "{{.Id}}", "sp-a"]).trim();
    expect(ok(["system", "prune", "-f", "--filter", "label=sweep=1"])).toStartWith(`Deleted Containers:\n${a}\n\n`);
    expect(ok(["ps", "-a", "--format", "{{.Names}}", "--filter", "name=sp-"])).toBe("sp-b\n");
    expect(e.T(["system", "prune", "-f", "--volumes", "--filter", "until=1h"]).code).toBe(1);
    ok(["rm", "sp-b"]);
  });
});

describe("volume create -d local --opt: the filesystem mounted at use, as Docker's local driver", () => {
  test("tmpfs with size and uid, a bind of a host directory (shared with the host, never deleted by rm), Docker's errors", () => {
    expect(ok(["volume", "create", "-d", "local", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=1m,uid=1000", "vtmp"])).toBe("vtmp\n");
    expect(ok(["volume", "inspect", "-f", "{{.Driver}} {{json .Options}}", "vtmp"])).toBe('local {"device":"tmpfs","o":"size=1m,uid=1000","type":"tmpfs"}\n');
    expect(ok(["run", "--rm", "-v", "vtmp:/v", "busybox", "sh", "-c", "grep ' /v ' /proc/mounts | cut -d' ' -f3,4; stat -c %u /v; echo kept > /v/f"])).toBe("tmpfs rw,relatime,size=1024k,uid=1000\n1000\n");
    expect(ok(["run", "--rm", "-v", "vtmp:/v", "busybox", "cat", "/v/f"])).toBe("kept\n");
    const host = path.join(e.dir, "bound");
    fs.mkdirSync(host);
    fs.writeFileSync(path.join(host, "h"), "from host\n");
    ok(["volume", "create", "--opt", "type=none", "--opt", `device=${host}`, "--opt", "o=bind", "vbind"]);
    expect(ok(["run", "--rm", "-v", "vbind:/v", "busybox", "sh", "-c", "cat /v/h; echo from container > /v/c"])).toBe("from host\n");
    expect(fs.readFileSync(path.join(host, "c"), "utf8")).toBe("from container\n");
    expect(ok(["volume", "rm", "vbind", "vtmp"])).toBe("vbind\nvtmp\n");
    // Removing the volume unmounts it: the host directory keeps its files.
    expect(fs.readdirSync(host).sort()).toEqual(["c", "h"]);
    expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(path.join(e.env.root, "volumes"));
    expect(e.T(["volume", "create", "--opt", "type=tmpfs", "vx"])).toEqual({ code: 1, stdout: "", stderr: 'Error: Cannot create volume "vx": missing required option: "device"\n' });
    expect(e.T(["volume", "create", "--opt", "o=bind", "--opt", "device=/x", "vx"]).stderr).toBe('Error: Cannot create volume "vx": missing required option: "type"\n');
    ok(["volume", "create", "--opt", "type=none", "--opt", "device=/nonexistent-td", "--opt", "o=bind", "vmissing"]);
    const r = e.T(["run", "--rm", "-v", "vmissing:/v", "busybox", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^Error: error while mounting volume '.*\/volumes\/vmissing\/_data': failed to mount local volume: .*ENOENT\n$/);
    ok(["volume", "rm", "vmissing"]);
  });
});

describe("cp into a --read-only container: Docker's refusals", () => {
  test("the root is refused (running or not, plain or tar), a writable volume takes it, a read-only bind is refused", () => {
    const dir = fs.mkdtempSync(path.join(e.dir, "cp-ro-"));
    fs.writeFileSync(path.join(dir, "f"), "data\n");
    ok(["volume", "create", "cprw"]);
    ok(["run", "-d", "--name", "cp-ro", "--read-only", "-v", "cprw:/data", "-v", `${dir}:/ro:ro`, "busybox", "sleep", "300"]);
    const refused = (args: string[], why: string, input?: string): void =>
      expect(e.T(args, input)).toEqual({ code: 1, stdout: "", stderr: `Error: ${why}\n` });
    refused(["cp", path.join(dir, "f"), "cp-ro:/tmp/"], "container rootfs is marked read-only");
    refused(["cp", path.join(dir, "f"), "cp-ro:/ro/g"], "mounted volume is marked read-only");
    refused(["cp", "-", "cp-ro:/"], "container rootfs is marked read-only", "");
    ok(["cp", path.join(dir, "f"), "cp-ro:/data/"]);
    expect(ok(["exec", "cp-ro", "cat", "/data/f"])).toBe("data\n");
    expect(fs.existsSync(path.join(dir, "g"))).toBe(false);
    ok(["stop", "-t", "0", "cp-ro"]);
    refused(["cp", path.join(dir, "f"), "cp-ro:/f"], "container rootfs is marked read-only");
    ok(["rm", "-v", "cp-ro"]);
    ok(["volume", "rm", "cprw"]);
  });
});

describe("rm -f of a container that is not there", () => {
  test("says so on stderr and exits 0, as Docker's CLI (scripts run `docker rm -f old` under set -e); the others are removed", () => {
    ok(["create", "--name", "rmf-real", "busybox"]);
    const r = e.T(["rm", "-f", "rmf-nosuch", "rmf-real"]);
    expect(r).toEqual({ code: 0, stdout: "rmf-real\n", stderr: "Error: No such container: rmf-nosuch\n" });
    // Without -f it is a failure.
    expect(e.T(["rm", "rmf-nosuch"])).toEqual({ code: 1, stdout: "", stderr: "Error: No such container: rmf-nosuch\n" });
  });
});

describe("what CI scripts type, as Docker answers", () => {
  test("run -e/-w/-u/--entrypoint, exit codes 127/126, inspect -f ExitCode, ps -q -f status=exited, wait, port", () => {
    expect(e.T(["run", "--rm", "-e", "FOO=bar", "-w", "/tmp", "-u", "1000:1000", "busybox", "sh", "-c", "echo $FOO; pwd; id -u"])).toEqual({ code: 0, stdout: "bar\n/tmp\n1000\n", stderr: "" });
    expect(ok(["run", "--rm", "--entrypoint", "echo", "busybox", "hello"])).toBe("hello\n");
    expect(e.T(["run", "--rm", "busybox", "nonexistent-cmd"]).code).toBe(127);
    expect(e.T(["run", "--rm", "busybox", "/etc/passwd"]).code).toBe(126);
    expect(e.T(["run", "--name", "ci-exit", "busybox", "sh", "-c", "exit 3"]).code).toBe(3);
    expect(ok(["inspect", "-f", "{{.State.ExitCode}}", "ci-exit"])).toBe("3\n");
    const id = ok(["inspect", "-f", "{{.Id}}", "ci-exit"]).trim();
    // A status filter lists stopped containers without -a.
    expect(ok(["ps", "-q", "-f", "status=exited"])).toContain(id.slice(0, 12));
    expect(ok(["wait", "ci-exit"])).toBe("3\n");
    // The name taken: moby's sentence, its full stop included (scripts and tools match on it).
    expect(e.T(["run", "--name", "ci-exit", "busybox", "true"])).toEqual({
      code: 125,
      stdout: "",
      stderr: `Error: Conflict. The container name "/ci-exit" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.\n`,
    });
    expect(e.T(["inspect", "-f", "{{.State.ExitCode}}", "ci-nosuch"])).toEqual({ code: 1, stdout: "", stderr: "Error: No such object: ci-nosuch\n" });
    expect(ok(["run", "--rm", "-i", "busybox", "wc", "-l"])).toBe("0\n");
    expect(e.T(["run", "--rm", "-i", "busybox", "cat"], "piped\n").stdout).toBe("piped\n");
    e.runDetached(["--name", "ci-port", "-p", "18080:80", "busybox", "sleep", "300"]);
    expect(ok(["port", "ci-port", "80"])).toBe("0.0.0.0:18080\n");
    expect(e.T(["port", "ci-port", "99"])).toEqual({ code: 1, stdout: "", stderr: "Error: No public port '99/tcp' published for ci-port\n" });
    ok(["rm", "-f", "ci-port", "ci-exit"]);
  });
});
