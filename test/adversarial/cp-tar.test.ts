// `cp - CONTAINER:DIR` with hostile archives and hostile containers. The archive names "../", absolute
// paths, a symlink and then a file through it, hard links out, device nodes, sizes past what it holds;
// the container plants symlinks to host paths, FIFOs and device nodes where the archive writes, and
// DIR may be a running container's /proc. Every case must end within a bounded time, with Docker's
// answer or one clear line, and leave the host as it was: its files, its devices, its sysctls.
// TimedRun in a network namespace of its own (nsenter --net).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { busyboxEntries } from "../helpers/busybox.ts";
import { requireBinary, tinydock, type CliEnv, tinydockTimed, type TimedRun } from "../helpers/cli.ts";
import { attachLoop, detachLoop, mountsUnder } from "../helpers/loop.ts";
import { newCliEnv } from "../helpers/e2e.ts";
import { buildImage, pushImage } from "../helpers/image.ts";
import { startRegistry, type TestRegistry } from "../helpers/registry.ts";
import { buildTar, concatBytes, END_OF_ARCHIVE, paxHeader, rawBody, rawHeader, type TarEntry } from "../helpers/tar.ts";

let reg: TestRegistry;
let env: CliEnv;
let dir: string;
/** A host directory no archive may touch: symlinks in archives and containers point at it. */
let hostTarget: string;
let loopDev = "";
let loopFile = "";
const started = new Set<string>();

function T(args: string[], stdin?: Uint8Array, timeoutMs = 20_000): TimedRun {
  return tinydockTimed(env, args, stdin, timeoutMs);
}

/** `cp - C:DIR` of `tar`: it ends in time; a refusal is one line and exit 1. */
function extract(c: string, dest: string, tar: Uint8Array): TimedRun {
  const r = T(["cp", "-", `${c}:${dest}`], tar);
  expect(r.timedOut).toBe(false);
  if (r.code !== 0) {
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toStartWith("Error: ");
  }
  return r;
}

function inside(c: string, script: string): string {
  return T(["exec", c, "sh", "-c", script]).stdout;
}

/** A detached busybox container (no network) that ran `setup` and then sleeps. */
async function hostile(name: string, setup: string): Promise<string> {
  const r = T(["run", "-d", "--network", "none", "--name", name, "busybox", "sh", "-c", `${setup} && touch /ready && sleep 1000`]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  started.add(name);
  for (let i = 0; i < 200; i++) {
    if (T(["exec", name, "test", "-e", "/ready"]).code === 0) return name;
    await Bun.sleep(50);
  }
  throw new Error(`container ${name} did not get ready`);
}

/** The state of the host that no case may change. */
function hostState(): string {
  const walk = (p: string): string[] => {
    const st = fs.lstatSync(p);
    const here = `${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.nlink} ${st.isFile() ? fs.readFileSync(p, "utf8") : ""}`;
    return st.isDirectory() ? [here, ...fs.readdirSync(p).sort().flatMap((n) => walk(path.join(p, n)))] : [here];
  };
  const passwd = fs.statSync("/etc/passwd");
  return [
    ...walk(dir).filter((l) => !l.startsWith(env.root) && !l.startsWith(loopFile)),
    `passwd ${passwd.nlink} ${passwd.mode.toString(8)}`,
    `core_pattern ${fs.readFileSync("/proc/sys/kernel/core_pattern", "utf8")}`,
    `hostname ${fs.readFileSync("/proc/sys/kernel/hostname", "utf8")}`,
    `tmp ${fs.readdirSync("/tmp").filter((n) => n.startsWith("td-cptar-evil")).join(",")}`,
  ].join("\n");
}

beforeAll(async () => {
  requireBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-cptar-adv-"));
  hostTarget = path.join(dir, "host-target");
  fs.mkdirSync(path.join(hostTarget, "secrets"), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(hostTarget, "secrets", "key"), "HOST KEY\n", { mode: 0o600 });
  reg = await startRegistry();
  const config = { Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] };
  await pushImage(reg, "library/busybox", "latest", await buildImage({ layers: [{ entries: busyboxEntries() }], config }));
  env = newCliEnv(dir, reg);
  expect(tinydock(env, ["pull", "-q", "busybox"]).code).toBe(0);
  loopFile = path.join(dir, "loop.img");
  loopDev = attachLoop(loopFile);
});

afterAll(async () => {
  if (env) for (const n of started) T(["rm", "-f", n]);
  detachLoop(loopDev);
  await reg?.stop();
  const mounts = mountsUnder(dir);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  expect(mounts).toEqual([]);
});

