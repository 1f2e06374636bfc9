// The compiled binary as a user runs it: pull through a mirror, images, tag, rmi, login, exit
// codes, SIGKILL in the middle of a pull, and concurrent pulls into one root.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { busyboxEntries } from "../helpers/busybox.ts";
import { BINARY, cliEnv, requireBinary, spawnTinydock, tinydock, type CliEnv } from "../helpers/cli.ts";
import { newCliEnv } from "../helpers/e2e.ts";
import { buildImage, pushImage, type BuiltImage } from "../helpers/image.ts";
import { startRegistry, type TestRegistry } from "../helpers/registry.ts";

let reg: TestRegistry;
let secure: TestRegistry;
let busybox: BuiltImage;
let big: BuiltImage;
const dirs: string[] = [];

function newEnv(mirror = true): CliEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-e2e-"));
  dirs.push(dir);
  return newCliEnv(dir, mirror ? reg : undefined);
}

beforeAll(async () => {
  requireBinary();
  reg = await startRegistry();
  secure = await startRegistry({ htpasswd: { user: "bob", password: "hunter2" } });
  busybox = await buildImage({ layers: [{ entries: busyboxEntries() }], config: { Cmd: ["sh"] } });
  await pushImage(reg, "library/busybox", "latest", busybox);
  await pushImage(secure, "library/busybox", "latest", busybox, { user: "bob", password: "hunter2" });
  // Three incompressible layers: big enough that a SIGKILL lands mid-pull.
  const layer = (n: number) => ({ entries: [{ name: `blob${n}`, content: crypto.getRandomValues(new Uint8Array(24 << 20)) }] });
  big = await buildImage({ layers: [layer(1), layer(2), layer(3)] });
  await pushImage(reg, "big/image", "v1", big);
});

afterAll(async () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  await reg?.stop();
  await secure?.stop();
});

describe("tinydock pull / images / rmi", () => {
  test("pull busybox through the mirror, as docker prints it", () => {
    const env = newEnv();
    const r = tinydock(env, ["pull", "busybox"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Using default tag: latest\nlatest: Pulling from library/busybox\n");
    expect(r.stdout).toContain(`Digest: ${busybox.manifestDigest}\nStatus: Downloaded newer image for busybox:latest\ndocker.io/library/busybox:latest\n`);
    const again = tinydock(env, ["pull", "-q", "busybox"]);
    expect(again).toEqual({ code: 0, stdout: "docker.io/library/busybox:latest\n", stderr: "" });
    const images = tinydock(env, ["images"]);
    expect(images.stdout).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+[a-f0-9]{12}\s+\S.*ago\s+\d/);
    expect(tinydock(env, ["images", "-q"]).stdout).toBe(`${busybox.configDigest.slice(7, 19)}\n`);
    const json = JSON.parse(tinydock(env, ["images", "--format", "json"]).stdout);
    expect(json).toMatchObject({ Repository: "busybox", Tag: "latest", ID: busybox.configDigest.slice(7, 19) });
    const inspect = JSON.parse(tinydock(env, ["image", "inspect", "busybox"]).stdout);
    expect(inspect[0]).toMatchObject({ Id: busybox.configDigest, RepoTags: ["busybox:latest"], Os: "linux" });
    expect(tinydock(env, ["tag", "busybox", "mine:v1"]).code).toBe(0);
    expect(tinydock(env, ["rmi", "mine:v1"]).stdout).toBe("Untagged: mine:v1\n");
    const rmi = tinydock(env, ["rmi", "busybox"]);
    expect(rmi.stdout).toBe(`Untagged: busybox:latest\nDeleted: ${busybox.configDigest}\n`);
    expect(tinydock(env, ["images", "-q"]).stdout).toBe("");
  });

  test("a pull of an image not in the store re-executes once with mimalloc's purge delay off; a pull of one it has does not", () => {
    const env = newEnv();
    const execs = (name: string): string[] => {
      const trace = path.join(env.root, `../${name}.strace`);
      const r = Bun.spawnSync(["strace", "-f", "-qq", "-v", "-s", "256", "-e", "trace=execve", "-o", trace, BINARY, "pull", "-q", "busybox"], { env: cliEnv(env), stdout: "pipe", stderr: "pipe" });
      expect(r.stdout.toString()).toBe("docker.io/library/busybox:latest\n");
      return fs.readFileSync(trace, "utf8").split("\n").filter((l) => l.includes(`execve("${BINARY}"`));
    };
    const cold = execs("cold");
    expect(cold.length).toBe(2);
    expect(cold[0]).not.toContain("MIMALLOC_PURGE_DELAY");
    expect(cold[1]).toContain('"MIMALLOC_PURGE_DELAY=-1"');
    expect(execs("warm").length).toBe(1);
  });

  test("image mount prints a read-only rootfs; unmount removes it", () => {
    const env = newEnv();
    expect(tinydock(env, ["pull", "-q", "busybox"]).code).toBe(0);
    const m = tinydock(env, ["image", "mount", "busybox"]);
    expect(m.code).toBe(0);
    const dir = m.stdout.trim();
    expect(fs.existsSync(path.join(dir, "bin/busybox"))).toBe(true);
    expect(() => fs.writeFileSync(path.join(dir, "x"), "x")).toThrow(/EROFS|read-only/);
    expect(tinydock(env, ["rmi", "busybox"]).code).toBe(1);
    expect(tinydock(env, ["image", "unmount", "busybox"]).code).toBe(0);
    expect(fs.existsSync(dir)).toBe(false);
  });

  const errors: [string, string[], number, RegExp][] = [
    ["bad reference", ["pull", "Bad/Name"], 1, /^Error: invalid reference format: repository name \(Name\) must be lowercase\n$/],
    ["missing tag", ["pull", "busybox:nope"], 1, /^Error: .*busybox:nope.*not found/],
    ["unknown image", ["rmi", "nothere"], 1, /^Error: No such image: nothere:latest\n$/],
    ["unknown flag", ["images", "--bogus"], 125, /^Error: unknown flag: --bogus\nSee 'tinydock images --help'.\n$/],
    ["unknown command", ["bogus"], 1, /^Error: 'bogus' is not a tinydock command.\n/],
    ["missing argument", ["pull"], 1, /^Error: "tinydock pull" requires exactly 1 argument.\n/],
    ["bad platform", ["pull", "--platform", "linux/amd64/v1/x", "busybox"], 1, /^Error: Cannot parse platform/],
  ];
  for (const [name, args, code, pattern] of errors) {
    test(`${name}: one line on stderr, exit ${code}`, () => {
      const r = tinydock(newEnv(), args);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toContain("    at ");
    });
  }

  test("login stores credentials in Docker's config.json; a wrong password is refused", () => {
    const env = newEnv(false);
    const bad = tinydock(env, ["login", secure.host, "-u", "bob", "--password-stdin"], "nope\n");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: .*\n$/);
    expect(fs.existsSync(path.join(env.dockerConfig, "config.json"))).toBe(false);
    const ok = tinydock(env, ["login", secure.host, "-u", "bob", "--password-stdin"], "hunter2\n");
    expect(ok).toMatchObject({ code: 0, stdout: "Login Succeeded\n" });
    const cfg = JSON.parse(fs.readFileSync(path.join(env.dockerConfig, "config.json"), "utf8"));
    expect(cfg.auths[secure.host].auth).toBe(btoa("bob:hunter2"));
    expect(fs.statSync(path.join(env.dockerConfig, "config.json")).mode & 0o777).toBe(0o600);
    expect(tinydock(env, ["pull", "-q", `${secure.host}/library/busybox`]).code).toBe(0);
    expect(tinydock(env, ["logout", secure.host]).code).toBe(0);
  });
});

