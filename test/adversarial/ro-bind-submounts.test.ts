// `-v SRC:DST:ro` must be read-only all the way down: a mount under SRC (as /proc and /sys are under
// / for `-v /:/host:ro`) is read-only inside the container too, while the host's own stays
// writable. Foreground run (the static init from a memfd) and create/start (the monitor), with -v,
// --mount type=bind,readonly and a named volume with :ro. (The TinyCC-compiled init is checked the
// same way in test/integration/runtime/launch.test.ts.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { tinydock, type CliEnv } from "../helpers/cli.ts";
import { startE2e, type E2e } from "../helpers/e2e.ts";

let e: E2e | undefined;
let env: CliEnv;
let dir: string;
let host: string; // host/ with a tmpfs on host/sub
const mounted: string[] = [];

const WRITE = "touch /x/file 2>&1; touch /x/sub/file 2>&1; mkdir /x/sub/d 2>&1; :";
const EROFS = "touch: /x/file: Read-only file system\ntouch: /x/sub/file: Read-only file system\nmkdir: can't create directory '/x/sub/d': Read-only file system\n";

function mountTmpfs(at: string): void {
  fs.mkdirSync(at, { recursive: true });
  expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", at]).exitCode).toBe(0);
  mounted.push(at);
}

function hostStillWritable(sub: string): void {
  fs.writeFileSync(path.join(sub, "after"), "host\n"); // EROFS would throw
  fs.rmSync(path.join(sub, "after"));
  expect(fs.readdirSync(sub)).toEqual([]);
}

beforeAll(async () => {
  e = await startE2e({ prefix: "td-adv-robind-", rootName: "tinydock-root", netns: false });
  ({ env, dir } = e);
  host = path.join(dir, "host");
  mountTmpfs(path.join(host, "sub"));
});

afterAll(async () => {
  for (const m of mounted.reverse()) Bun.spawnSync(["umount", m]);
  await e?.stop();
});

describe("read-only binds with submounts", () => {
  test("run -v dir:/x:ro and --mount type=bind,readonly: EROFS at the top and in the submount", () => {
    for (const flags of [["-v", `${host}:/x:ro`], ["--mount", `type=bind,source=${host},target=/x,readonly`]]) {
      const r = tinydock(env, ["run", "--rm", ...flags, "busybox", "sh", "-c", WRITE]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(EROFS);
      hostStillWritable(path.join(host, "sub"));
    }
    recordCases("read-only bind with a writable submount (run)", 6);
  });

  test("create/start (the monitor's init), and a named volume with :ro", () => {
    const c = tinydock(env, ["create", "-v", `${host}:/x:ro`, "busybox", "sh", "-c", WRITE]);
    expect(c.code).toBe(0);
    const id = c.stdout.trim();
    try {
      const s = tinydock(env, ["start", "-a", id]);
      expect(s.stdout).toBe(EROFS);
    } finally {
      tinydock(env, ["rm", "-f", id]);
    }
    // A named volume: made by a first run, then a tmpfs mounted inside its data directory.
    expect(tinydock(env, ["run", "--rm", "-v", "tdrovol:/x", "busybox", "true"]).code).toBe(0);
    const sub = path.join(env.root, "volumes", "tdrovol", "_data", "sub");
    mountTmpfs(sub);
    const v = tinydock(env, ["run", "--rm", "-v", "tdrovol:/x:ro", "busybox", "sh", "-c", WRITE]);
    expect(v.stdout).toBe(EROFS);
    hostStillWritable(sub);
    hostStillWritable(path.join(host, "sub"));
    recordCases("read-only bind with a writable submount (create/start, named volume)", 6);
  });
});
