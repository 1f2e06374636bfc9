// What a `run`/`create` command line and an image can mount into a container, attacked: destinations
// that would defeat the masked and read-only paths of /proc (refused as runc's checkProcMount does,
// with its words; runc's lxcfs files allowed), an image's symlink that leads a mount into /proc, an
// image whose /proc, /sys, /dev or mount-point files (/etc/hosts…) are symlinks, FIFOs, directories
// or devices, bind propagation back to the host, option smuggling through commas, named volume names
// that climb out of <root>/volumes, and the files a run reads or writes on the host (--env-file,
// --label-file, --cidfile). Each case ends in bounded time with Docker's behaviour or one line.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { busyboxEntries } from "../helpers/busybox.ts";
import { BINARY, cliEnv, tinydockTimed, type CliEnv, type TimedRun } from "../helpers/cli.ts";
import { startE2e, type E2e } from "../helpers/e2e.ts";
import { buildImage } from "../helpers/image.ts";
import type { TarEntry } from "../helpers/tar.ts";

let e: E2e | undefined;
let env: CliEnv;
let dir: string;
/** A host directory and file no container may reach: the hostile images' symlinks point at them. */
let hostDir: string;
let hostFile: string;

function T(args: string[], timeoutMs = 30_000): TimedRun {
  return tinydockTimed(env, args, undefined, timeoutMs);
}

/** `args` refused: at once, status 125, one line on stderr matching `re`. */
function refused(args: string[], re: RegExp): TimedRun {
  const r = T(args);
  expect(r.timedOut).toBe(false);
  expect(r.stderr).toMatch(re);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.code).toBe(125);
  return r;
}

function ran(args: string[]): TimedRun {
  const r = T(args);
  expect(r.timedOut).toBe(false);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r;
}

const CONFIG = { Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] };

async function image(extra: TarEntry[], config: Record<string, unknown> = CONFIG) {
  const base = busyboxEntries().filter((x) => !extra.some((y) => y.name === x.name || y.name === x.name.replace(/\/$/, "")));
  return buildImage({ layers: [{ entries: base }, { entries: extra }], config });
}

beforeAll(async () => {
  const tmp = fs.mkdtempSync("/tmp/td-mdst-host-");
  hostDir = path.join(tmp, "hostdir");
  fs.mkdirSync(hostDir);
  fs.writeFileSync(path.join(hostDir, "secret"), "HOST\n");
  hostFile = path.join(hostDir, "secret");
  e = await startE2e({
    prefix: "td-adv-mdst-",
    netns: false,
    images: {
      // A symlink the image ships leads `-v …:/data/…` into /proc.
      "library/datalink": await image([{ name: "data", type: "symlink", linkname: "/proc/sys" }]),
      // …and the engine's own mounts: /etc/hosts, and /dev (its tmpfs would cover /proc).
      "library/etcproc": await image([{ name: "etc/hosts", type: "symlink", linkname: "/proc/sys/kernel/hostname" }]),
      "library/devproc": await image([{ name: "dev", type: "symlink", linkname: "/proc" }]),
      // The image's /proc, /sys, /dev as symlinks: to "/" and to host-looking paths.
      "library/procroot": await image([{ name: "proc", type: "symlink", linkname: "/" }]),
      "library/prochost": await image([{ name: "proc", type: "symlink", linkname: hostDir }]),
      "library/sysroot": await image([{ name: "sys", type: "symlink", linkname: "/" }]),
      "library/devhost": await image([{ name: "dev", type: "symlink", linkname: hostDir }]),
      // The mount-point files the engine binds its own files onto.
      "library/etclinks": await image([
        { name: "etc/hosts", type: "symlink", linkname: hostFile },
        { name: "etc/resolv.conf", type: "symlink", linkname: "../../../../../../" + hostDir + "/resolv" },
        { name: "etc/hostname", type: "symlink", linkname: "/var/../../hostname-elsewhere" },
      ]),
      "library/etcodd": await image([
        { name: "etc/hosts", type: "fifo", mode: 0o644 },
        { name: "etc/resolv.conf", type: "directory" },
        { name: "etc/hostname", type: "character-device", devmajor: 1, devminor: 3 },
      ]),
      // An image VOLUME whose path is a symlink out.
      "library/vollink": await image([{ name: "data", type: "symlink", linkname: hostDir }], { ...CONFIG, Volumes: { "/data": {} } }),
    },
  });
  ({ env, dir } = e);
  for (const img of ["datalink", "etcproc", "devproc", "procroot", "prochost", "sysroot", "devhost", "etclinks", "etcodd", "vollink"]) {
    expect(T(["pull", "-q", img]).code).toBe(0);
  }
}, 180_000);

