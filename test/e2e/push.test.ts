// `tinydock push` against Debian's docker-registry, checked by skopeo, umoci and podman.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { busyboxEntries } from "../helpers/busybox.ts";
import { requireBinary, tinydock, type CliEnv } from "../helpers/cli.ts";
import { newCliEnv } from "../helpers/e2e.ts";
import { buildImage, pushImage, type BuiltImage } from "../helpers/image.ts";
import { startRegistry, type TestRegistry } from "../helpers/registry.ts";

let source: TestRegistry;
let target: TestRegistry;
let secure: TestRegistry;
let busybox: BuiltImage;
let dir: string;

function newEnv(): CliEnv {
  return newCliEnv(fs.mkdtempSync(path.join(dir, "env-")), source);
}

function run(cmd: string[], env: Record<string, string> = {}): string {
  const r = Bun.spawnSync(cmd, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** Every path under `root` with its type and, for files, content hash. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const p = path.join(rel, name);
      const st = fs.lstatSync(path.join(root, p));
      if (st.isDirectory()) {
        out.push(`${p}/`);
        walk(p);
      } else if (st.isSymbolicLink()) out.push(`${p} -> ${fs.readlinkSync(path.join(root, p))}`);
      else out.push(`${p} ${(st.mode & 0o7777).toString(8)} ${new Bun.CryptoHasher("sha256").update(fs.readFileSync(path.join(root, p))).digest("hex")}`);
    }
  };
  walk("");
  return out;
}

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-push-"));
  [source, target, secure] = await Promise.all([startRegistry(), startRegistry(), startRegistry({ htpasswd: { user: "bob", password: "hunter2" } })]);
  const big = crypto.getRandomValues(new Uint8Array(40 << 20)); // past the one-PUT size: chunked
  busybox = await buildImage({ layers: [{ entries: busyboxEntries() }, { entries: [{ name: "data/big", content: big }] }], config: { Cmd: ["sh"] } });
  await pushImage(source, "library/busybox", "latest", busybox);
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop(), secure?.stop()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("push uploads, then finds the layers there, then mounts them into another repository; skopeo, umoci and podman agree", async () => {
  const env = newEnv();
  expect(tinydock(env, ["pull", "-q", "busybox"]).code).toBe(0);
  const name = `${target.host}/team/app`;
  expect(tinydock(env, ["tag", "busybox", `${name}:v1`]).code).toBe(0);
  const ids = busybox.layers.map((l) => l.diffId.slice(7, 19));

  const first = tinydock(env, ["push", `${name}:v1`]);
  expect(first.stderr).toBe("");
  // Layers are pushed concurrently: their result lines come in any order, the digest line last.
  const lines = (out: string) => out.split("\n").filter(Boolean);
  expect(lines(first.stdout).slice(0, 1 + ids.length)).toEqual([`The push refers to repository [${name}]`, ...ids.map((i) => `${i}: Preparing`)]);
  expect(lines(first.stdout).slice(1 + ids.length, -1).sort()).toEqual(ids.map((i) => `${i}: Pushed`).sort());
  expect(first.stdout).toEndWith(`v1: digest: ${busybox.manifestDigest} size: ${busybox.manifest.length}\n`);
  const again = tinydock(env, ["push", `${name}:v1`]);
  for (const i of ids) expect(again.stdout).toContain(`${i}: Layer already exists\n`);
  expect(again.stdout).toEndWith(`v1: digest: ${busybox.manifestDigest} size: ${busybox.manifest.length}\n`);
  expect(tinydock(env, ["tag", "busybox", `${target.host}/other/copy:v2`]).code).toBe(0);
  const mounted = tinydock(env, ["image", "push", `${target.host}/other/copy:v2`]);
  // Layers are pushed concurrently: their lines come in any order.
  for (const i of ids) expect(mounted.stdout).toContain(`${i}: Mounted from team/app\n`);
  expect(mounted.code).toBe(0);

  // What the registry keeps is the stored blobs byte for byte (the 40 MiB layer went in chunks).
  for (const l of busybox.layers) {
    const bytes = await (await fetch(`${target.url}/v2/team/app/blobs/${l.digest}`)).bytes();
    expect(`sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`).toBe(l.digest);
    expect(bytes.length).toBe(l.size);
  }
  const inspect = JSON.parse(run(["skopeo", "inspect", "--tls-verify=false", `docker://${target.host}/other/copy:v2`]));
  expect(inspect.Digest).toBe(busybox.manifestDigest);
  expect(inspect.Layers).toEqual(busybox.layers.map((l) => l.digest));
  const oci = path.join(dir, "oci");
  run(["skopeo", "copy", "--src-tls-verify=false", `docker://${name}:v1`, `oci:${oci}:v1`]);
  const bundle = path.join(dir, "bundle");
  run(["umoci", "unpack", "--rootless", "--image", `${oci}:v1`, bundle]);
  const mount = tinydock(env, ["image", "mount", "busybox"]).stdout.trim();
  try {
    expect(tree(path.join(bundle, "rootfs"))).toEqual(tree(mount));
  } finally {
    tinydock(env, ["image", "unmount", "busybox"]);
  }

  const conf = path.join(dir, "containers.conf");
  fs.writeFileSync(conf, `[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=1024:1024"]\nnetns = "none"\n[engine]\nruntime = "runc"\n`);
  const regs = path.join(dir, "registries.conf");
  fs.writeFileSync(regs, `unqualified-search-registries = []\n[[registry]]\nlocation = "${target.host}"\ninsecure = true\n`);
  const penv = { CONTAINERS_CONF: conf, CONTAINERS_REGISTRIES_CONF: regs };
  const pod = ["podman", "--root", path.join(dir, "proot"), "--runroot", path.join(dir, "prunroot")];
  try {
    expect(run([...pod, "run", "--rm", `${name}:v1`, "sh", "-c", "echo from podman; wc -c < /data/big"], penv)).toBe(`from podman\n${40 << 20}\n`);
  } finally {
    Bun.spawnSync([...pod, "system", "reset", "-f"], { env: { ...process.env, ...penv } });
  }
}, 180_000);