describe("crash consistency and concurrency", () => {
  test("SIGKILL at any moment of a pull leaves nothing half-visible; the next pull completes", async () => {
    const env = newEnv();
    const name = `${reg.host}/big/image:v1`;
    for (const delay of [5, 40, 80, 150, 300]) {
      const p = spawnTinydock(env, ["pull", "-q", name]);
      await Bun.sleep(delay);
      p.kill("SIGKILL");
      await p.exited;
      const listed = tinydock(env, ["images", "-q"]).stdout.trim();
      if (listed) {
        // Visible means whole: every layer is there and mountable. Killed between the image record
        // and its tag, the image is listed untagged (<none>, as Docker's dangling ones): use its id.
        const id = listed.split("\n")[0]!;
        const m = tinydock(env, ["image", "mount", id]);
        expect({ delay, ...m }).toMatchObject({ delay, code: 0 });
        for (const n of [1, 2, 3]) expect(fs.statSync(path.join(m.stdout.trim(), `blob${n}`)).size).toBe(24 << 20);
        expect(tinydock(env, ["image", "unmount", id]).code).toBe(0);
        expect(tinydock(env, ["rmi", "-f", id]).code).toBe(0);
      }
    }
    const done = tinydock(env, ["pull", "-q", name]);
    expect(done).toMatchObject({ code: 0, stderr: "" });
    const layers = fs.readdirSync(path.join(env.root, "layers"));
    expect(layers.sort()).toEqual(big.layers.map((l) => l.diffId.slice(7)).sort());
    expect(fs.readdirSync(path.join(env.root, "ingest"))).toEqual([]);
  });

  test("four concurrent pulls of one image into one root all succeed, each layer stored once", async () => {
    const env = newEnv();
    const name = `${reg.host}/big/image:v1`;
    const procs = Array.from({ length: 4 }, () => spawnTinydock(env, ["pull", "-q", name]));
    const codes = await Promise.all(procs.map((p) => p.exited));
    const errs = await Promise.all(procs.map((p) => new Response(p.stderr).text()));
    expect(errs).toEqual(["", "", "", ""]);
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(fs.readdirSync(path.join(env.root, "layers")).sort()).toEqual(big.layers.map((l) => l.diffId.slice(7)).sort());
    expect(fs.readdirSync(path.join(env.root, "l")).length).toBe(3);
    expect(tinydock(env, ["images", "-q"]).stdout).toBe(`${big.configDigest.slice(7, 19)}\n`);
  });
});