afterAll(async () => {
  await e?.stop();
  if (hostDir) fs.rmSync(path.dirname(hostDir), { recursive: true, force: true });
});

function hostUntouched(): void {
  expect(fs.readdirSync(hostDir)).toEqual(["secret"]);
  expect(fs.readFileSync(hostFile, "utf8")).toBe("HOST\n");
}

describe("destinations in /proc", () => {
  test("binds and tmpfs on /proc or below it are refused with runc's words; its lxcfs files are allowed", () => {
    const src = path.join(dir, "src");
    fs.mkdirSync(src, { recursive: true });
    const bad = [
      ["-v", `${src}:/proc`],
      ["-v", `${src}:/proc/sys/kernel`],
      ["-v", `${src}:/x/../proc/sys`],
      ["--mount", `type=bind,src=${src},dst=/proc/self/root`],
      ["--mount", `type=volume,dst=/proc/sys`],
      ["--tmpfs", "/proc/sys"],
      ["--tmpfs", "/proc"],
      ["-v", "/proc/acpi"],
    ];
    for (const flags of bad) refused(["run", "--rm", ...flags, "busybox", "true"], /^Error: .*"\/proc[^"]*" cannot be mounted because it is inside \/proc\n$/);
    const file = path.join(dir, "meminfo");
    fs.writeFileSync(file, "MemTotal: 1 kB\n");
    const r = ran(["run", "--rm", "-v", `${file}:/proc/meminfo:ro`, "busybox", "cat", "/proc/meminfo"]);
    expect(r.stdout).toBe("MemTotal: 1 kB\n");
    // /sys is Docker's and runc's to mount over; the masks still cover what they mask.
    fs.mkdirSync(path.join(src, "firmware"), { recursive: true });
    fs.writeFileSync(path.join(src, "firmware", "x"), "x\n");
    const sys = ran(["run", "--rm", "-v", `${src}:/sys/fs/cgroup`, "-v", `${src}:/sys/firmware`, "busybox", "sh", "-c", "ls /sys/fs/cgroup; ls /sys/firmware | wc -l"]);
    expect(sys.stdout).toBe("firmware\n0\n");
    recordCases("mount destinations in /proc", bad.length + 1);
  });

  test("an image's symlink that leads a mount into /proc is refused as the path itself is", () => {
    const src = path.join(dir, "src");
    fs.mkdirSync(src, { recursive: true });
    refused(["run", "--rm", "-v", `${src}:/data/kernel`, "datalink", "true"], /cannot be mounted because it is inside \/proc\n$/);
    refused(["run", "--rm", "--tmpfs", "/data", "datalink", "true"], /cannot be mounted because it is inside \/proc\n$/);
    refused(["run", "--rm", "-v", "/data/vm", "datalink", "true"], /cannot be mounted because it is inside \/proc\n$/);
    refused(["run", "--rm", "etcproc", "true"], /"\/etc\/hosts" cannot be mounted because it is inside \/proc\n$/);
    refused(["run", "--rm", "devproc", "true"], /"\/dev" cannot be mounted because it is inside \/proc\n$/);
    recordCases("image symlink leading a mount into /proc", 5);
  });

  test("relative destinations, `/`, and `..` are refused", () => {
    const src = path.join(dir, "src");
    fs.mkdirSync(src, { recursive: true });
    refused(["run", "--rm", "-v", `${src}:/`, "busybox", "true"], /^Error: /);
    refused(["run", "--rm", "-v", `${src}:/x/..`, "busybox", "true"], /^Error: /);
    refused(["run", "--rm", "--mount", `type=bind,src=${src},dst=x`, "busybox", "true"], /^Error: /);
    refused(["run", "--rm", "--tmpfs", "x", "busybox", "true"], /^Error: /);
    recordCases("relative or root mount destinations", 4);
  });
});