test("push to a registry with basic auth: refused without login in one line, pushed after it", () => {
  const env = newEnv();
  expect(tinydock(env, ["pull", "-q", "busybox"]).code).toBe(0);
  const name = `${secure.host}/bob/app:v1`;
  expect(tinydock(env, ["tag", "busybox", name]).code).toBe(0);
  const denied = tinydock(env, ["push", name]);
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/^Error: Cannot push "127\.0\.0\.1:\d+\/bob\/app": .*(denied|login).*\n$/);
  expect(tinydock(env, ["login", "-u", "bob", "--password-stdin", secure.host], "hunter2\n").code).toBe(0);
  const pushed = tinydock(env, ["push", name]);
  expect(pushed.stderr).toBe("");
  expect(pushed.stdout).toEndWith(`v1: digest: ${busybox.manifestDigest} size: ${busybox.manifest.length}\n`);
  const inspect = JSON.parse(run(["skopeo", "inspect", "--tls-verify=false", "--creds", "bob:hunter2", `docker://${name}`]));
  expect(inspect.Digest).toBe(busybox.manifestDigest);
}, 120_000);

test("push errors are one line naming what failed, exit 1", () => {
  const env = newEnv();
  expect(tinydock(env, ["push", `${target.host}/nothing:v1`])).toEqual({
    code: 1,
    stdout: `The push refers to repository [${target.host}/nothing]\n`,
    stderr: `Error: An image does not exist locally with the tag: ${target.host}/nothing\n`,
  });
  expect(tinydock(env, ["pull", "-q", "busybox"]).code).toBe(0);
  expect(tinydock(env, ["tag", "busybox", "127.0.0.1:1/app:v1"]).code).toBe(0);
  const down = tinydock(env, ["push", "127.0.0.1:1/app:v1"]);
  expect(down.code).toBe(1);
  expect(down.stderr).toMatch(/^Error: Cannot check blob sha256:[a-f0-9]{64} in 127\.0\.0\.1:1\/app: .*refused.*\n$/);
}, 120_000);
