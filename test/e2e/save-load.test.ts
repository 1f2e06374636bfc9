// `save` and `load` round trips, and their archives against podman's in both formats.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { busyboxEntries } from "../helpers/busybox.ts";
import { BINARY, cliEnv, requireBinary, tinydock, type CliEnv } from "../helpers/cli.ts";
import { onPty } from "../helpers/pty.ts";
import { newCliEnv } from "../helpers/e2e.ts";
import { buildImage, pushImage, type BuiltImage } from "../helpers/image.ts";
import { startRegistry, type TestRegistry } from "../helpers/registry.ts";

let reg: TestRegistry;
let busybox: BuiltImage;
let dir: string;
let penv: Record<string, string>;
let pod: string[];

function newEnv(): CliEnv {
  return newCliEnv(fs.mkdtempSync(path.join(dir, "env-")), reg);
}

function podman(args: string[]): string {
  const r = Bun.spawnSync([...pod, ...args], { env: { ...process.env, ...penv }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`podman ${args.join(" ")}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-saveload-"));
  reg = await startRegistry();
  busybox = await buildImage({
    layers: [{ entries: busyboxEntries() }, { entries: [{ name: "etc/motd", content: "saved and loaded\n" }], compression: "zstd" }],
    config: { Cmd: ["sh"] },
  });
  await pushImage(reg, "library/busybox", "latest", busybox);
  const conf = path.join(dir, "containers.conf");
  fs.writeFileSync(conf, `[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=1024:1024"]\nnetns = "none"\n[engine]\nruntime = "runc"\n`);
  const regs = path.join(dir, "registries.conf");
  fs.writeFileSync(regs, "unqualified-search-registries = []\n");
  penv = { CONTAINERS_CONF: conf, CONTAINERS_REGISTRIES_CONF: regs };
  pod = ["podman", "--root", path.join(dir, "proot"), "--runroot", path.join(dir, "prunroot")];
});

afterAll(async () => {
  if (pod) Bun.spawnSync([...pod, "system", "reset", "-f"], { env: { ...process.env, ...penv } });
  await reg?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

for (const format of ["docker-archive", "oci-archive"] as const) {
  test(`save --format ${format}, load into a fresh root, run; podman loads it and tinydock loads podman's`, () => {
    const a = newEnv();
    expect(tinydock(a, ["pull", "-q", "busybox"]).code).toBe(0);
    const file = path.join(dir, `${format}.tar`);
    expect(tinydock(a, ["save", "--format", format, "-o", file, "busybox"])).toEqual({ code: 0, stdout: "", stderr: "" });
    const b = newEnv();
    expect(tinydock(b, ["load", "-i", file])).toEqual({ code: 0, stdout: "Loaded image: busybox:latest\n", stderr: "" });
    expect(tinydock(b, ["run", "--rm", "--network", "none", "busybox", "cat", "/etc/motd"]).stdout).toBe("saved and loaded\n");
    expect(JSON.parse(tinydock(b, ["image", "inspect", "busybox"]).stdout)[0].Id).toBe(busybox.configDigest);

    expect(podman(["load", "-i", file])).toMatch(/Loaded image: .*busybox:latest/);
    expect(podman(["run", "--rm", "busybox:latest", "cat", "/etc/motd"])).toBe("saved and loaded\n");
    const theirs = path.join(dir, `podman-${format}.tar`);
    podman(["save", "--format", format, "-o", theirs, "busybox:latest"]);
    const c = newEnv();
    const loaded = tinydock(c, ["load", "-i", theirs]);
    expect(loaded.stderr).toBe("");
    expect(loaded.stdout).toMatch(/^Loaded image: (localhost\/|docker\.io\/library\/)?busybox:latest\n$/);
    const name = loaded.stdout.slice("Loaded image: ".length).trim();
    expect(tinydock(c, ["run", "--rm", "--network", "none", name, "cat", "/etc/motd"]).stdout).toBe("saved and loaded\n");
    podman(["rmi", "-a", "-f"]);
  }, 180_000);
}

test("save to stdout streams the same archive; gzip-compressed input loads; an image saved by id", async () => {
  const a = newEnv();
  expect(tinydock(a, ["pull", "-q", "busybox"]).code).toBe(0);
  const piped = Bun.spawnSync(["sh", "-c", `"$0" save busybox | gzip -1 > "$1"`, path.resolve("tinydock"), path.join(dir, "s.tar.gz")], {
    env: { ...process.env, TINYDOCK_ROOT: a.root, TINYDOCK_CONFIG: a.config, DOCKER_CONFIG: a.dockerConfig },
  });
  expect(piped.exitCode).toBe(0);
  const b = newEnv();
  const r = Bun.spawnSync(["sh", "-c", `"$0" load < "$1"`, path.resolve("tinydock"), path.join(dir, "s.tar.gz")], {
    env: { ...process.env, TINYDOCK_ROOT: b.root, TINYDOCK_CONFIG: b.config, DOCKER_CONFIG: b.dockerConfig },
  });
  expect(r.stderr.toString() + r.stdout.toString()).toBe("Loaded image: busybox:latest\n");
  expect(tinydock(b, ["images", "-q"]).stdout).toBe(`${busybox.configDigest.slice(7, 19)}\n`);
  const id = tinydock(b, ["save", "-o", path.join(dir, "by-id.tar"), busybox.configDigest.slice(7, 19)]);
  expect(id.code).toBe(0);
}, 120_000);

/** A tinydock build of a COPY and WORKDIR on busybox in env `a`, tagged with `tags`. */
function buildOn(a: CliEnv, tags: string[]): string {
  const ctx = fs.mkdtempSync(path.join(dir, "ctx-"));
  fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM busybox\nCOPY f /w/f\nWORKDIR /w/made\nCMD [\"cat\", \"/w/f\"]\n");
  fs.writeFileSync(path.join(ctx, "f"), "built here\n");
  const r = tinydock(a, ["build", "-q", ...tags.flatMap((t) => ["-t", t]), ctx]);
  expect(`${r.code} ${r.stderr}`).toBe("0 ");
  return r.stdout.trim();
}

test("save of several images, one built: manifest.json and repositories as docker load reads them; podman loads and runs the built one", () => {
  const a = newEnv();
  expect(tinydock(a, ["pull", "-q", "busybox"]).code).toBe(0);
  const id = buildOn(a, ["built:v1", "built:v2"]);
  const file = path.join(dir, "several.tar");
  expect(tinydock(a, ["save", "-o", file, "busybox", "built:v1", "built:v2"])).toEqual({ code: 0, stdout: "", stderr: "" });
  const out = fs.mkdtempSync(path.join(dir, "several-"));
  expect(Bun.spawnSync(["tar", "-xf", file, "-C", out]).exitCode).toBe(0);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as { Config: string; RepoTags: string[]; Layers: string[] }[];
  expect(manifest.map((m) => [m.Config, m.RepoTags])).toEqual([
    [`${busybox.configDigest.slice(7)}.json`, ["busybox:latest"]],
    [`${id.slice(7)}.json`, ["built:v1", "built:v2"]],
  ]);
  for (const m of manifest) {
    // What docker load checks: each Layers entry, in order, hashes to the config's diff_ids.
    const config = JSON.parse(fs.readFileSync(path.join(out, m.Config), "utf8"));
    expect(m.Layers.map((l) => `sha256:${new Bun.CryptoHasher("sha256").update(fs.readFileSync(path.join(out, l))).digest("hex")}`)).toEqual(config.rootfs.diff_ids);
    expect(m.Layers.length).toBe(config.rootfs.diff_ids.length);
  }
  const top = (i: number) => path.dirname(manifest[i]!.Layers.at(-1)!);
  expect(JSON.parse(fs.readFileSync(path.join(out, "repositories"), "utf8"))).toEqual({ busybox: { latest: top(0) }, built: { v1: top(1), v2: top(1) } });

  expect(podman(["load", "-i", file])).toMatch(/Loaded image: .*built:v1/);
  expect(podman(["run", "--rm", "built:v2"])).toBe("built here\n");
  expect(podman(["run", "--rm", "built:v1", "pwd"])).toBe("/w/made\n");
  podman(["rmi", "-a", "-f"]);
}, 180_000);

test("save of a built layer whose record holds a wrong size (stores from before built layers recorded their tar size)", () => {
  const a = newEnv();
  expect(tinydock(a, ["pull", "-q", "busybox"]).code).toBe(0);
  const id = buildOn(a, ["forged"]);
  // As such stores recorded it: the size of the files' content, not of the tar.
  const recordFile = path.join(a.root, "images", `${id.slice(7)}.json`);
  const record = JSON.parse(fs.readFileSync(recordFile, "utf8"));
  for (const l of record.layers.slice(-2)) l.unpackedSize = 11;
  fs.writeFileSync(recordFile, JSON.stringify(record));
  const file = path.join(dir, "forged.tar");
  expect(tinydock(a, ["save", "-o", file, "forged"])).toEqual({ code: 0, stdout: "", stderr: "" });
  const b = newEnv();
  expect(tinydock(b, ["load", "-i", file]).stdout).toBe("Loaded image: forged:latest\n");
  expect(tinydock(b, ["run", "--rm", "--network", "none", "forged"]).stdout).toBe("built here\n");
}, 120_000);

test("load with a terminal as STDIN and no -i: Docker's one line and exit 1, not a wait for a tar typed in", () => {
  const a = newEnv();
  const r = onPty([BINARY, "load"], [], cliEnv(a), 5000);
  expect(r.code).toBe(1);
  expect(r.out).toBe("Error: requested load from stdin, but stdin is empty\n");
});