describe("an image's /proc, /sys, /dev and mount-point files", () => {
  test("/proc or /sys a symlink: the start is refused as runc refuses it, the host untouched", () => {
    for (const img of ["procroot", "prochost", "sysroot"]) {
      const r = T(["run", "--rm", img, "sh", "-c", "ls /proc/1/ >/dev/null && cat /proc/1/environ"]);
      expect(r.timedOut).toBe(false);
      expect(r.stderr).toMatch(/must be mounted on ordinary directory\n$/);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.code).not.toBe(0);
      hostUntouched();
    }
    recordCases("image /proc, /sys as symlinks", 3);
  });

  test("/dev a symlink to a host path: the container's /dev lands inside its root", () => {
    const r = ran(["run", "--rm", "devhost", "sh", "-c", `echo x > /dev/null && test -c /dev/zero && ls ${hostDir}`]);
    expect(r.stdout).not.toContain("secret");
    hostUntouched();
    recordCases("image /dev as a symlink", 1);
  });

  test("/etc/hosts, resolv.conf, hostname as symlinks out: the engine's files land inside, the host's stay", () => {
    const r = ran(["run", "--rm", "--network", "none", "etclinks", "sh", "-c", "grep -c localhost /etc/hosts; grep -c nameserver /etc/resolv.conf; cat /etc/hostname | wc -l"]);
    expect(r.stdout).toMatch(/^[1-9]\n[1-9]\n1\n$/);
    hostUntouched();
    recordCases("image mount-point files as symlinks", 3);
  });

  test("/etc/hosts a FIFO, resolv.conf a directory, hostname a device: bounded, one line or a run", () => {
    const r = T(["run", "--rm", "etcodd", "cat", "/etc/hosts"]);
    expect(r.timedOut).toBe(false);
    if (r.code !== 0) expect(r.stderr.trim().split("\n")).toHaveLength(1);
    else expect(r.stdout).toContain("localhost");
    recordCases("image mount-point files as FIFO/dir/device", 3);
  });

  test("an image VOLUME that is a symlink out: the volume lands inside, the host directory untouched", () => {
    const r = T(["run", "--rm", "vollink", "sh", "-c", "echo x > /data/planted; ls /data"]);
    expect(r.timedOut).toBe(false);
    hostUntouched();
    recordCases("image VOLUME symlink out", 1);
  });
});

describe("mount flags", () => {
  test("bind-propagation=rshared: a mount made inside never appears on the host", () => {
    const src = path.join(dir, "prop");
    fs.mkdirSync(src, { recursive: true });
    const inside = "mkdir -p /x/m && mount -t tmpfs t /x/m && touch /x/m/f && grep -c ' /x/m ' /proc/self/mountinfo";
    for (const flags of [["--mount", `type=bind,src=${src},dst=/x,bind-propagation=rshared`], ["-v", `${src}:/x:rshared`], ["-v", `${src}:/x:shared`]]) {
      const r = T(["run", "--rm", "--privileged", ...flags, "busybox", "sh", "-c", inside]);
      expect(r.timedOut).toBe(false);
      const host = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(src));
      expect(host).toEqual([]);
      expect(fs.readdirSync(path.join(src, "m"))).toEqual([]);
      fs.rmSync(path.join(src, "m"), { recursive: true, force: true });
    }
    refused(["run", "--rm", "--mount", `type=bind,src=${src},dst=/x,bind-propagation=bogus`, "busybox", "true"], /^Error: .*bogus/);
    recordCases("bind propagation back to the host", 4);
  });

  test("--mount fields quoted as CSV: a comma inside a quoted field is the value's", () => {
    const src = path.join(dir, "a,b");
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, "f"), "comma\n");
    const r = ran(["run", "--rm", "--mount", `type=bind,"src=${src}",dst=/x,readonly`, "busybox", "cat", "/x/f"]);
    expect(r.stdout).toBe("comma\n");
    // A quoted value cannot smuggle a second option into tmpfs's data.
    refused(["run", "--rm", "--mount", 'type=tmpfs,dst=/t,"tmpfs-mode=1777,uid=0"', "busybox", "true"], /^Error: /);
    refused(["run", "--rm", "--mount", 'type=tmpfs,dst=/t,"tmpfs-size=1m,exec"', "busybox", "true"], /^Error: /);
    refused(["run", "--rm", "--tmpfs", "/t:size=1m,mode=1777,uid=0,x-smuggle", "busybox", "true"], /^Error: /);
    refused(["run", "--rm", "--tmpfs", "/t:size=1m\nuid=0", "busybox", "true"], /^Error: /);
    // A comma in a tmpfs target is a name, never options.
    const t = ran(["run", "--rm", "--tmpfs", "/t,uid=5:size=1m", "busybox", "sh", "-c", "stat -c %u /t,uid=5"]);
    expect(t.stdout).toBe("0\n");
    recordCases("option smuggling through --mount and --tmpfs", 6);
  });
});

