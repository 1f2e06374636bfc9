// RunPlan.joinNamespaces on the real kernel (root): a container joins a network namespace made by
// `ip netns add` (as network attach's netns files are joined) and an ipc/uts namespace of another
// process, and does not get fresh ones for them. Everything is undone in afterAll/finally.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { SyscallError } from "../../../src/errors.ts";
import { mountsUnder, overlayMount } from "../../../src/rootfs/mount.ts";
import { launch } from "../../../src/runtime/launch.ts";
import type { RunPlan } from "../../../src/runtime/plan.ts";
import { linuxSys } from "../../../src/sys/linux.ts";
import { busyboxLowerRoot } from "../../helpers/busybox.ts";
import { testPlan } from "../../helpers/plan.ts";

const sys = linuxSys();
let dir: string;
let n = 0;

function plan(over: Partial<RunPlan>): RunPlan {
  const c = path.join(dir, "c", String(++n));
  for (const d of ["rootfs", "upper", "work"]) fs.mkdirSync(path.join(c, d), { recursive: true });
  const rootfsPath = path.join(c, "rootfs");
  return testPlan({
    rootfs: overlayMount({ lowers: ["busybox"], upper: path.join(c, "upper"), work: path.join(c, "work"), target: rootfsPath, root: dir, emptyLower: "empty" }),
    rootfsPath,
    ...over,
  });
}

async function sh(script: string, over: Partial<RunPlan>): Promise<{ code: number; out: string }> {
  const file = path.join(dir, `out-${++n}`);
  const fd = fs.openSync(file, "w+");
  try {
    const c = await launch(sys, plan({ args: ["sh", "-c", script], stdio: [-1, fd, fd], ...over }));
    const { exitCode } = await c.exited;
    return { code: exitCode, out: fs.readFileSync(file, "utf8") };
  } finally {
    fs.closeSync(fd);
  }
}

const inode = (p: string): string => String(fs.statSync(p).ino);

beforeAll(() => {
  dir = fs.mkdtempSync("/tmp/tinydock-joinns-");
  busyboxLowerRoot(dir, ["sh", "readlink", "hostname", "ip", "cat"]);
});

afterEach(() => {
  expect(mountsUnder(dir)).toEqual([]);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("joinNamespaces", () => {
  test("joins a network namespace made by `ip netns add`", async () => {
    const name = `tdt-${crypto.randomBytes(4).toString("hex")}`;
    expect(Bun.spawnSync(["ip", "netns", "add", name]).exitCode).toBe(0);
    try {
      const nsPath = `/run/netns/${name}`;
      const want = inode(nsPath);
      const r = await sh("readlink /proc/self/ns/net; ip -o link show lo", { joinNamespaces: [{ ns: "net", path: nsPath }] });
      expect(r.code).toBe(0);
      expect(r.out.split("\n")[0]).toBe(`net:[${want}]`);
      expect(want).not.toBe(inode("/proc/self/ns/net"));
      // Joined, not created: the init left the netns's lo as it found it (down).
      expect(r.out).toMatch(/^1: lo: <LOOPBACK> /m);
    } finally {
      Bun.spawnSync(["ip", "netns", "delete", name]);
    }
  });

  test("joins the uts and ipc namespaces of another process, keeps its hostname", async () => {
    const holder = Bun.spawn(["unshare", "--uts", "--ipc", "sh", "-c", "hostname other-box; exec sleep 30"], { stdout: "ignore", stderr: "ignore" });
    try {
      let uts = "";
      for (let i = 0; i < 100 && (!uts || uts === fs.readlinkSync("/proc/self/ns/uts")); i++) {
        await Bun.sleep(20);
        try {
          uts = fs.readlinkSync(`/proc/${holder.pid}/ns/uts`);
        } catch {}
      }
      await Bun.sleep(50);
      const r = await sh("readlink /proc/self/ns/uts; readlink /proc/self/ns/ipc; hostname", {
        joinNamespaces: [
          { ns: "uts", path: `/proc/${holder.pid}/ns/uts` },
          { ns: "ipc", path: `/proc/${holder.pid}/ns/ipc` },
        ],
      });
      expect(r.out).toBe(`${uts}\n${fs.readlinkSync(`/proc/${holder.pid}/ns/ipc`)}\nother-box\n`);
    } finally {
      holder.kill(9);
      await holder.exited;
    }
  });

  test("a missing namespace file is a typed error naming it", async () => {
    const p = path.join(dir, "no-such-netns");
    const err = await launch(sys, plan({ joinNamespaces: [{ ns: "net", path: p }] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as Error).message).toContain(`open net namespace ${p}`);
    expect((err as Error).message).toContain("ENOENT");
  });
});
