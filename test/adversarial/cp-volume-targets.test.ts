// `cp` on a stopped container mounts its volumes and binds for the copy. A container can leave a
// symlink where one of them goes: in a volume another container shares (the target of a mount nested
// in it), or an ancestor of a target renamed and replaced while it ran. The mounts must land inside
// the container's root, as the runtime's do, never on the host: while the copy holds them, every
// mount is under the container's directory; the host directory the links name is never written;
// nothing stays mounted. Run in a network namespace of its own (nsenter --net).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { BINARY, cliEnv } from "../helpers/cli.ts";
import { startE2e, type E2e } from "../helpers/e2e.ts";
import { buildTar } from "../helpers/tar.ts";

let e: E2e;
/** A host directory no case may touch: the containers' symlinks name it. */
let hostTarget: string;
let host: string;

beforeAll(async () => {
  e = await startE2e({ prefix: "td-cpvol-adv-", netns: false });
  host = path.join(e.dir, "host");
  hostTarget = path.join(e.dir, "host-target");
  fs.mkdirSync(path.join(hostTarget, "secrets"), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(hostTarget, "secrets", "key"), "HOST KEY\n", { mode: 0o600 });
  fs.writeFileSync(path.join(hostTarget, "conf"), "HOST CONF\n");
  fs.mkdirSync(host);
});

afterAll(async () => {
  await e?.stop();
});

