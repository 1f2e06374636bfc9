// `cp` on a stopped container sees its volumes and bind mounts as a running one does (Docker mounts
// them for an archive operation): a named volume, a bind, a read-only bind, a file bind, a mount
// nested in another; both directions, plain and tar. Nothing stays mounted afterwards, and what a
// killed cp left is let go by the next cp or by `system prune`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { BINARY, cliEnv } from "../helpers/cli.ts";
import { startE2e, type E2e } from "../helpers/e2e.ts";
import { buildTar } from "../helpers/tar.ts";

let e: E2e;
let host: string;

beforeAll(async () => {
  e = await startE2e({ prefix: "td-cpvol-", netns: false });
  host = path.join(e.dir, "host");
  fs.mkdirSync(host);
});

afterAll(async () => {
  await e?.stop();
});

function TB(args: string[], stdin?: Uint8Array): { code: number; out: Buffer; stderr: string } {
  const r = Bun.spawnSync([BINARY, ...args], { env: cliEnv(e.env), stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? 137, out: r.stdout, stderr: r.stderr.toString() };
}

function ok(args: string[], stdin?: Uint8Array): Buffer {
  const r = TB(args, stdin);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.out;
}

function tarNames(tar: Buffer): string[] {
  const r = Bun.spawnSync(["tar", "-tf", "-"], { stdin: tar, stdout: "pipe", stderr: "pipe" });
  return r.stdout.toString().trim().split("\n").sort();
}

/** Mount points under the test's root: none once a cp is done. */
function mountsUnderRoot(): string[] {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p.startsWith(`${e.env.root}/containers/`));
}

function volumeData(name: string): string {
  return e.T(["volume", "inspect", "-f", "{{.Mountpoint}}", name]).stdout.trim();
}

function dir(name: string, files: Record<string, string> = {}): string {
  const d = path.join(host, name);
  fs.mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, f), text);
  return d;
}