describe("named volume names", () => {
  test("names that climb, hold a slash, or are too long are refused at once; nothing outside <root>/volumes", () => {
    const outside = path.join(env.root, "escaped");
    const names = ["../escaped", "a/../../escaped", ".", "..", "a/b", "/abs", "a\\b", ".hidden", "x".repeat(300), "a\nb"];
    for (const n of names) {
      const c = T(["volume", "create", n]);
      expect(c.timedOut).toBe(false);
      expect(c.code).not.toBe(0);
      expect(c.stderr.trim().split("\n")).toHaveLength(1);
      for (const verb of [["volume", "rm", n], ["volume", "inspect", n]]) {
        const r = T(verb);
        expect(r.code).not.toBe(0);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
      }
    }
    for (const n of ["x".repeat(300), "a..b/c", "a/b"]) {
      const r = T(["run", "--rm", "-v", `${n}:/x`, "busybox", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(fs.existsSync(outside)).toBe(false);
    const vols = path.join(env.root, "volumes");
    expect((fs.existsSync(vols) ? fs.readdirSync(vols) : []).filter((n) => !/^[a-f0-9]{64}$/.test(n))).toEqual([]);
    // prune with nothing to take leaves the root's other directories be.
    const before = fs.readdirSync(env.root).sort();
    expect(T(["volume", "prune", "-af"]).code).toBe(0);
    expect(fs.readdirSync(env.root).sort()).toEqual(before);
    recordCases("hostile volume names", names.length * 3 + 3);
  });

  test("a local volume binding a host directory (o=bind): rm and prune unmount it, never delete through it", () => {
    const keep = path.join(dir, "bound");
    fs.mkdirSync(path.join(keep, "sub"), { recursive: true });
    fs.writeFileSync(path.join(keep, "sub", "f"), "kept\n");
    for (const verb of [["volume", "rm", "-f", "bound"], ["volume", "prune", "-af"]]) {
      ran(["volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", `device=${keep}`, "bound"]);
      const r = ran(["run", "--rm", "-v", "bound:/d", "busybox", "cat", "/d/sub/f"]);
      expect(r.stdout).toBe("kept\n");
      ran(verb);
      expect(fs.readFileSync(path.join(keep, "sub", "f"), "utf8")).toBe("kept\n");
      expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(path.join(env.root, "volumes"));
    }
    recordCases("local bind volume removed", 2);
  });
});

describe("files a run reads or writes on the host", () => {
  test("--env-file and --label-file: /dev/zero, a FIFO without a writer, a directory, a 1 GiB file end at once", () => {
    const fifo = path.join(dir, "fifo");
    if (!fs.existsSync(fifo)) expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const big = path.join(dir, "big.env");
    fs.closeSync(fs.openSync(big, "w"));
    fs.truncateSync(big, 1 << 30);
    for (const flag of ["--env-file", "--label-file"]) {
      for (const f of ["/dev/zero", big, dir]) {
        const r = refused(["create", flag, f, "busybox", "true"], /^Error: Cannot read (env|label) file "/);
        expect(r.ms).toBeLessThan(10_000);
      }
      // A FIFO nobody writes: empty, as a pipe closed at once.
      const r = T(["create", flag, fifo, "busybox", "true"], 20_000);
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(0);
      T(["rm", r.stdout.trim()]);
    }
    // Many lines: linear, not a quadratic scan.
    const many = path.join(dir, "many.env");
    fs.writeFileSync(many, "A=1\n".repeat(1 << 18));
    const m = T(["create", "--env-file", many, "busybox", "true"]);
    expect(m.timedOut).toBe(false);
    expect(m.code).toBe(0);
    T(["rm", m.stdout.trim()]);
    // A pipe with a writer (`--env-file <(…)`) is read to its end.
    const p = Bun.spawnSync(["bash", "-c", `exec "$0" run --rm --env-file <(sleep 0.3; echo PIPED=yes) busybox sh -c 'echo $PIPED'`, BINARY], { env: cliEnv(env), stdout: "pipe", stderr: "pipe", timeout: 30_000 });
    expect(p.stderr.toString()).toBe("");
    expect(p.stdout.toString()).toBe("yes\n");
    fs.rmSync(big);
    recordCases("hostile --env-file/--label-file", 11);
  }, 120_000);

  test("--cidfile: a file or a symlink (even dangling) there is refused before anything is made; --iidfile never writes through", () => {
    const target = path.join(hostDir, "cid-target");
    const link = path.join(dir, "cid-link");
    fs.rmSync(link, { force: true });
    fs.symlinkSync(target, link);
    const before = T(["ps", "-aq"]).stdout;
    refused(["run", "--rm", "--cidfile", link, "busybox", "true"], /Container ID file found/);
    refused(["create", "--cidfile", hostFile, "busybox", "true"], /Container ID file found/);
    expect(T(["ps", "-aq"]).stdout).toBe(before);
    expect(fs.existsSync(target)).toBe(false);
    hostUntouched();
    const ctx = path.join(dir, "ctx");
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM busybox\nLABEL x=y\n");
    const iid = path.join(dir, "iid-link");
    fs.rmSync(iid, { force: true });
    fs.symlinkSync(hostFile, iid);
    const b = T(["build", "-q", "--iidfile", iid, ctx], 120_000);
    expect(b.code).toBe(0);
    hostUntouched();
    expect(fs.lstatSync(iid).isFile()).toBe(true);
    expect(fs.readFileSync(iid, "utf8")).toMatch(/^sha256:[a-f0-9]{64}$/);
    recordCases("hostile --cidfile/--iidfile", 3);
  }, 180_000);
});

describe("a container that changes its own mount destinations between starts", () => {
  test("/a of `-v src:/a/kernel` swapped for a symlink to /proc/sys: the next start is refused", () => {
    const src = path.join(dir, "swap-src");
    fs.mkdirSync(src, { recursive: true });
    const c = T(["create", "--name", "swapper", "-v", `${src}:/a/kernel`, "busybox", "sh", "-c", "test -L /a || { mv /a /a2 && ln -s /proc/sys /a; }"]);
    expect(c.code).toBe(0);
    try {
      const first = T(["start", "-a", "swapper"]);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      const again = T(["start", "-a", "swapper"]);
      expect(again.timedOut).toBe(false);
      expect(again.stderr).toMatch(/"\/a\/kernel" cannot be mounted because it is inside \/proc\n$/);
      expect(again.stderr.trim().split("\n")).toHaveLength(1);
      expect(again.code).not.toBe(0);
    } finally {
      T(["rm", "-f", "swapper"]);
    }
    // A symlink to "/" or up and out instead: the mount lands inside the root, the host untouched.
    for (const link of ["/", "../../../../..", hostDir]) {
      const name = `swap-${link.length}`;
      expect(T(["create", "--name", name, "-v", `${src}:/b/x`, "busybox", "sh", "-c", `test -L /b || { mv /b /b2 && ln -s ${link} /b; }`]).code).toBe(0);
      try {
        expect(T(["start", "-a", name]).code).toBe(0);
        const r = T(["start", "-a", name]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
      } finally {
        T(["rm", "-f", name]);
      }
      hostUntouched();
    }
    recordCases("mount destination swapped for a symlink between starts", 4);
  }, 120_000);
});

describe("--device where the init may not mknod", () => {
  test("the node bound is the host device asked for, never the host's node at the container path", () => {
    // Without CAP_MKNOD (a tinydock in a container of its own) the init binds host nodes instead.
    const noMknod = (args: string[]) => {
      const r = Bun.spawnSync(["setpriv", "--bounding-set", "-mknod", BINARY, "run", "--rm", ...args], { env: cliEnv(env), stdout: "pipe", stderr: "pipe", timeout: 30_000 });
      return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    };
    // Docker's default nodes are the host's at the same paths: bound.
    const ok = noMknod(["busybox", "sh", "-c", "head -c 4 /dev/zero | od -An -tx1"]);
    expect(ok.stderr).toBe("");
    expect(ok.stdout.trim()).toBe("00 00 00 00");
    // /dev/zero asked for at /dev/kmsg: the host's /dev/kmsg (the kernel's log) is another node.
    const r = noMknod(["--device", "/dev/zero:/dev/kmsg", "busybox", "sh", "-c", "head -c 8 /dev/kmsg | od -An -tx1"]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^Error: .*device \/dev\/kmsg \(c 1:5\).*\n$/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.code).not.toBe(0);
    recordCases("--device bound without mknod", 1);
  });
});