function TB(args: string[], stdin?: Uint8Array): { code: number; out: Buffer; stderr: string } {
  const r = Bun.spawnSync([BINARY, ...args], { env: cliEnv(e.env), stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe", timeout: 30_000, killSignal: "SIGKILL" });
  return { code: r.exitCode ?? 137, out: r.stdout, stderr: r.stderr.toString() };
}

function mountPoints(): string[] {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => (l.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter(Boolean);
}

function hostState(): string {
  const walk = (p: string): string[] => {
    const st = fs.lstatSync(p);
    const here = `${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${st.isFile() ? fs.readFileSync(p, "utf8") : ""}`;
    return st.isDirectory() ? [here, ...fs.readdirSync(p).sort().flatMap((n) => walk(path.join(p, n)))] : [here];
  };
  return walk(hostTarget).join("\n");
}

/**
 * A cp of `src` to a pipe nobody reads: it blocks with its mounts in place. Every mount made
 * meanwhile must be below the container's directory; then it is killed (the next cp lets go).
 */
async function mountsWhileCopying(id: string, src: string): Promise<string[]> {
  // Other tests and engines on the host mount their own roots and netns files meanwhile: a mount
  // under another temp directory, netns or worktree is theirs; this test's own directory counts.
  const theirs = (m: string) => !m.startsWith(e.dir + "/") && /^\/(tmp|run\/netns|work)\//.test(m);
  const before = new Set(mountPoints().filter((m) => !theirs(m)));
  const mountPointsNow = () => mountPoints().filter((m) => !theirs(m));
  const fifo = path.join(host, `fifo-${Date.now()}`);
  expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
  const fd = fs.openSync(fifo, fs.constants.O_RDWR);
  const cp = Bun.spawn([BINARY, "cp", src, "-"], { env: cliEnv(e.env), stdin: "ignore", stdout: fd, stderr: "pipe" });
  let made: string[] = [];
  try {
    const rootfs = path.join(e.env.root, "containers", id, "rootfs");
    // Blocked (the pipe full) or ended (refused): either way its mounts are in place or gone.
    for (let i = 0; i < 400; i++) {
      made = mountPointsNow().filter((m) => !before.has(m));
      if (made.includes(rootfs) && made.length > 1) break;
      if (cp.exitCode !== null) break;
      await Bun.sleep(25);
    }
    await Bun.sleep(100);
    made = mountPointsNow().filter((m) => !before.has(m));
  } finally {
    cp.kill(9);
    await cp.exited;
    fs.closeSync(fd);
    fs.unlinkSync(fifo);
  }
  return made;
}

interface Case {
  name: string;
  /** run flags of the victim (its mounts). */
  mounts: string[];
  /** What the victim does while it runs (before it stops). */
  inVictim: string;
  /** What another container sharing the volume `advvol-<n>` at /x does meanwhile. */
  inSharer?: string;
  /** Where cp writes and reads, through the planted link. */
  dest: string;
}

describe("cp on a stopped container whose mount targets became symlinks to the host", () => {
  test("mounts stay inside the container's root; the host directory is neither mounted on nor written", async () => {
    const bindSrc = path.join(host, "bind-src");
    fs.mkdirSync(bindSrc);
    const fileSrc = path.join(host, "file-src");
    fs.writeFileSync(fileSrc, "bound file\n");
    const cases: Case[] = [
      {
        name: "a nested target in a shared volume, an absolute link to the host directory",
        mounts: ["-v", "advvol-0:/data", "-v", `${bindSrc}:/data/sub`],
        inVictim: "true",
        inSharer: `rm -rf /x/sub && ln -s ${hostTarget} /x/sub`,
        dest: "/data/sub",
      },
      {
        name: "a nested target in a shared volume, a relative link climbing out",
        mounts: ["-v", "advvol-1:/data", "-v", `${bindSrc}:/data/sub`],
        inVictim: "true",
        inSharer: `rm -rf /x/sub && ln -s ../../../../../../../../..${hostTarget} /x/sub`,
        dest: "/data/sub",
      },
      {
        name: "an ancestor of a bind's target renamed and replaced by a link to the host directory",
        mounts: ["-v", `${bindSrc}:/lnk/b`, "-v", "advvol-2:/data"],
        inVictim: `mv /lnk /lnk.old && ln -s ${hostTarget} /lnk && mkdir -p ${hostTarget}/b`,
        dest: "/lnk/b",
      },
      {
        name: "an ancestor of a file bind's target replaced by a link to the host directory",
        mounts: ["-v", `${fileSrc}:/f/conf`, "-v", "advvol-3:/data"],
        inVictim: `mv /f /f.old && ln -s ${hostTarget} /f`,
        dest: "/f",
      },
    ];
    const before = hostState();
    const up = path.join(host, "up.txt");
    fs.writeFileSync(up, "copied in\n");
    const tar = await buildTar([{ name: "conf", content: "by tar\n" }, { name: "secrets/key", content: "OVERWRITTEN\n" }]);
    let n = 0;
    for (const [i, c] of cases.entries()) {
      const name = `victim-${i}`;
      const run = e.T(["run", "--name", name, "--network", "none", ...c.mounts, "busybox", "sh", "-c", `dd if=/dev/zero of=/data/big bs=1M count=2 2>/dev/null; ${c.inVictim}`]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const id = e.T(["inspect", "-f", "{{.Id}}", name]).stdout.trim();
      if (c.inSharer) {
        const s = e.T(["run", "--rm", "--network", "none", "-v", `advvol-${i}:/x`, "busybox", "sh", "-c", c.inSharer]);
        expect(s.code).toBe(0);
      }
      // While a cp holds them: every mount below the container's directory.
      const made = await mountsWhileCopying(id, `${name}:/data/big`);
      expect(made.length).toBeGreaterThan(1);
      for (const m of made) expect(m.startsWith(path.join(e.env.root, "containers", id) + "/")).toBe(true);
      n++;
      // Both ways, plain and tar: each ends, with a result or one line.
      for (const args of [
        ["cp", up, `${name}:${c.dest}/`],
        ["cp", up, `${name}:${c.dest}/secrets/key`],
        ["cp", "-", `${name}:${c.dest}`],
        ["cp", `${name}:${c.dest}/.`, path.join(host, `out-${i}`)],
        ["cp", `${name}:${c.dest}`, "-"],
      ]) {
        const r = TB(args, args[1] === "-" ? tar : undefined);
        if (r.code !== 0) expect(r.stderr.trim().split("\n")).toHaveLength(1);
        n++;
      }
      expect(hostState()).toBe(before);
      expect(mountPoints().filter((m) => m.startsWith(e.dir))).toEqual([]);
      // What was copied out never came from the host directory.
      const out = path.join(host, `out-${i}`);
      if (fs.existsSync(out)) expect(fs.readdirSync(out, { recursive: true }).join(",")).not.toContain("HOST");
      expect(e.T(["rm", name]).code).toBe(0);
    }
    expect(fs.readFileSync(fileSrc, "utf8")).not.toContain("HOST");
    recordCases("cp into and out of a stopped container whose mount targets are symlinks to the host", n);
  });
});