describe("cp - C:DIR with a hostile archive", () => {
  test("names that climb, absolute names, symlinks and hard links out: refused or kept inside the container", async () => {
    const c = await hostile("names", "mkdir /in");
    const before = hostState();
    const cases: [string, TarEntry[], "refused" | "inside", string?][] = [
      ["../ climbs above DIR", [{ name: "../../../../../../../../tmp/td-cptar-evil-1", content: "x" }], "refused"],
      ["a name that climbs back in", [{ name: "a/../b", content: "b\n" }], "inside", "cat /in/b"],
      ["an absolute name is under DIR", [{ name: `/tmp/td-cptar-evil-abs`, content: "abs\n" }], "inside", "cat /in/tmp/td-cptar-evil-abs"],
      ["a relative symlink out of DIR", [{ name: "up", type: "symlink", linkname: "../../../../../../.." }], "refused"],
      [
        "a symlink to / and then a file through it",
        [
          { name: "root", type: "symlink", linkname: "/" },
          { name: "root/tmp/td-cptar-evil-through", content: "through\n" },
        ],
        "inside",
        "cat /tmp/td-cptar-evil-through",
      ],
      [
        "a symlink to a host directory and then a file through it",
        [
          { name: "hl", type: "symlink", linkname: hostTarget },
          { name: "hl/secrets/key", content: "OVERWRITTEN\n" },
        ],
        "inside",
        `cat ${hostTarget}/secrets/key`,
      ],
      ["a hard link that climbs out", [{ name: "hard", type: "link", linkname: "../../../../../../etc/passwd" }], "refused"],
      [
        "a hard link through a symlink to /",
        [
          { name: "r2", type: "symlink", linkname: "/" },
          { name: "hard2", type: "link", linkname: "r2/etc/passwd" },
        ],
        "inside",
        "stat -c %h /etc/passwd",
      ],
      [
        "a symlink to /proc/1/root, then a file through it",
        [
          { name: "pr", type: "symlink", linkname: "/proc/1/root" },
          { name: "pr/tmp/td-cptar-evil-proc", content: "x" },
        ],
        "refused",
      ],
    ];
    for (const [what, entries, expected, check] of cases) {
      const r = extract(c, "/in", await buildTar(entries));
      if (expected === "refused") expect({ what, code: r.code }).toEqual({ what, code: 1 });
      if (expected === "inside") {
        // Some land where the container's root says (through its own symlinks); some of those are
        // refused by the container's tree itself (a host path it does not have): never on the host.
        if (r.code === 0 && check) expect({ what, out: inside(c, check).trim() }).not.toEqual({ what, out: "" });
      }
      expect(hostState()).toBe(before);
    }
    // A NUL in a PAX path (ustar names end at the first NUL, PAX ones do not).
    const nul = extract(c, "/in", concatBytes([paxHeader({ path: "ok\0/../../../../../tmp/td-cptar-evil-nul" }), rawHeader({ name: "ok", typeflag: "0" }), END_OF_ARCHIVE]));
    expect(nul.code).toBe(1);
    expect(nul.stderr).toContain("NUL");
    expect(hostState()).toBe(before);
    expect(inside(c, "cat /in/b /in/tmp/td-cptar-evil-abs /tmp/td-cptar-evil-through")).toBe("b\nabs\nthrough\n");
    recordCases("cp - with names, symlinks and hard links pointing out", cases.length + 1);
  }, 120_000);

  test("device nodes are made inside the container only; planted FIFOs and devices are replaced, never opened", async () => {
    const rdev = fs.statSync(loopDev).rdev;
    const major = Math.floor(rdev / 256) & 0xfff;
    const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
    const c = await hostile("nodes", `mkdir /in && mkfifo /in/fifo && mknod /in/disk b ${major} ${minor}`);
    const before = hostState();
    const loopBefore = fs.readFileSync(loopFile);
    const tar = await buildTar([
      { name: "fifo", content: "over the fifo\n" },
      { name: "disk", content: "PAYLOAD-WRITTEN-THROUGH\n" },
      { name: "null2", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
      { name: "blk", type: "block-device", devmajor: major, devminor: minor, mode: 0o600 },
    ]);
    const r = extract(c, "/in", tar);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(15_000);
    Bun.spawnSync(["blockdev", "--flushbufs", loopDev]);
    expect(fs.readFileSync(loopFile).equals(loopBefore)).toBe(true);
    expect(inside(c, "test -f /in/fifo && test -f /in/disk && test -c /in/null2 && test -b /in/blk && cat /in/fifo /in/disk")).toBe("over the fifo\nPAYLOAD-WRITTEN-THROUGH\n");
    expect(hostState()).toBe(before);
    recordCases("cp - over planted FIFOs and devices, device nodes in the archive", 4);
  }, 60_000);

  test("sizes past the stream, huge PAX sizes, bad checksums: one line, at once", async () => {
    const c = await hostile("sizes", "mkdir /in");
    const before = hostState();
    const archives: [string, Uint8Array][] = [
      ["a file of 8 GiB with 5 bytes", concatBytes([rawHeader({ name: "big", typeflag: "0", size: 8 * 2 ** 30 }), rawBody(new TextEncoder().encode("short"))])],
      ["a PAX size past 2^53", concatBytes([paxHeader({ size: "99999999999999999999" }), rawHeader({ name: "pax", typeflag: "0" }), END_OF_ARCHIVE])],
      ["a PAX header of 64 MiB", concatBytes([rawHeader({ name: "PaxHeader", typeflag: "x", size: 64 << 20 }), END_OF_ARCHIVE])],
      ["a bad checksum", concatBytes([rawHeader({ name: "bad", typeflag: "0", badChecksum: true }), END_OF_ARCHIVE])],
      ["not a tar at all", new TextEncoder().encode("hello, this is not an archive\n".repeat(40))],
    ];
    for (const [what, bytes] of archives) {
      const r = extract(c, "/in", bytes);
      expect({ what, code: r.code }).toEqual({ what, code: 1 });
      expect(r.ms).toBeLessThan(15_000);
    }
    expect(hostState()).toBe(before);
    recordCases("cp - with sizes and headers that lie", archives.length);
  }, 60_000);
});

describe("cp - C:DIR where the container planted symlinks to host paths", () => {
  test("DIR and the paths below it resolve inside the container's root; a running container's /proc is refused", async () => {
    const c = await hostile(
      "planted",
      `mkdir -p /in /data && ln -s ${hostTarget} /data/abs && ln -s ../../../../../../../..${hostTarget} /data/rel && ln -s / /data/root && ln -s ${hostTarget}/secrets /in/secrets`,
    );
    const src = path.join(dir, "payload");
    fs.writeFileSync(src, "|/tmp/td-cptar-evil-core\n");
    const before = hostState();
    const tar = await buildTar([{ name: "key", content: "OVERWRITTEN\n" }]);
    // DIR through a symlink to a host path: the container has no such directory.
    for (const d of ["/data/abs", "/data/rel", "/data/abs/secrets"]) {
      const r = extract(c, d, tar);
      expect({ d, code: r.code, err: r.stderr }).toEqual({ d, code: 1, err: `Error: destination "planted:${d}" must be a directory\n` });
    }
    // Through a symlink to "/": the container's root.
    expect(extract(c, "/data/root/tmp", tar).code).toBe(0);
    expect(inside(c, "cat /tmp/key")).toBe("OVERWRITTEN\n");
    // An archive entry below a symlink the container planted in DIR.
    const sub = extract(c, "/in", await buildTar([{ name: "secrets/key", content: "OVERWRITTEN\n" }]));
    expect(sub.code === 0 ? inside(c, `cat ${hostTarget}/secrets/key`) : "refused").not.toBe("");
    // The kernel's files of a running container are the host's too: nothing is written there.
    const sysctl = extract(c, "/proc/sys/kernel", await buildTar([{ name: "core_pattern", content: "|/tmp/td-cptar-evil-core\n" }, { name: "hostname", content: "evil\n" }]));
    expect(sysctl.code).toBe(1);
    expect(sysctl.stderr).toContain("kernel filesystem");
    expect(extract(c, "/sys", await buildTar([{ name: "kernel/uevent_helper", content: "/tmp/td-cptar-evil\n" }])).code).toBe(1);
    // The plain forms too: a file into /proc, and /proc out (an empty directory, as in the image).
    const plain = T(["cp", src, `${c}:/proc/sys/kernel/core_pattern`]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain("kernel filesystem");
    const out = path.join(dir, "proc-out");
    const procOut = T(["cp", `${c}:/proc`, out]);
    expect(procOut.timedOut).toBe(false);
    expect(procOut.code).toBe(0);
    const procEntries = fs.readdirSync(out);
    fs.rmSync(out, { recursive: true });
    expect(procEntries).toEqual([]);
    expect(hostState()).toBe(before);
    recordCases("cp - into planted symlinks to host paths and into /proc, /sys", 9);
  }, 60_000);

  test("a privileged container's writable /proc/sys: cp writes no sysctl (a write there would act on the host's namespaces)", async () => {
    const r = T(["run", "-d", "--privileged", "--network", "none", "--name", "priv", "busybox", "sleep", "1000"]);
    expect(r.code).toBe(0);
    started.add("priv");
    // The sysctl written in the test is the harmless one, and put back whatever happens.
    const hostname = "/proc/sys/kernel/hostname";
    const host = fs.readFileSync(hostname, "utf8");
    try {
      const viaTar = extract("priv", "/proc/sys/kernel", await buildTar([{ name: "hostname", content: "td-cptar-evil\n" }]));
      expect(viaTar.code).toBe(1);
      const src = path.join(dir, "hostname");
      fs.writeFileSync(src, "td-cptar-evil\n");
      const plain = T(["cp", src, "priv:/proc/sys/kernel/hostname"]);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toContain("kernel filesystem");
      expect(fs.readFileSync(hostname, "utf8")).toBe(host);
    } finally {
      if (fs.readFileSync(hostname, "utf8") !== host) fs.writeFileSync(hostname, host);
    }
    recordCases("cp into a privileged container's /proc/sys", 2);
  }, 60_000);
});
