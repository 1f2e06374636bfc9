// A Dockerfile trying to read the host through COPY: paths above the context, symlinks in it
// pointing at host files or directories, globs reaching up. Nothing outside the context may end
// up in an image; a symlink source is copied as the link, never followed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { busyboxEnv, type BusyboxEnv } from "../helpers/busybox-env.ts";
import { tinydock } from "../helpers/cli.ts";

let bb: BusyboxEnv;
let n = 0;
const T = (args: string[]) => tinydock(bb.env, args);
const SECRET = "HOST-SECRET-CONTENT";

function context(dockerfile: string): string {
  const dir = path.join(bb.dir, `ctx-${++n}`);
  fs.mkdirSync(path.join(dir, "sub"), { recursive: true });
  fs.writeFileSync(path.join(dir, "Dockerfile"), dockerfile);
  fs.writeFileSync(path.join(dir, "sub", "ok"), "ok");
  fs.symlinkSync(path.join(bb.dir, "secret"), path.join(dir, "link-file"));
  fs.symlinkSync(bb.dir, path.join(dir, "link-dir"));
  fs.symlinkSync("../../secret", path.join(dir, "sub", "rel-link"));
  return dir;
}

beforeAll(async () => {
  bb = await busyboxEnv("td-build-adv-");
  fs.writeFileSync(path.join(bb.dir, "secret"), SECRET);
});

afterAll(async () => {
  await bb?.close();
});

/** Every file of the built image's rootfs that holds the secret (none may). */
function leaked(image: string): string {
  return T(["run", "--rm", image, "sh", "-c", `grep -rl ${SECRET} /x /copied 2>/dev/null; true`]).stdout;
}

const refused: [string, string][] = [
  ["COPY ../secret /x", "forbidden path outside the build context"],
  ["COPY sub/../../secret /x", "forbidden path outside the build context"],
  ["COPY ../* /x/", "forbidden path outside the build context"],
  ["ADD ../secret /x", "forbidden path outside the build context"],
  ["COPY link-dir/secret /x", "\"link-dir\" is a symbolic link, which a source path never follows"],
  ["COPY link-dir/* /x/", "\"link-dir\" is a symbolic link"],
];

test("paths above the context and through a symlinked directory are refused, nothing tagged", () => {
  for (const [line, want] of refused) {
    const r = T(["build", "-t", "adv-refused", context(`FROM busybox\n${line}\n`)]);
    expect(`${line}: ${r.code}`).toBe(`${line}: 1`);
    expect(r.stderr).toContain(want);
    expect(T(["image", "inspect", "adv-refused"]).code).toBe(1);
  }
  recordCases("build: COPY sources above the context or through a symlinked directory", refused.length);
});

const copied: [string, string][] = [
  ["COPY link-file /copied", `readlink /copied`],
  ["COPY link-dir /copied", `readlink /copied`],
  ["COPY sub /x/", `readlink /x/rel-link`],
  ["COPY . /x/", `readlink /x/link-file`],
  ["COPY /../link-file /copied", `readlink /copied`],
];

test("symlinks in the context are copied as links and never followed to host files", () => {
  for (const [line, check] of copied) {
    const r = T(["build", "-t", "adv-links", context(`FROM busybox\n${line}\n`)]);
    expect(`${line}: ${r.code} ${r.stderr}`).toBe(`${line}: 0 `);
    expect(T(["run", "--rm", "adv-links", "sh", "-c", check]).stdout.trim()).not.toBe("");
    expect(leaked("adv-links")).toBe("");
  }
  recordCases("build: symlinks in the context pointing at host files and directories", copied.length);
});

/**
 * Another process changes the context while the build reads it: in a tight loop it swaps (renameat2
 * RENAME_EXCHANGE, so both names always exist) a source or a directory on its path with a symlink
 * to a host file or directory holding the secret. Whatever the build reads at any moment, nothing of
 * the host may end up in the image (a build refusing the link is fine), nor even be read to hash it.
 */
test("a context changed during the build (a source or its directory swapped for a host link) never brings host files in", async () => {
  const swap = bb.helper("swap-exchange");
  const hostDir = path.join(bb.dir, "race-host");
  fs.mkdirSync(path.join(hostDir, "d"), { recursive: true });
  const tarOf = (out: string, name: string, content: string) => {
    const src = fs.mkdtempSync(path.join(bb.dir, "tarsrc-"));
    fs.writeFileSync(path.join(src, name), content);
    expect(Bun.spawnSync(["tar", "-cf", out, "-C", src, name]).exitCode).toBe(0);
  };
  tarOf(path.join(hostDir, "x.tar"), "leaked", SECRET);
  tarOf(path.join(hostDir, "d", "x.tar"), "leaked", SECRET);
  fs.writeFileSync(path.join(hostDir, "d", "f"), SECRET);
  // [the step, the name swapped, what it is swapped with, builds]
  const cases: [string, string, string, number][] = [
    ["ADD x.tar /x/", "x.tar", path.join(hostDir, "x.tar"), 8],
    ["ADD d/x.tar /x/", "d", path.join(hostDir, "d"), 8],
    // A host file hashed shows only in a build that succeeds: d a directory when checked and
    // copied, a link when hashed in between (test/adversarial/context-hash.test.ts forces that).
    ["COPY d/f /x/f", "d", path.join(hostDir, "d"), 8],
    ["COPY f /x/f", "f", path.join(hostDir, "d", "f"), 8],
  ];
  // Not even hashed for the cache: the digests kept between builds hold none of the host's files.
  const secretDigest = new Bun.CryptoHasher("sha256").update(SECRET).digest("hex");
  const digests = path.join(bb.env.root, "build-cache", "digests.json");
  const hashedSecret = () => fs.existsSync(digests) && fs.readFileSync(digests, "utf8").includes(secretDigest);
  for (const [step, name, target, rounds] of cases) {
    const dir = context(`FROM busybox\n${step}\n`);
    tarOf(path.join(dir, "x.tar"), "good", "good\n");
    fs.mkdirSync(path.join(dir, "d"));
    tarOf(path.join(dir, "d", "x.tar"), "good", "good\n");
    fs.writeFileSync(path.join(dir, "f"), "good\n");
    fs.writeFileSync(path.join(dir, "d", "f"), "good\n");
    fs.symlinkSync(target, path.join(dir, "swapped"));
    const swapper = Bun.spawn([swap, path.join(dir, name), path.join(dir, "swapped")], { stdout: "ignore", stderr: "ignore" });
    try {
      for (let i = 0; i < rounds; i++) {
        const r = T(["build", "--no-cache", "-t", "adv-race", dir]);
        expect(`${step}: ${hashedSecret()}`).toBe(`${step}: false`);
        if (r.code !== 0) {
          // Refused in one line naming the link, never a raw errno.
          expect(`${step}: ${r.stderr.trimEnd().split("\n").length} ${/symbolic link/.test(r.stderr)}`).toBe(`${step}: 1 true`);
          continue;
        }
        expect(`${step}: ${leaked("adv-race")}`).toBe(`${step}: `);
      }
    } finally {
      swapper.kill("SIGKILL");
      await swapper.exited;
    }
  }
  expect(fs.existsSync(digests)).toBe(true);
  recordCases("build: context swapped for host links while COPY and ADD read it", cases.reduce((n, c) => n + c[3], 0));
}, 600_000);
