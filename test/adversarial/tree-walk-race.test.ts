// The CVE-2018-15664 class against the host walking a RUNNING container's files: `export` (its
// overlay) and `commit --pause=false` (its upper dir) read a tree the container changes meanwhile.
// The container swaps, in tight loops, a directory for a symlink to a host directory, a regular file
// for a FIFO, and a regular file for a block device node (a loop device over a temp file of this
// test); each swap is atomic (renameat2 RENAME_EXCHANGE, test/helpers/swap-exchange.c), so both
// names always exist. The host must never read a host file through the symlink, never read the device, never
// block on the FIFO, and must end normally (an entry that vanished or changed kind is skipped, as
// moby's archive skips what it cannot stat). Run in a network namespace of its own (nsenter --net).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { recordCases } from "../helpers/adversarial.ts";
import { busyboxEntries } from "../helpers/busybox.ts";
import { requireBinary, tinydock, type CliEnv, tinydockTimed, type TimedRun } from "../helpers/cli.ts";
import { attachLoop, detachLoop, mountsUnder } from "../helpers/loop.ts";
import { newCliEnv } from "../helpers/e2e.ts";
import { buildImage, pushImage } from "../helpers/image.ts";
import { startRegistry, type TestRegistry } from "../helpers/registry.ts";

let reg: TestRegistry;
let env: CliEnv;
let dir: string;
let hostTarget: string;
let loopDev = "";
const HOST_MARK = `HOSTSECRET-${crypto.randomBytes(8).toString("hex")}`;
const DEV_MARK = `LOOPDEVICE-${crypto.randomBytes(8).toString("hex")}`;
const started = new Set<string>();

function T(args: string[], timeoutMs = 30_000): TimedRun {
  return tinydockTimed(env, args, undefined, timeoutMs);
}

/** Whether `bytes` (or its gunzipped form) holds a marker. */
function leaks(bytes: Buffer): string[] {
  const found: string[] = [];
  const scan = (b: Buffer) => {
    for (const m of [HOST_MARK, DEV_MARK]) if (b.includes(m)) found.push(m);
  };
  scan(bytes);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      scan(zlib.gunzipSync(bytes));
    } catch {}
  }
  return found;
}

/** Every regular file under `root` (never following a link, never opening a node) that holds a marker; `skip`: names not entered (a running container's racing tree). */
function leaksUnder(root: string, skip: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) if (!skip.includes(n)) walk(path.join(p, n));
    else if (st.isFile() && st.size < 64 << 20 && leaks(fs.readFileSync(p)).length) out.push(p);
  };
  walk(root);
  return out;
}

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-walkrace-"));
  hostTarget = path.join(dir, "host-target");
  fs.mkdirSync(path.join(hostTarget, "secrets"), { recursive: true });
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(hostTarget, "secrets", `key${i}`), `${HOST_MARK}\n`, { mode: 0o600 });
  reg = await startRegistry();
  await pushImage(reg, "library/busybox", "latest", await buildImage({ layers: [{ entries: busyboxEntries() }], config: { Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] } }));
  env = newCliEnv(dir, reg);
  expect(tinydock(env, ["pull", "-q", "busybox"]).code).toBe(0);
  loopDev = attachLoop(path.join(dir, "loop.img"), Buffer.concat([Buffer.from(`${DEV_MARK}\n`), Buffer.alloc(1 << 20)]));
  // The swapper: per kind, two pairs of names, each pair exchanged atomically in a tight loop.
  const swap = path.join(dir, "swap-exchange");
  const cc = Bun.spawnSync(["musl-gcc", "-static", "-Os", "-o", swap, path.resolve(import.meta.dir, "../helpers/swap-exchange.c")], { stderr: "pipe" });
  if (cc.exitCode !== 0) throw new Error(`musl-gcc: ${cc.stderr.toString()}`);
  const rdev = fs.statSync(loopDev).rdev;
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  const setup = [
    "for n in 1 2; do",
    `  mkdir -p /r$n/x/secrets && for i in $(seq 0 19); do printf "%064d\\n" 0 > /r$n/x/secrets/key$i; done && ln -s ${hostTarget} /r$n/l`,
    "  echo file > /f$n && mkfifo /f$n.q",
    `  echo file > /d$n && mknod /d$n.q b ${major} ${minor}`,
    "  /swap /r$n/x /r$n/l & /swap /f$n /f$n.q & /swap /d$n /d$n.q &",
    "done",
  ].join("\n");
  const r = T(["run", "-d", "--network", "none", "--name", "swapper", "-v", `${swap}:/swap:ro`, "busybox", "sh", "-c", `${setup}\nwait`]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  started.add("swapper");
  await Bun.sleep(500);
}, 120_000);

afterAll(async () => {
  if (env) for (const n of started) T(["rm", "-f", n]);
  detachLoop(loopDev);
  await reg?.stop();
  const mounts = mountsUnder(dir);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  expect(mounts).toEqual([]);
});

describe("the host walks a running container's tree from directory fds", () => {
  test("export while the container swaps a directory for a host symlink, a file for a FIFO and a device", () => {
    const rounds = 12;
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const out = path.join(dir, `export-${i}.tar`);
      const r = T(["export", "-o", out, "swapper"]);
      times.push(r.ms);
      expect(r.timedOut).toBe(false);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(leaks(fs.readFileSync(out))).toEqual([]);
      fs.rmSync(out);
    }
    console.log(`export of a racing container: ${rounds} rounds, ${Math.min(...times).toFixed(0)}-${Math.max(...times).toFixed(0)} ms`);
    recordCases("export of a container racing symlink/FIFO/device swaps", rounds);
  }, 600_000);

  test("commit --pause=false while the container swaps: no host file or device in the layer", () => {
    const rounds = 6;
    for (let i = 0; i < rounds; i++) {
      const r = T(["commit", "--pause=false", "swapper", `snap:${i}`]);
      expect(r.timedOut).toBe(false);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    // The images' layers and blobs (not the running container's own tree, which the swapper keeps changing).
    expect(leaksUnder(env.root, ["containers"])).toEqual([]);
    recordCases("commit of a container racing symlink/FIFO/device swaps", rounds);
  }, 600_000);

  test("cp out of the racing container: no host file, no device bytes, no wait on the FIFO", () => {
    const rounds = 10;
    const outcomes = new Map<string, number>();
    for (let i = 0; i < rounds; i++) {
      const dest = path.join(dir, `cp-${i}`);
      fs.mkdirSync(dest);
      for (const src of ["/r1", "/r2/.", "/f1", "/d2"]) {
        const r = T(["cp", `swapper:${src}`, dest]);
        expect(r.timedOut).toBe(false);
        // A name caught as a FIFO or device may be refused, in one line; nothing else.
        if (r.code !== 0) expect(r.stderr.trim().split("\n")).toHaveLength(1);
        const k = `${src} ${r.code === 0 ? "ok" : "refused"}`;
        outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
      }
      expect(leaksUnder(dest, [])).toEqual([]);
      fs.rmSync(dest, { recursive: true, force: true });
    }
    console.log(`cp of a racing container: ${[...outcomes].map(([k, n]) => `${k}: ${n}`).join(", ")}`);
    recordCases("cp out of a container racing symlink/FIFO/device swaps", rounds * 4);
  }, 600_000);
});
