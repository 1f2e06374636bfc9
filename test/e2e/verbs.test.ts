// Docker verbs as a user runs them: volume create/ls/inspect/rm/prune, version, info, system df,
// history, restart, container/image exists and the `container <verb>` spellings. The engine runs
// in a network namespace of this file's own; everything made here is removed at the end.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { tinydock, type CliEnv } from "../helpers/cli.ts";
import { busyboxEntries } from "../helpers/busybox.ts";
import { containerIds, startE2e, type E2e } from "../helpers/e2e.ts";
import { buildImage } from "../helpers/image.ts";
import type { TestRegistry } from "../helpers/registry.ts";

let e: E2e | undefined;
let reg: TestRegistry;
let env: CliEnv;
let dir: string;
let T: E2e["T"];
const ok = (args: string[]): string => {
  const r = T(args);
  if (r.code !== 0) throw new Error(`tinydock ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};
const seenIds = new Set<string>();
const idOf = (ref: string) => {
  const id = ok(["inspect", "-f", "{{.Id}}", ref]).trim();
  seenIds.add(id);
  return id;
};

beforeAll(async () => {
  // An image with `VOLUME /data` holding a file the volume is seeded with.
  const volimg = await buildImage({
    layers: [{ entries: [...busyboxEntries(), { name: "data/", type: "directory" }, { name: "data/seed", content: "from the image\n" }] }],
    config: { Volumes: { "/data": {} }, Cmd: ["sh"] },
  });
  e = await startE2e({ prefix: "td-verbs-", rootName: "tinydock-root", images: { "library/volimg": volimg } });
  ({ reg, env, dir, T } = e);
  // The registry listens on this process's loopback: pull outside the namespace.
  expect(tinydock(env, ["pull", "-q", "volimg"]).code).toBe(0);
});

afterAll(async () => {
  if (!e) return;
  const ids = containerIds(env);
  for (const i of ids) seenIds.add(i);
  if (ids.length) T(["rm", "-f", "-v", ...ids]);
  T(["system", "prune", "-f"]);
  T(["network", "prune", "-f"]);
  const veths = e.links().split("\n").filter((l) => / td[0-9a-f]{11}[@:]/.test(l));
  const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => dir && l.includes(dir));
  const cgroups: string[] = [];
  for (const h of fs.existsSync("/sys/fs/cgroup") ? fs.readdirSync("/sys/fs/cgroup") : []) {
    for (const id of seenIds) if (fs.existsSync(path.join("/sys/fs/cgroup", h, "tinydock", id))) cgroups.push(`${h}/${id}`);
  }
  await e.stop();
  expect(veths).toEqual([]);
  expect(mounts).toEqual([]);
  expect(cgroups).toEqual([]);
});

describe("volume", () => {
  test("create, ls (table, -q, filters, templates, json), inspect (JSON, --format)", () => {
    expect(ok(["volume", "create", "--label", "env=test", "--label", "team=a", "vdata"])).toBe("vdata\n");
    const anon = ok(["volume", "create"]).trim();
    expect(anon).toMatch(/^[a-f0-9]{64}$/);
    // Creating an existing name is Docker's no-op: the name again.
    expect(ok(["volume", "create", "vdata"])).toBe("vdata\n");
    const ls = ok(["volume", "ls"]).split("\n");
    expect(ls[0]).toMatch(/^DRIVER +VOLUME NAME$/);
    expect(ls).toContain("local     vdata");
    expect(ok(["volume", "ls", "-q"]).split("\n").filter(Boolean).sort()).toEqual([anon, "vdata"].sort());
    expect(ok(["volume", "ls", "-q", "--filter", "label=env=test"])).toBe("vdata\n");
    expect(ok(["volume", "ls", "-q", "--filter", "name=dat"])).toBe("vdata\n");
    expect(ok(["volume", "ls", "-q", "--filter", "dangling=true"]).split("\n").filter(Boolean).sort()).toEqual([anon, "vdata"].sort());
    expect(ok(["volume", "ls", "--filter", "name=vdata", "--format", '{{.Name}} {{.Driver}} {{.Scope}} {{.Label "team"}} {{.Labels}}'])).toBe("vdata local local a env=test,team=a\n");
    const table = ok(["volume", "ls", "--filter", "name=vdata", "--format", "table {{.Name}}\t{{.Mountpoint}}"]).split("\n");
    expect(table[0]).toMatch(/^VOLUME NAME +MOUNTPOINT$/);
    const json = ok(["volume", "ls", "--format", "json"]).trim().split("\n").map((l) => JSON.parse(l));
    expect(json.find((j) => j.Name === "vdata")).toEqual({
      Availability: "N/A",
      Driver: "local",
      Group: "N/A",
      Labels: "env=test,team=a",
      Links: "N/A",
      Mountpoint: path.join(env.root, "volumes", "vdata", "_data"),
      Name: "vdata",
      Scope: "local",
      Size: "N/A",
      Status: "N/A",
    });
    const bad = T(["volume", "ls", "--filter", "colour=red"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("invalid filter 'colour'");

    const [info] = JSON.parse(ok(["volume", "inspect", "vdata"]));
    expect(Object.keys(info)).toEqual(["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"]);
    expect(info).toMatchObject({ Driver: "local", Labels: { env: "test", team: "a" }, Name: "vdata", Options: {}, Scope: "local" });
    expect(info.CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(ok(["volume", "inspect", "--format", "{{.Name}} {{.Mountpoint}}", "vdata"])).toBe(`vdata ${path.join(env.root, "volumes", "vdata", "_data")}\n`);
    expect(JSON.parse(ok(["volume", "inspect", "--format", "json", "vdata"]).trim()).Name).toBe("vdata");
    expect(ok(["volume", "rm", anon])).toBe(`${anon}\n`);
  });

  test("errors: no such volume (inspect, rm) exits 1 with Docker's words; -f on a missing one is quiet; bad names", () => {
    const i = T(["volume", "inspect", "nosuch"]);
    expect(i.code).toBe(1);
    expect(i.stderr).toBe("Error: No such volume: nosuch\n");
    const r = T(["volume", "rm", "nosuch"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no such volume");
    expect(T(["volume", "rm", "-f", "nosuch"]).code).toBe(0);
    const b = T(["volume", "create", "bad/name"]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain("includes invalid characters for a local volume name");
    const d = T(["volume", "create", "-d", "nfs", "x1"]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain('plugin "nfs" not found');
  });

  test("a volume used by a container (running or stopped) is refused by rm, naming the container; prune keeps it", () => {
    ok(["volume", "create", "vused"]);
    ok(["run", "--name", "vuser", "-v", "vused:/data", "busybox", "sh", "-c", "echo kept > /data/f"]);
    const id = idOf("vuser");
    expect(fs.readFileSync(path.join(env.root, "volumes", "vused", "_data", "f"), "utf8")).toBe("kept\n");
    const mounts = JSON.parse(ok(["inspect", "-f", "{{json .Mounts}}", "vuser"]));
    expect(mounts[0]).toMatchObject({ Type: "volume", Name: "vused", Destination: "/data" });
    const rm = T(["volume", "rm", "vused"]);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain(`volume is in use - [${id}]`);
    expect(ok(["volume", "ls", "-q", "--filter", "dangling=false"])).toContain("vused\n");
    ok(["volume", "prune", "-f", "-a"]);
    expect(ok(["volume", "ls", "-q"])).toContain("vused\n");
    ok(["rm", "vuser"]);
    expect(ok(["volume", "rm", "vused"])).toBe("vused\n");
    expect(fs.existsSync(path.join(env.root, "volumes", "vused"))).toBe(false);
  });

  test("prune: anonymous unused volumes only, named ones with -a; Docker's report", () => {
    ok(["volume", "create", "vnamed"]);
    ok(["run", "--name", "vanon", "-v", "/anon", "busybox", "sh", "-c", "echo 123456789 > /anon/f"]);
    idOf("vanon");
    const anon = (JSON.parse(ok(["inspect", "-f", "{{json .Mounts}}", "vanon"])) as { Name: string }[])[0]!.Name;
    expect(anon).toMatch(/^[a-f0-9]{64}$/);
    ok(["rm", "vanon"]); // without -v: the anonymous volume stays, unused
    const p = ok(["volume", "prune", "-f"]);
    expect(p).toBe(`Deleted Volumes:\n${anon}\n\nTotal reclaimed space: 10B\n`);
    expect(ok(["volume", "ls", "-q"])).toContain("vnamed\n");
    // Without -f it asks, and "n" keeps everything.
    const asked = T(["volume", "prune", "-a"], "n\n");
    expect(asked.stdout).toContain("WARNING! This will remove all local volumes not used by at least one container.");
    expect(ok(["volume", "ls", "-q"])).toContain("vnamed\n");
    const all = ok(["volume", "prune", "-f", "-a", "--filter", "label!=keep"]);
    expect(all).toContain("Deleted Volumes:\n");
    expect(all).toContain("vnamed\n");
    expect(ok(["volume", "ls", "-q", "--filter", "name=vnamed"])).toBe("");
  });

  test("system prune --volumes: the anonymous volumes of the containers it removes, named ones kept", () => {
    ok(["volume", "create", "spnamed"]);
    ok(["run", "--name", "spv", "-v", "/p", "-v", "spnamed:/n", "busybox", "true"]);
    idOf("spv");
    const anon = (JSON.parse(ok(["inspect", "-f", "{{json .Mounts}}", "spv"])) as { Name: string }[])[0]!.Name;
    const out = ok(["system", "prune", "-f", "--volumes"]);
    expect(out).toContain(`Deleted Volumes:\n${anon}\n\n`);
    expect(ok(["volume", "ls", "-q"])).toContain("spnamed\n");
    expect(ok(["volume", "ls", "-q"])).not.toContain(anon);
    ok(["volume", "rm", "spnamed"]);
  });

  test("an image's VOLUME is an anonymous volume, seeded from the image; -v over it and --rm as Docker", () => {
    ok(["run", "--name", "ivol", "volimg", "sh", "-c", "cat /data/seed; echo more > /data/added"]);
    idOf("ivol");
    const [m] = JSON.parse(ok(["inspect", "-f", "{{json .Mounts}}", "ivol"]));
    expect(m).toMatchObject({ Type: "volume", Destination: "/data", Driver: "local", RW: true });
    expect(m.Name).toMatch(/^[a-f0-9]{64}$/);
    expect(fs.readFileSync(path.join(env.root, "volumes", m.Name, "_data", "seed"), "utf8")).toBe("from the image\n");
    expect(fs.readFileSync(path.join(env.root, "volumes", m.Name, "_data", "added"), "utf8")).toBe("more\n");
    expect(JSON.parse(ok(["volume", "inspect", m.Name]))[0].Name).toBe(m.Name);
    // The run's own mount of that path wins: no anonymous volume then.
    ok(["volume", "create", "ivnamed"]);
    expect(ok(["run", "--rm", "-v", "ivnamed:/data", "volimg", "cat", "/data/seed"])).toBe("from the image\n");
    // --rm takes the anonymous volumes it made.
    const before = ok(["volume", "ls", "-q"]);
    ok(["run", "--rm", "volimg", "true"]);
    expect(ok(["volume", "ls", "-q"])).toBe(before);
    // So does a detached --rm once its container has gone.
    const id = ok(["run", "-d", "--rm", "-v", "/anon2", "volimg", "true"]).trim();
    seenIds.add(id);
    for (let i = 0; i < 100 && fs.existsSync(path.join(env.root, "containers", id)); i++) Bun.sleepSync(100);
    expect(fs.existsSync(path.join(env.root, "containers", id))).toBe(false);
    expect(ok(["volume", "ls", "-q"])).toBe(before);
    ok(["rm", "ivol"]);
    expect(ok(["volume", "prune", "-f"])).toContain(`${m.Name}\n`);
    ok(["volume", "rm", "ivnamed"]);
  });
});

describe("version and info", () => {
  test("version: Client and Server sections, Go templates and json", () => {
    const text = ok(["version"]);
    expect(text).toMatch(/^Client:\n Version: +\S+\n API version: +1\.41\n/);
    expect(text).toContain("\nServer: ");
    expect(text).toMatch(/ OS\/Arch: +linux\/(amd64|arm64)\n/);
    const v = ok(["version", "--format", "{{.Client.Version}}|{{.Server.Version}}|{{.Client.Os}}/{{.Client.Arch}}|{{.Client.APIVersion}}"]).trim().split("|");
    expect(v[0]).toBe(v[1]!);
    expect(v[2]).toMatch(/^linux\/(amd64|arm64)$/);
    expect(v[3]).toBe("1.41");
    const json = JSON.parse(ok(["version", "--format", "json"]));
    expect(json.Client.ApiVersion).toBe("1.41");
    expect(json.Server.Components[0].Name).toBe("Engine");
    const bad = T(["version", "--format", "{{.Nope"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("Cannot parse template");
  });

  test("info: the readiness check, counts, Docker's fields, json", () => {
    const ready = T(["info", "--format", "{{.ServerVersion}}"]);
    expect(ready.code).toBe(0);
    expect(ready.stdout.trim()).toBe(ok(["version", "--format", "{{.Server.Version}}"]).trim());
    ok(["create", "--name", "infocreated", "busybox", "true"]);
    idOf("infocreated");
    const counts = ok(["info", "--format", "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}} {{.Images}} {{.Driver}} {{.CgroupDriver}} {{.OSType}}"]);
    expect(counts.trim()).toMatch(/^(\d+) 0 0 \1 2 overlay2 cgroupfs linux$/);
    const j = JSON.parse(ok(["info", "--format", "json"]));
    expect(j.DockerRootDir).toBe(env.root);
    expect(j.NCPU).toBeGreaterThan(0);
    expect(j.MemTotal).toBeGreaterThan(0);
    expect(["1", "2"]).toContain(j.CgroupVersion);
    expect(j.RegistryConfig.Mirrors).toEqual([reg.url]);
    expect(j.SecurityOptions).toContain("name=seccomp,profile=builtin");
    expect(j.Name).toBe(os.hostname());
    expect(j.ID).toBe(ok(["info", "--format", "{{.ID}}"]).trim());
    const text = ok(["system", "info"]);
    expect(text).toContain("Server:\n Containers: ");
    expect(text).toContain(" Storage Driver: overlay2\n");
    expect(text).toContain(` Docker Root Dir: ${env.root}\n`);
    expect(text).toContain(" Registry Mirrors:\n");
    ok(["rm", "infocreated"]);
  });
});

describe("system df and history", () => {
  test("system df: Docker's four lines; templates and json", () => {
    ok(["volume", "create", "dfvol"]);
    const lines = ok(["system", "df"]).trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/);
    expect(lines.slice(1).map((l) => l.split(/ {2,}/)[0])).toEqual(["Images", "Containers", "Local Volumes", "Build Cache"]);
    expect(lines[1]).toMatch(/^Images +2 +\d +\S+ +\S+ \(\d+%\)$/);
    const json = ok(["system", "df", "--format", "json"]).trim().split("\n").map((l) => JSON.parse(l));
    expect(json.map((j) => Object.keys(j).sort().join(","))).toEqual(Array(4).fill("Active,Reclaimable,Size,TotalCount,Type"));
    expect(json[2]).toMatchObject({ Type: "Local Volumes", Active: "0" });
    expect(Number(json[2].TotalCount)).toBeGreaterThanOrEqual(1);
    expect(ok(["system", "df", "--format", "{{.Type}}={{.TotalCount}}"])).toContain("Build Cache=0\n");
    const v = ok(["system", "df", "-v"]);
    expect(v).toContain("Images space usage:");
    expect(v).toContain("Local Volumes space usage:");
    expect(v).toMatch(/\ndfvol +0 +0B\n/);
    ok(["volume", "rm", "dfvol"]);
  });

  test("history / image history: newest first, <missing> below the top, -q, --no-trunc, -H=false, templates and json", () => {
    const id = ok(["images", "-q", "busybox"]).trim();
    const config = JSON.parse(ok(["image", "inspect", "busybox"]))[0];
    const rows = ok(["history", "busybox"]).trimEnd().split("\n");
    expect(rows[0]).toMatch(/^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
    const body = rows.slice(1);
    expect(body.length).toBeGreaterThanOrEqual(config.RootFS.Layers.length);
    expect(body[0]!.startsWith(id.replace(/^sha256:/, "").slice(0, 12))).toBe(true);
    for (const r of body.slice(1)) expect(r.startsWith("<missing>")).toBe(true);
    expect(ok(["image", "history", "busybox"])).toBe(ok(["history", "busybox"]));
    const q = ok(["history", "-q", "busybox"]).trim().split("\n");
    expect(q.length).toBe(body.length);
    expect(ok(["history", "-q", "--no-trunc", "busybox"]).split("\n")[0]).toMatch(/^sha256:[a-f0-9]{64}$/);
    const json = ok(["history", "--format", "json", "busybox"]).trim().split("\n").map((l) => JSON.parse(l));
    expect(Object.keys(json[0]).sort()).toEqual(["Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size"]);
    // Sizes are the layers' (unpacked), empty_layer entries 0: with -H=false they add up to the image.
    const raw = ok(["history", "-H=false", "--format", "{{.Size}}", "busybox"]).trim().split("\n").map(Number);
    expect(raw.reduce((a, b) => a + b, 0)).toBe(config.Size);
    expect(ok(["history", "--format", "table {{.ID}}\t{{.Size}}", "busybox"]).split("\n")[0]).toMatch(/^IMAGE +SIZE$/);
    const missing = T(["history", "nosuchimage"]);
    expect(missing.code).toBe(1);
  });
});

describe("restart, exists and container <verb>", () => {
  const startedAt = (ref: string) => ok(["inspect", "-f", "{{.State.StartedAt}} {{.State.Status}}", ref]).trim().split(" ");

  test("restart: a running container stops and starts again; an exited one starts; --rm survives it; errors exit 1", async () => {
    ok(["run", "-d", "--name", "rs1", "busybox", "sleep", "1000"]);
    idOf("rs1");
    const [t0, s0] = startedAt("rs1");
    expect(s0).toBe("running");
    await Bun.sleep(1100); // StartedAt has second-or-better resolution
    expect(ok(["restart", "-t", "1", "rs1"])).toBe("rs1\n");
    const [t1, s1] = startedAt("rs1");
    expect(s1).toBe("running");
    expect(t1).not.toBe(t0);
    ok(["stop", "-t", "1", "rs1"]);
    expect(startedAt("rs1")[1]).toBe("exited");
    expect(ok(["container", "restart", "rs1"])).toBe("rs1\n");
    expect(startedAt("rs1")[1]).toBe("running");
    ok(["rm", "-f", "rs1"]);

    ok(["run", "-d", "--rm", "--name", "rsrm", "busybox", "sleep", "1000"]);
    idOf("rsrm");
    expect(ok(["restart", "-t", "1", "rsrm"])).toBe("rsrm\n");
    expect(startedAt("rsrm")[1]).toBe("running");
    expect(ok(["inspect", "-f", "{{.HostConfig.AutoRemove}}", "rsrm"]).trim()).toBe("true");
    ok(["rm", "-f", "rsrm"]);

    // A --rm container whose new run ends at once still goes, as --rm asks.
    const quick = ok(["run", "-d", "--rm", "busybox", "sh", "-c", "test -f /once || { touch /once; sleep 1000; }"]).trim();
    seenIds.add(quick);
    expect(ok(["restart", "-t", "1", quick])).toBe(`${quick}\n`);
    for (let i = 0; i < 100 && fs.existsSync(path.join(env.root, "containers", quick)); i++) Bun.sleepSync(100);
    expect(fs.existsSync(path.join(env.root, "containers", quick))).toBe(false);

    const none = T(["restart", "nosuchcontainer"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("No such container: nosuchcontainer");
  });

  test("container exists / image exists: exit 0 or 1, no output", () => {
    ok(["create", "--name", "exists1", "busybox", "true"]);
    idOf("exists1");
    for (const [args, code] of [
      [["container", "exists", "exists1"], 0],
      [["container", "exists", "nosuch"], 1],
      [["image", "exists", "busybox"], 0],
      [["image", "exists", "nosuchimage:latest"], 1],
    ] as [string[], number][]) {
      const r = T(args);
      expect([args.join(" "), r.code, r.stdout, r.stderr]).toEqual([args.join(" "), code, "", ""]);
    }
    ok(["rm", "exists1"]);
  });

  test("container run/create/start/exec/port/attach spelled under `container`", () => {
    expect(ok(["container", "run", "--rm", "busybox", "echo", "-n", "hi there"])).toBe("hi there");
    const id = ok(["container", "create", "--name", "cverb", "busybox", "sleep", "1000"]).trim();
    seenIds.add(id);
    expect(ok(["container", "start", "cverb"])).toBe("cverb\n");
    expect(ok(["container", "exec", "cverb", "echo", "-n", "inside"])).toBe("inside");
    expect(T(["container", "port", "cverb"]).code).toBe(0);
    const help = ok(["container", "--help"]);
    for (const verb of ["attach", "create", "exec", "port", "restart", "run", "start", "exists", "ls", "prune"]) expect(help).toContain(`container ${verb}`);
    ok(["rm", "-f", "cverb"]);
  });
});
