// Fake cgroupfs roots: temp directories laid out with the files a Linux 6.x kernel shows in a
// v1 (hybrid, as on this host) or v2 mount. mkdir on a plain directory creates no control files,
// so a test lays out tinydock/<id> beforehand with what the kernel would show in a fresh cgroup.
// Recipe: the file lists of /sys/fs/cgroup/* on Debian 12 (v1 + unified) and of a v2 host.
import { afterEach } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { linuxSys } from "../../../../src/sys/linux.ts";
import type { Sys } from "../../../../src/sys/sys.ts";

function files(dir: string, entries: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(entries)) fs.writeFileSync(path.join(dir, name), text);
}

export const V1_UNLIMITED = "9223372036854771712";

/** v1 controllers: the files a fresh child cgroup shows (the root shows the same plus a few). */
const V1_FILES: Record<string, (opts: { memsw: boolean }) => Record<string, string>> = {
  memory: ({ memsw }) => ({
    "memory.limit_in_bytes": `${V1_UNLIMITED}\n`,
    ...(memsw ? { "memory.memsw.limit_in_bytes": `${V1_UNLIMITED}\n` } : {}),
    "memory.swappiness": "60\n",
    "memory.soft_limit_in_bytes": `${V1_UNLIMITED}\n`,
    "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
    "memory.usage_in_bytes": "0\n",
    "memory.stat": "cache 0\nrss 0\ntotal_cache 0\ntotal_rss 0\ntotal_inactive_file 0\n",
  }),
  cpu: () => ({ "cpu.cfs_period_us": "100000\n", "cpu.cfs_quota_us": "-1\n", "cpu.shares": "1024\n", "cpu.stat": "nr_periods 0\n" }),
  cpuacct: () => ({ "cpuacct.usage": "0\n" }),
  cpuset: () => ({ "cpuset.cpus": "\n", "cpuset.mems": "\n" }),
  pids: () => ({ "pids.max": "max\n", "pids.current": "0\n" }),
  devices: () => ({ "devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm\n" }),
  freezer: () => ({ "freezer.state": "THAWED\n" }),
  blkio: () => ({}),
  systemd: () => ({}),
};

export interface FakeRoot {
  root: string;
  cleanup(): void;
}

function tempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "td-fake-cgroupfs-"));
}

/** A hybrid v1 host like this one: one directory per hierarchy plus a cgroup2 "unified" with hugetlb. */
export function fakeV1(opts: { hierarchies?: string[]; unified?: boolean } = {}): FakeRoot {
  const root = tempRoot();
  for (const h of opts.hierarchies ?? Object.keys(V1_FILES)) {
    const rootFiles = h === "cpuset" ? { "cpuset.cpus": "0-1\n", "cpuset.mems": "0\n" } : V1_FILES[h]?.({ memsw: true }) ?? {};
    files(path.join(root, h), { "cgroup.procs": "1\n", tasks: "1\n", ...rootFiles });
  }
  if (opts.unified ?? true) {
    files(path.join(root, "unified"), { "cgroup.controllers": "hugetlb\n", "cgroup.subtree_control": "\n", "cgroup.procs": "1\n" });
  }
  return { root, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** What mkdir tinydock/<id> would make appear in every hierarchy of a fake v1 root. */
export function fakeV1Cgroup(root: string, id: string, opts: { memsw?: boolean } = {}): void {
  for (const h of fs.readdirSync(root)) {
    if (h === "unified") continue;
    const names = h.split(",");
    const parent = path.join(root, h, "tinydock");
    const content: Record<string, string> = { "cgroup.procs": "", tasks: "", notify_on_release: "0\n" };
    for (const n of names) Object.assign(content, V1_FILES[n]?.({ memsw: opts.memsw ?? true }) ?? {});
    if (!fs.existsSync(parent)) files(parent, { "cgroup.procs": "", ...(names.includes("cpuset") ? { "cpuset.cpus": "\n", "cpuset.mems": "\n" } : {}) });
    files(path.join(parent, id), content);
  }
}

const V2_CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma misc\n";

/** A v2 host: everything under root, cgroup.controllers at the top. */
export function fakeV2(opts: { controllers?: string; subtreeControl?: string } = {}): FakeRoot {
  const root = tempRoot();
  files(root, {
    "cgroup.controllers": opts.controllers ?? V2_CONTROLLERS,
    "cgroup.subtree_control": opts.subtreeControl ?? "\n",
    "cgroup.procs": "1\n",
  });
  return { root, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** What mkdir tinydock/<id> would show on a v2 kernel with memory, pids, cpu and cpuset enabled above it. */
export function fakeV2Cgroup(root: string, id: string, opts: { swap?: boolean; kill?: boolean } = {}): void {
  const parent = path.join(root, "tinydock");
  if (!fs.existsSync(parent)) files(parent, { "cgroup.controllers": "\n", "cgroup.subtree_control": "\n", "cgroup.procs": "" });
  files(path.join(parent, id), {
    "cgroup.procs": "",
    "cgroup.events": "populated 0\nfrozen 0\n",
    "cgroup.freeze": "0\n",
    ...(opts.kill ? { "cgroup.kill": "" } : {}),
    "memory.max": "max\n",
    "memory.low": "0\n",
    ...((opts.swap ?? true) ? { "memory.swap.max": "max\n" } : {}),
    "memory.current": "0\n",
    "memory.stat": "anon 0\nfile 0\ninactive_file 0\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
    "cpu.max": "max 100000\n",
    "cpu.weight": "100\n",
    "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\n",
    "cpuset.cpus": "\n",
    "cpuset.mems": "\n",
    "pids.max": "max\n",
    "pids.current": "0\n",
  });
}

export function read(p: string): string {
  return fs.readFileSync(p, "utf8");
}

/** What a test file keeps its fake roots with: each one passed through is removed after its test. */
export function removedAfterEach(): <T extends FakeRoot>(f: T) => T {
  const made: FakeRoot[] = [];
  afterEach(() => {
    for (const f of made.splice(0)) f.cleanup();
  });
  return (f) => {
    made.push(f);
    return f;
  };
}

/**
 * The pidfd calls of a Sys, real (the tests kill their own sleepers through them) and logged with
 * what `state()` reads at the time of each call (the freezer's file, say); `signalled` runs after
 * each signal with its pid (a fake cgroupfs drops it from cgroup.procs as the kernel would).
 */
export function loggedPidfds(
  state: () => string = () => "",
  signalled: (pid: number) => void = () => {},
): { sys: Pick<Sys, "pidfdOpen" | "pidfdSendSignal">; log: string[] } {
  const real = linuxSys();
  const log: string[] = [];
  const pids = new Map<number, number>();
  return {
    log,
    sys: {
      pidfdOpen(pid) {
        log.push(`open ${pid} ${state()}`.trim());
        const fd = real.pidfdOpen(pid);
        pids.set(fd, pid);
        return fd;
      },
      pidfdSendSignal(fd, signal) {
        log.push(`signal ${pids.get(fd)} ${signal} ${state()}`.trim());
        real.pidfdSendSignal(fd, signal);
        signalled(pids.get(fd)!);
      },
    },
  };
}