describe("cp on a stopped container: its volumes and binds", () => {
  test("a named volume, a bind, a read-only bind, a file bind and a nested mount, both ways, plain and tar", async () => {
    const bind = dir("bind", { "b.txt": "from the host\n" });
    const ro = dir("ro", { "r.txt": "read-only host\n" });
    const nested = dir("nested", { "n.txt": "nested host\n" });
    const file = path.join(host, "conf");
    fs.writeFileSync(file, "host conf\n");
    const run = e.T([
      "run", "--name", "vols", "--network", "none",
      "-v", "cpvol-data:/data", "-v", `${bind}:/bind`, "-v", `${ro}:/ro:ro`, "-v", `${nested}:/data/sub`, "-v", `${file}:/etc/app.conf`,
      "busybox", "sh", "-c", "echo from the run > /data/v.txt",
    ]);
    expect(run.code).toBe(0);
    const vol = volumeData("cpvol-data");
    expect(fs.readFileSync(path.join(vol, "v.txt"), "utf8")).toBe("from the run\n");

    // Out: what the mounts hold, not the image's empty directories.
    const out = dir("out");
    ok(["cp", "vols:/data/v.txt", path.join(out, "v.txt")]);
    expect(fs.readFileSync(path.join(out, "v.txt"), "utf8")).toBe("from the run\n");
    ok(["cp", "vols:/bind/b.txt", path.join(out, "b.txt")]);
    expect(fs.readFileSync(path.join(out, "b.txt"), "utf8")).toBe("from the host\n");
    ok(["cp", "vols:/ro/r.txt", path.join(out, "r.txt")]);
    expect(fs.readFileSync(path.join(out, "r.txt"), "utf8")).toBe("read-only host\n");
    ok(["cp", "vols:/data/sub/n.txt", path.join(out, "n.txt")]);
    expect(fs.readFileSync(path.join(out, "n.txt"), "utf8")).toBe("nested host\n");
    ok(["cp", "vols:/etc/app.conf", path.join(out, "app.conf")]);
    expect(fs.readFileSync(path.join(out, "app.conf"), "utf8")).toBe("host conf\n");
    ok(["cp", "vols:/data", path.join(out, "whole")]);
    expect(fs.readdirSync(path.join(out, "whole")).sort()).toEqual(["sub", "v.txt"]);
    expect(fs.readFileSync(path.join(out, "whole", "sub", "n.txt"), "utf8")).toBe("nested host\n");
    expect(tarNames(ok(["cp", "vols:/data", "-"]))).toEqual(["data/", "data/sub/", "data/sub/n.txt", "data/v.txt"]);
    expect(tarNames(ok(["cp", "vols:/ro/.", "-"]))).toEqual(["./", "./r.txt"]);

    // In: into the mounts' sources, never into the container's own layer under them.
    const up = path.join(host, "up.txt");
    fs.writeFileSync(up, "copied in\n");
    ok(["cp", up, "vols:/data/"]);
    expect(fs.readFileSync(path.join(vol, "up.txt"), "utf8")).toBe("copied in\n");
    ok(["cp", up, "vols:/bind/"]);
    expect(fs.readFileSync(path.join(bind, "up.txt"), "utf8")).toBe("copied in\n");
    ok(["cp", up, "vols:/data/sub/"]);
    expect(fs.readFileSync(path.join(nested, "up.txt"), "utf8")).toBe("copied in\n");
    expect(fs.existsSync(path.join(vol, "sub", "up.txt"))).toBe(false);
    ok(["cp", up, "vols:/etc/app.conf"]);
    expect(fs.readFileSync(file, "utf8")).toBe("copied in\n");
    const tar = await buildTar([{ name: "t.txt", content: "by tar\n" }]);
    ok(["cp", "-", "vols:/data"], tar);
    expect(fs.readFileSync(path.join(vol, "t.txt"), "utf8")).toBe("by tar\n");
    ok(["cp", "-", "vols:/bind"], tar);
    expect(fs.readFileSync(path.join(bind, "t.txt"), "utf8")).toBe("by tar\n");
    // A read-only mount: refused both ways in, with Docker's words; its source untouched.
    for (const args of [["cp", up, "vols:/ro/"], ["cp", "-", "vols:/ro"]]) {
      const r = TB(args, args[1] === "-" ? tar : undefined);
      expect(r.stderr).toBe("Error: mounted volume is marked read-only\n");
      expect(r.code).not.toBe(0);
    }
    expect(fs.readdirSync(ro)).toEqual(["r.txt"]);
    expect(mountsUnderRoot()).toEqual([]);

    // The container sees, when it runs again, what was copied in.
    const cat = e.T(["start", "-a", "vols"]);
    expect(cat.code).toBe(0);
    const seen = e.T(["run", "--rm", "--network", "none", "--volumes-from", "vols", "busybox", "cat", "/data/up.txt", "/data/t.txt", "/bind/up.txt", "/data/sub/up.txt"]);
    expect(seen.stdout).toBe("copied in\nby tar\ncopied in\ncopied in\n");
    expect(e.T(["rm", "vols"]).code).toBe(0);
  });

  test("a bind whose source is gone: the copy fails with one line and leaves nothing mounted", () => {
    const gone = dir("gone");
    expect(e.T(["run", "--name", "gonecp", "--network", "none", "-v", "cpvol-g:/data", "-v", `${gone}:/data/gone`, "busybox", "true"]).code).toBe(0);
    fs.rmSync(gone, { recursive: true });
    const r = TB(["cp", "gonecp:/etc/hostname", path.join(host, "hn")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error: Cannot copy files of container ${e.T(["inspect", "-f", "{{.Id}}", "gonecp"]).stdout.trim()}: the source ${gone} of its mount /data/gone is gone\n`);
    expect(mountsUnderRoot()).toEqual([]);
    expect(e.T(["rm", "gonecp"]).code).toBe(0);
  });

  test("a killed cp's mounts: let go by the next cp, and by system prune", async () => {
    const bind = dir("killed", { "k.txt": "bound\n" });
    expect(e.T(["run", "--name", "killcp", "--network", "none", "-v", "cpvol-big:/data", "-v", `${bind}:/data/bind`, "-v", `${bind}:/ro:ro`, "busybox", "sh", "-c", "dd if=/dev/zero of=/data/big bs=1M count=4 2>/dev/null"]).code).toBe(0);
    const stuck = async () => {
      // A pipe nobody reads: the cp blocks once it is full, its mounts in place; then SIGKILL.
      const fifo = path.join(host, `fifo-${Date.now()}`);
      expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
      const fd = fs.openSync(fifo, fs.constants.O_RDWR);
      const cp = Bun.spawn([BINARY, "cp", "killcp:/data/big", "-"], { env: cliEnv(e.env), stdin: "ignore", stdout: fd, stderr: "ignore" });
      for (let i = 0; i < 400 && !mountsUnderRoot().some((m) => m.endsWith("/rootfs/data/bind")); i++) await Bun.sleep(25);
      expect(mountsUnderRoot().filter((m) => m.endsWith("/rootfs") || m.endsWith("/rootfs/data") || m.endsWith("/rootfs/data/bind")).length).toBe(3);
      // A read-only mount is mounted read-only for the copy too.
      const roLine = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((l) => l.split(" ")[4]?.endsWith("/rootfs/ro"));
      expect(roLine?.split(" ")[5]?.split(",")).toContain("ro");
      cp.kill(9);
      await cp.exited;
      fs.closeSync(fd);
      fs.unlinkSync(fifo);
    };
    await stuck();
    const out = path.join(host, "k-out.txt");
    ok(["cp", "killcp:/data/bind/k.txt", out]);
    expect(fs.readFileSync(out, "utf8")).toBe("bound\n");
    expect(mountsUnderRoot()).toEqual([]);
    await stuck();
    // A start after it: its own mounts, the leftover let go.
    const started = e.T(["start", "-a", "killcp"]);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    expect(mountsUnderRoot()).toEqual([]);
    await stuck();
    expect(e.T(["system", "prune", "-f"]).code).toBe(0);
    expect(mountsUnderRoot()).toEqual([]);
  });
});
