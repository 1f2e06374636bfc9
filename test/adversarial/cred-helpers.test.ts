// $DOCKER_CONFIG/config.json naming credential helpers with hostile names: "credsStore" and
// "credHelpers" entries that are paths ("../../x", "/abs/x") or plain names whose
// docker-credential-<name> sits on PATH. Docker runs docker-credential-<name> from PATH; tinydock
// runs no helper at all, so none of these may execute anything, and a pull from a registry that
// asks for a bearer token still works anonymously, with stored "auths" credentials still used.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { cliEnv, requireBinary, BINARY, type CliEnv } from "../helpers/cli.ts";
import { buildImage, type BuiltImage } from "../helpers/image.ts";
import { startFakeServer, type FakeServer } from "../unit/registry/fake-server.ts";
import { repoHandler } from "../unit/registry/fixtures.ts";

let dir: string;
let image: BuiltImage;
let server: FakeServer;
/** Authorization headers the token endpoint saw. */
const tokenAuth: (string | null)[] = [];

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-cred-helpers-"));
  image = await buildImage({ layers: [{ entries: [{ name: "f", content: "x" }] }] });
  const repo = repoHandler("helpers/app", { manifests: { v1: { body: image.manifest, type: image.manifestMediaType } }, blobs: [image.config, image.layers[0]!.blob] });
  server = startFakeServer((req, s) => {
    if (req.url.pathname === "/token") {
      tokenAuth.push(req.headers.get("authorization"));
      return { status: 200, body: JSON.stringify({ token: "t0k" }) };
    }
    if (req.headers.get("authorization") !== "Bearer t0k") {
      return { status: 401, headers: { "WWW-Authenticate": `Bearer realm="${s.url}/token",service="helpers"` } };
    }
    return repo(req, s);
  });
});
afterAll(() => {
  server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A helper program that leaves a mark when run. */
function helper(file: string, mark: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\necho ran >> ${mark}\necho '{"Username":"evil","Secret":"evil"}'\n`, { mode: 0o755 });
}

test("credential helper names, paths included, execute nothing; the pull goes on with auths or anonymously", async () => {
  const mark = path.join(dir, "ran");
  const bin = path.join(dir, "bin");
  // Every spelling a helper name could be turned into a path with.
  for (const p of ["docker-credential-evil", "docker-credential-desktop", "x/docker-credential-../../evil"]) helper(path.join(bin, p), mark);
  helper(path.join(dir, "evil"), mark);
  helper(path.join(dir, "docker-credential-abs"), mark);
  const names = ["evil", "desktop", `../../${path.basename(dir)}/evil`, path.join(dir, "evil"), "../evil", "abs/../../x", "", "a b"];
  let n = 0;
  const failures: string[] = [];
  for (const name of names) {
    for (const withAuths of [false, true]) {
      n++;
      const d = path.join(dir, `env-${n}`);
      const env: CliEnv = { root: path.join(d, "root"), config: path.join(d, "config.json"), dockerConfig: path.join(d, "docker") };
      fs.mkdirSync(env.dockerConfig, { recursive: true });
      fs.writeFileSync(env.config, "{}");
      const config: Record<string, unknown> = { credsStore: name, credHelpers: { [server.host]: name, "docker.io": name } };
      if (withAuths) config.auths = { [server.host]: { auth: Buffer.from("user:pw").toString("base64") } };
      fs.writeFileSync(path.join(env.dockerConfig, "config.json"), JSON.stringify(config));
      tokenAuth.length = 0;
      const p = Bun.spawn([BINARY, "pull", "-q", `${server.host}/helpers/app:v1`], {
        env: { ...cliEnv(env), PATH: `${bin}:${path.join(bin, "x")}:/usr/sbin:/usr/bin:/sbin:/bin` },
        stdout: "pipe",
        stderr: "pipe",
        timeout: 60_000,
      });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      const want = withAuths ? `Basic ${Buffer.from("user:pw").toString("base64")}` : null;
      if (code !== 0 || !stdout.includes("helpers/app:v1") || tokenAuth[0] !== want) {
        failures.push(`${JSON.stringify(name)} auths ${withAuths}: code ${code}, token auth ${tokenAuth[0]}, ${stderr.trim()}`);
      }
    }
  }
  recordCases("credential helper names in config.json", n);
  expect(fs.existsSync(mark) ? fs.readFileSync(mark, "utf8") : "").toBe("");
  expect(failures).toEqual([]);
}, 180_000);
