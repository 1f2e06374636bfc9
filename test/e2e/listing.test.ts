// The listing verbs as a Docker (or podman) user drives them: ps and images filters and formats,
// network ls/inspect and stats formats, image inspect -f, and podman's habits (--all on the
// container verbs, rm --ignore/-t, tag with several targets, untag, run --replace, --noheading).
// Each expectation is Docker's documented behaviour (docs.docker.com reference for ps, images,
// network ls, stats; moby daemon/list.go and daemon/images/images.go) or podman's man pages.
// Runs the compiled binary inside the network namespace the caller gives it (nsenter --net).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { tinydock, type CliEnv, type CliResult } from "../helpers/cli.ts";
import { busyboxImage, startE2e, type E2e } from "../helpers/e2e.ts";
import { buildImage, pushImage } from "../helpers/image.ts";

let e: E2e | undefined;
let env: CliEnv;
let dir: string;
const T = (args: string[]): CliResult => tinydock(env, args);
const ok = (args: string[]): string => {
  const r = T(args);
  if (r.code !== 0) throw new Error(`tinydock ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
};
const ids: Record<string, string> = {};
/** `ps -a --filter … --format {{.Names}}` as a list. */
const names = (...args: string[]) =>
  ok(["ps", "--format", "{{.Names}}", ...args.flatMap((a) => (a === "-a" ? ["-a"] : ["--filter", a]))])
    .split("\n")
    .filter(Boolean);
const imagesOf = (...args: string[]) => ok(["images", "--format", "{{.Repository}}:{{.Tag}}", ...args]).split("\n").filter(Boolean);

beforeAll(async () => {
  const busybox = await busyboxImage();
  // child: busybox's layers and one more, newer, labelled, exposing 80 — a descendant of busybox.
  const child = await buildImage({
    created: "2024-06-01T00:00:00Z",
    layers: [
      ...busybox.layers.map((l) => ({ tar: Bun.gunzipSync(new Uint8Array(l.blob)), compression: "gzip" as const })),
      { entries: [{ name: "etc/child", content: "child\n" }] },
    ],
    config: { Cmd: ["sh"], Labels: { tier: "web" }, ExposedPorts: { "80/tcp": {} } },
  });
  // other: older and unrelated.
  const other = await buildImage({ created: "2023-01-01T00:00:00Z", layers: [{ entries: [{ name: "other", content: "x\n" }] }] });
  // On the network namespace the suite runs it in (the filters read the default bridge's ports).
  e = await startE2e({ prefix: "td-listing-", netns: false });
  ({ env, dir } = e);
  await pushImage(e.reg, "library/child", "1", child);
  await pushImage(e.reg, "library/other", "old", other);
  e.sh(["ip", "link", "set", "lo", "up"]);
  for (const i of ["child:1", "other:old"]) ok(["pull", "-q", i]);
  const run = (name: string, args: string[]) => {
    ids[name] = ok(["run", "-d", "--name", name, ...args]).trim();
  };
  run("web", ["-l", "app=web", "-l", "tier=front", "-p", "8080:80", "-v", "/data", "busybox", "sleep", "300"]);
  run("db", ["-l", "app=db", "--network", "none", "-v", "vol1:/var/lib", "busybox", "sleep", "300"]);
  run("hostnet", ["--network", "host", "busybox", "sh", "-c", "sleep 300; true"]);
  run("ok", ["--network", "none", "busybox", "true"]);
  run("bad", ["--network", "none", "busybox", "sh", "-c", "exit 3"]);
  ok(["wait", "ok", "bad"]);
  ids.fresh = ok(["create", "--name", "fresh", "--network", "none", "busybox"]).trim();
  run("kid", ["child:1", "sleep", "300"]);
}, 120_000);

afterAll(async () => {
  if (env) {
    T(["rm", "-f", ...Object.values(ids)]);
    T(["network", "prune", "-f"]);
    T(["system", "prune", "-f"]);
  }
  const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => dir && l.includes(dir));
  await e?.stop();
  expect(mounts).toEqual([]);
});

describe("ps --filter, as Docker's daemon judges it", () => {
  test("name= is a regexp on the name with or without the leading slash", () => {
    expect(names("name=^web$")).toEqual(["web"]);
    expect(names("name=/web")).toEqual(["web"]);
    expect(names("name=^/db$")).toEqual(["db"]);
    expect(names("-a", "name=^(ok|bad)$")).toEqual(["bad", "ok"]);
  });
  test("id= is a unique id prefix; label= is a key or key=value and every one must hold", () => {
    expect(names(`id=${ids.db!.slice(0, 10)}`)).toEqual(["db"]);
    expect(names("label=app")).toEqual(["db", "web"]);
    expect(names("label=app=web", "label=tier")).toEqual(["web"]);
    expect(names("label=app=db", "label=tier")).toEqual([]);
  });
  test("status= implies -a; exited= does not, and needs a started container", () => {
    expect(names("status=exited")).toEqual(["bad", "ok"]);
    expect(names("status=created")).toEqual(["fresh"]);
    expect(names("exited=3")).toEqual([]);
    expect(names("-a", "exited=3")).toEqual(["bad"]);
    expect(names("-a", "exited=0")).toEqual(["ok"]);
  });
  test("before= and since= by name or id, newest first", () => {
    expect(names("-a", "before=hostnet")).toEqual(["db", "web"]);
    expect(names("-a", `since=${ids.bad!.slice(0, 12)}`)).toEqual(["kid", "fresh"]);
    expect(names("since=db")).toEqual(["kid", "hostnet"]);
    const r = T(["ps", "--filter", "before=nosuch"]);
    expect([r.code, r.stderr]).toEqual([1, "Error: No such container: nosuch\n"]);
  });
  test("ancestor= by name, name:tag, id prefix, and images built on it", () => {
    const busyboxId = ok(["images", "--format", "{{.ID}}", "busybox"]).trim();
    expect(names("ancestor=busybox")).toEqual(["kid", "hostnet", "db", "web"]);
    expect(names("ancestor=busybox:latest")).toEqual(["kid", "hostnet", "db", "web"]);
    expect(names(`ancestor=${busyboxId}`)).toEqual(["kid", "hostnet", "db", "web"]);
    expect(names("ancestor=child:1")).toEqual(["kid"]);
    expect(names("ancestor=nosuch")).toEqual([]);
  });
  test("volume= by destination or volume name; network= by name", () => {
    expect(names("volume=/data")).toEqual(["web"]);
    expect(names("volume=vol1")).toEqual(["db"]);
    expect(names("volume=/var/lib")).toEqual(["db"]);
    expect(names("network=none")).toEqual(["db"]);
    expect(names("network=bridge")).toEqual(["kid", "web"]);
    expect(names("network=host")).toEqual(["hostnet"]);
  });
  test("publish= (port, port/proto, range) and expose= (the image's EXPOSE too)", () => {
    expect(names("publish=8080")).toEqual(["web"]);
    expect(names("publish=8080/tcp")).toEqual(["web"]);
    expect(names("publish=8000-8100")).toEqual(["web"]);
    expect(names("publish=80")).toEqual([]);
    expect(names("publish=8080/udp")).toEqual([]);
    expect(names("expose=80")).toEqual(["kid", "web"]);
    expect(names("expose=8080")).toEqual(["web"]);
    const r = T(["ps", "--filter", "publish=0.0.0.0:8080"]);
    expect([r.code, r.stderr]).toEqual([1, "Error: filter for 'publish' should not contain ':': 0.0.0.0:8080\n"]);
  });
  test("health=: containers without a healthcheck are none", () => {
    expect(names("health=none")).toEqual(["kid", "hostnet", "db", "web"]);
    expect(names("health=healthy")).toEqual([]);
    expect(T(["ps", "--filter", "health=bogus"]).code).toBe(1);
  });
  test("one key's values OR, different keys AND", () => {
    expect(names("name=^web$", "name=^db$")).toEqual(["db", "web"]);
    expect(names("name=^web$", "label=app=db")).toEqual([]);
    expect(names("-a", "status=exited", "status=created", "name=o")).toEqual(["ok"]);
  });
  test("Docker's errors: an unknown key exits 1, a filter without = is a usage error (125)", () => {
    const bad = T(["ps", "--filter", "bogus=1"]);
    expect([bad.code, bad.stderr]).toEqual([1, "Error: invalid filter 'bogus'\n"]);
    const status = T(["ps", "--filter", "status=sleeping"]);
    expect([status.code, status.stderr]).toEqual([1, "Error: invalid filter 'status=sleeping'\n"]);
    const form = T(["ps", "--filter", "bogus"]);
    expect(form.code).toBe(125);
    expect(form.stderr).toContain('invalid argument "bogus" for "-f, --filter" flag: bad format of filter (expected name=value)');
  });
});

describe("ps columns", () => {
  test("COMMAND is the command as run, quoted, cut at 20 characters", () => {
    expect(ok(["ps", "--filter", "name=hostnet", "--format", "{{.Command}}"])).toBe(`"sh -c 'sleep 300; t…"\n`);
    expect(ok(["ps", "--filter", "name=hostnet", "--no-trunc", "--format", "{{.Command}}"])).toBe(`"sh -c 'sleep 300; true'"\n`);
    expect(ok(["ps", "--filter", "name=^web$", "--format", "{{.Command}}"])).toBe(`"sleep 300"\n`);
  });
  test("PORTS: bindings and the image's unpublished EXPOSE while running; nothing once exited", () => {
    const ports = (name: string) => ok(["ps", "-a", "--filter", `name=^${name}$`, "--format", "{{.Ports}}"]);
    // The busybox image EXPOSEs 8080: unpublished, it is listed first, as Docker's DisplayablePorts.
    expect(ports("web")).toBe("8080/tcp, 0.0.0.0:8080->80/tcp\n");
    expect(ports("kid")).toBe("80/tcp\n");
    expect(ports("ok")).toBe("\n");
  });
  test("--noheading (podman) drops the header, with the default table and with table TEMPLATE", () => {
    const plain = ok(["ps", "--noheading", "--filter", "name=^web$"]);
    expect(plain).not.toContain("CONTAINER ID");
    expect(plain).toContain(ids.web!.slice(0, 12));
    expect(ok(["ps", "--noheading", "--filter", "name=^web$", "--format", "table {{.Names}}"])).toBe("web\n");
  });
});

describe("images --format and --filter", () => {
  test("a Go template over Docker's fields; newest first", () => {
    expect(imagesOf()).toEqual(["child:1", "busybox:latest", "other:old"]);
    const id = ok(["images", "--format", "{{.ID}}|{{.Digest}}|{{.CreatedSince}}|{{.Size}}|{{.Containers}}", "busybox"]).trim();
    expect(id).toMatch(/^[a-f0-9]{12}\|sha256:[a-f0-9]{64}\|\d+ (months|years) ago\|[\d.]+[kM]B\|N\/A$/);
  });
  test("json: one object a line, CreatedAt in Go's time form", () => {
    const row = JSON.parse(ok(["images", "--format", "json", "busybox"]).trim());
    expect(Object.keys(row).sort()).toEqual(["Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize", "Size", "Tag", "UniqueSize", "VirtualSize"]);
    expect(row.CreatedAt).toBe("2024-01-02 03:04:05 +0000 UTC");
    expect(row.Repository).toBe("busybox");
  });
  test("table TEMPLATE has Docker's headers; -n/--noheading drops them", () => {
    const t = ok(["images", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedAt}}\t{{.Size}}", "busybox"]).split("\n");
    expect(t[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED AT\s+SIZE$/);
    expect(ok(["images", "--format", "table {{.Digest}}\t{{.CreatedSince}}\t{{.VirtualSize}}", "busybox"]).split("\n")[0]).toMatch(/^DIGEST\s+CREATED\s+SIZE$/);
    expect(ok(["images", "-n"]).split("\n")[0]).toMatch(/^child\s+1\s/);
    expect(ok(["images", "--noheading", "--format", "table {{.Repository}}", "other"])).toBe("other\n");
  });
  test("reference= globs as Go's path.Match on name:tag or name; the positional is one", () => {
    expect(imagesOf("--filter", "reference=busy*")).toEqual(["busybox:latest"]);
    expect(imagesOf("--filter", "reference=*:latest")).toEqual(["busybox:latest"]);
    expect(imagesOf("--filter", "reference=*:1", "--filter", "reference=other")).toEqual(["child:1", "other:old"]);
    expect(imagesOf("c*")).toEqual(["child:1"]);
  });
  test("before=, since=, label=", () => {
    expect(imagesOf("--filter", "before=busybox")).toEqual(["other:old"]);
    expect(imagesOf("--filter", "since=busybox")).toEqual(["child:1"]);
    expect(imagesOf("--filter", "label=tier=web")).toEqual(["child:1"]);
    expect(imagesOf("--filter", "label=tier=db")).toEqual([]);
  });
  test("unknown keys and bad values in Docker's words", () => {
    const bad = T(["images", "--filter", "bogus=1"]);
    expect([bad.code, bad.stderr]).toEqual([1, "Error: invalid filter 'bogus'\n"]);
    const d = T(["images", "--filter", "dangling=maybe"]);
    expect([d.code, d.stderr]).toEqual([1, "Error: invalid filter 'dangling=[maybe]'\n"]);
  });
});

describe("network, stats and image inspect formats", () => {
  test("network ls --format TEMPLATE, table, json and --filter", () => {
    expect(ok(["network", "ls", "--format", "{{.Name}}"]).split("\n")).toEqual(expect.arrayContaining(["bridge", "host", "none"]));
    expect(ok(["network", "ls", "--format", "table {{.ID}}\t{{.Name}}\t{{.IPv6}}", "--filter", "name=^bri"]).split("\n")[0]).toMatch(/^NETWORK ID\s+NAME\s+IPV6$/);
    expect(ok(["network", "ls", "--filter", "name=^bri", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"])).toBe("bridge bridge local\n");
    const row = JSON.parse(ok(["network", "ls", "--filter", "name=^none$", "--format", "json"]).trim());
    expect(Object.keys(row).sort()).toEqual(["CreatedAt", "Driver", "ID", "IPv6", "Internal", "Labels", "Name", "Scope"]);
    expect(T(["network", "ls", "--filter", "bogus=1"]).stderr).toBe("Error: invalid filter 'bogus'\n");
  });
  test("network inspect -f and image inspect -f are Go templates", () => {
    expect(ok(["network", "inspect", "-f", "{{.Name}} {{.Driver}}", "bridge", "none"])).toBe("bridge bridge\nnone null\n");
    expect(ok(["image", "inspect", "-f", "{{index .RepoTags 0}}", "busybox"])).toBe("busybox:latest\n");
  });
  test("stats --no-stream --format: a template, table with Docker's headers, json", () => {
    expect(ok(["stats", "--no-stream", "--format", "{{.Name}} {{.Container}} {{.PIDs}}", "web"])).toBe("web web 1\n");
    const t = ok(["stats", "--no-stream", "--format", "table {{.Container}}\t{{.Name}}\t{{.ID}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}", "db"]);
    expect(t.split("\n")[0]).toMatch(/^CONTAINER\s+NAME\s+CONTAINER ID\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    const row = JSON.parse(ok(["stats", "--no-stream", "--format", "json", "db"]).trim());
    expect(Object.keys(row).sort()).toEqual(["BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"]);
  });
});

describe("podman's habits", () => {
  test("tag SOURCE TARGET... adds every target; untag removes names and keeps the image", () => {
    ok(["tag", "busybox", "one:1", "two:2"]);
    expect(imagesOf("--filter", "reference=one*", "--filter", "reference=two*")).toEqual(["one:1", "two:2"]);
    ok(["untag", "busybox", "one:1"]);
    expect(imagesOf("--filter", "reference=one*")).toEqual([]);
    expect(imagesOf("--filter", "reference=two*")).toEqual(["two:2"]);
    expect(T(["untag", "busybox", "nosuch:1"]).code).toBe(1);
    ok(["untag", "busybox", "two:2"]);
    expect(imagesOf("--filter", "reference=two*")).toEqual([]);
    expect(imagesOf("busybox")).toEqual(["busybox:latest"]);
  });
  test("dangling=true|false, with an image untagged", () => {
    // Without names, untag removes every name of the image.
    ok(["untag", "other:old"]);
    expect(imagesOf("--filter", "dangling=true")).toEqual(["other:<none>"]);
    expect(imagesOf("--filter", "dangling=false")).toEqual(["child:1", "busybox:latest"]);
  });
  test("run --replace removes the container holding --name first; without --name it is refused", () => {
    const old = ids.db!;
    ids.db = ok(["run", "-d", "--replace", "--name", "db", "--network", "none", "busybox", "sleep", "300"]).trim();
    expect(ids.db).not.toBe(old);
    expect(ok(["ps", "-aq", "--no-trunc", "--filter", "name=^db$"])).toBe(`${ids.db}\n`);
    const r = T(["create", "--replace", "--network", "none", "busybox"]);
    expect([r.code, r.stderr.split("\n")[0]]).toEqual([125, "Error: cannot replace container without --name being set"]);
  });
  test("rm --ignore passes over missing containers; rm without arguments or with --all and names is a usage error", () => {
    expect(T(["rm", "--ignore", "nosuch"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(T(["rm", "nosuch"]).code).toBe(1);
    const none = T(["rm"]);
    expect([none.code, none.stderr.split("\n")[0]]).toEqual([1, 'Error: "tinydock rm" requires at least 1 argument.']);
    expect(T(["container", "rm"]).stderr.split("\n")[0]).toBe('Error: "tinydock container rm" requires at least 1 argument.');
    expect(T(["stop", "--all", "web"]).code).toBe(125);
  });
  test("pause -a, unpause -a, stop -a, start --all, kill -a", () => {
    ok(["pause", "-a"]);
    // db was replaced above: the newest.
    expect(names("status=paused")).toEqual(["db", "kid", "hostnet", "web"]);
    ok(["unpause", "-a"]);
    expect(names("status=paused")).toEqual([]);
    ok(["stop", "-a", "-t", "1"]);
    expect(names()).toEqual([]);
    ok(["start", "--all"]);
    // ok, bad and fresh start and end at once; the sleepers stay up.
    expect(names("name=^(db|kid|hostnet|web)$")).toEqual(["db", "kid", "hostnet", "web"]);
    ok(["kill", "-a"]);
    expect(names()).toEqual([]);
  });
  test("rm -f -t N stops with that grace first; rm -a -f removes every container", () => {
    ok(["start", "web"]);
    expect(ok(["rm", "-f", "-t", "1", "web"])).toBe("web\n");
    expect(ok(["rm", "-a", "-f"]).split("\n").filter(Boolean).length).toBe(6);
    expect(ok(["ps", "-aq"])).toBe("");
  });
});
