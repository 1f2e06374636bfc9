// COPY's source globs are expanded by walking the context (src/build/buildcontext.ts). Another
// process swaps, in a tight loop, a directory of the context with a symlink to a host directory:
// whatever the walk meets, no host file's name may come out of it (as a match, later hashed and
// copied, or in an error message).
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { expandSource } from "../../src/build/buildcontext.ts";
import { linuxSys } from "../../src/sys/linux.ts";
import { recordCases } from "../helpers/adversarial.ts";
import { tempDirEach } from "../helpers/tmp.ts";

const sys = linuxSys();
const HOST_NAME = "HOST-SECRET-NAME";
let dir = "";
let root = "";
let host = "";
tempDirEach("td-ctx-expand-", ["ctx", "host"], (d, c, h) => {
  [dir, root, host] = [d, c!, h!];
  fs.mkdirSync(path.join(host, HOST_NAME));
  fs.writeFileSync(path.join(host, HOST_NAME, "f"), "x");
  fs.writeFileSync(path.join(host, `${HOST_NAME}.txt`), "x");
});

function swapper(): string {
  const out = path.join(dir, "swap-exchange");
  const cc = Bun.spawnSync(["musl-gcc", "-static", "-Os", "-o", out, path.resolve(import.meta.dir, "../helpers/swap-exchange.c")], { stderr: "pipe" });
  if (cc.exitCode !== 0) throw new Error(`musl-gcc: ${cc.stderr.toString()}`);
  return out;
}

test("a directory swapped for a link to a host one while a glob is expanded never yields a host name", async () => {
  fs.mkdirSync(path.join(root, "dir1", "sub"), { recursive: true });
  fs.writeFileSync(path.join(root, "dir1", "good.txt"), "good");
  fs.writeFileSync(path.join(root, "dir1", "sub", "f"), "good");
  fs.symlinkSync(host, path.join(root, "swapped"));
  const sources = ["dir*/*", "dir1/*", "*/*.txt", "dir1/*/f", "*/*/f"];
  const swap = Bun.spawn([swapper(), path.join(root, "dir1"), path.join(root, "swapped")], { stdout: "ignore", stderr: "ignore" });
  const seen: string[] = [];
  let rounds = 0;
  try {
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      for (const src of sources) {
        rounds++;
        try {
          seen.push(...expandSource(sys, { root, ignore: [] }, src));
        } catch (err) {
          seen.push((err as Error).message);
        }
      }
    }
  } finally {
    swap.kill("SIGKILL");
    await swap.exited;
  }
  expect(seen.filter((s) => s.includes(HOST_NAME))).toEqual([]);
  // The race was run both ways: the good names were seen.
  expect(seen.some((s) => s.includes("good.txt"))).toBe(true);
  recordCases("build: glob expansion while a context directory is swapped for a host link", rounds);
}, 20000);
