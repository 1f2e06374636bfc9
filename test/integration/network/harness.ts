// A network namespace per test (tdt-<random>) with loopback up and iptables tables primed, deleted
// in cleanup; commands run inside it with nsenter (the mount namespace stays the host's).
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestNetns {
  name: string;
  root: string;
  /** Runs argv inside the netns; returns stdout, throws with stderr on failure. */
  sh(argv: string[], opts?: { allowFail?: boolean }): { code: number; out: string; err: string };
  engine<T = unknown>(call: string, arg?: unknown): T;
  engineFails(call: string, arg?: unknown): string;
  /** A container directory as run/prepare.ts makes it (what "alive" means for leases). */
  fakeContainer(name: string): string;
  cleanup(): void;
}

const DRIVER = path.join(import.meta.dir, "driver.ts");

function exec(argv: string[]): { code: number; out: string; err: string } {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

export function testNetns(): TestNetns {
  const name = `tdt-${crypto.randomBytes(4).toString("hex")}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-net-"));
  const root = path.join(dir, "root");
  fs.mkdirSync(root);
  const must = (argv: string[]) => {
    const r = exec(argv);
    if (r.code !== 0) throw new Error(`${argv.join(" ")}: ${r.err.trim()}`);
    return r;
  };
  must(["ip", "netns", "add", name]);
  const inside = (argv: string[]) => ["nsenter", `--net=/run/netns/${name}`, ...argv];
  must(inside(["ip", "link", "set", "lo", "up"]));
  // A host has its nat and filter tables already; a new netns has none until the first rule.
  must(inside(["sh", "-c", "printf '*nat\\n:TDT - [0:0]\\n-X TDT\\nCOMMIT\\n*filter\\n:TDT - [0:0]\\n-X TDT\\nCOMMIT\\n' | iptables-restore --noflush"]));
  return {
    name,
    root,
    sh(argv, opts = {}) {
      const r = exec(inside(argv));
      if (r.code !== 0 && !opts.allowFail) throw new Error(`${argv.join(" ")} (exit ${r.code}): ${r.err.trim()}`);
      return r;
    },
    engine<T>(call: string, arg?: unknown): T {
      const r = exec(inside([process.execPath, DRIVER, root, call, JSON.stringify(arg ?? {})]));
      if (r.code !== 0) throw new Error(`engine ${call}: ${r.err.trim()}`);
      return JSON.parse(r.out) as T;
    },
    engineFails(call, arg) {
      const r = exec(inside([process.execPath, DRIVER, root, call, JSON.stringify(arg ?? {})]));
      if (r.code === 0) throw new Error(`engine ${call} succeeded: ${r.out}`);
      return r.err.trim();
    },
    fakeContainer(cname) {
      const id = crypto.randomBytes(32).toString("hex");
      const d = path.join(root, "containers", id);
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, "hosts"), "");
      fs.writeFileSync(path.join(d, "resolv.conf"), "");
      fs.writeFileSync(path.join(d, "state.json"), JSON.stringify({ id, name: cname, state: { pid: 0 } }));
      return id;
    },
    cleanup() {
      for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").reverse()) {
        const mnt = line.split(" ")[4];
        if (mnt && mnt.startsWith(`${dir}/`)) exec(["umount", "-l", mnt]);
      }
      exec(["ip", "netns", "del", name]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
