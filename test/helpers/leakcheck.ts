// Lists what tinydock or its tests left in the kernel: mounts, cgroups, links, netns, firewall
// rules, processes (by command line, name or executable: monitors, `tinydock-pause`, the CLI; a
// container's by its cgroup). Tests call findLeaks(); test/leakcheck.sh runs this file as a command.
import fs from "node:fs";
import path from "node:path";

export const DEFAULT_LEAK_PATTERN = "tinydock";

function command(argv: string[]): string {
  try {
    const out = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    return out.exitCode === 0 ? out.stdout.toString() : "";
  } catch {
    return ""; // the tool is not installed: nothing of that kind can have leaked through it
  }
}

/** /proc/self/mounts escapes spaces and friends as octal. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function mounts(): { target: string; fstype: string }[] {
  return fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const f = line.split(" ");
      return { target: unescapeMount(f[1] ?? ""), fstype: f[2] ?? "" };
    });
}

/** The cgroup directories, in every hierarchy, whose name contains `pattern` (lower case), parents first. */
export function cgroupDirs(pattern: string): string[] {
  const hierarchies = mounts()
    .filter((m) => m.fstype === "cgroup" || m.fstype === "cgroup2")
    .map((m) => m.target);
  const found = new Set<string>();
  // Deep enough for a --cgroup-parent of a few levels above <parent>/tinydock-<id>.
  const walk = (dir: string, depth: number): void => {
    if (depth > 6) return;
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // removed while we looked
    }
    for (const d of names) {
      if (!d.isDirectory()) continue;
      const p = path.join(dir, d.name);
      if (d.name.toLowerCase().includes(pattern)) found.add(p);
      walk(p, depth + 1);
    }
  };
  for (const h of new Set(hierarchies)) walk(h, 1);
  return [...found].sort();
}

function cgroupLeaks(pattern: string): string[] {
  return cgroupDirs(pattern).map((p) => `cgroup: ${p}`);
}

function linkLeaks(pattern: string): string[] {
  return command(["ip", "-o", "link", "show"])
    .split("\n")
    .map((l) => l.split(": ")[1]?.split("@")[0] ?? "")
    .filter((name) => name && (name.toLowerCase().startsWith(pattern) || name.startsWith("td")))
    .map((name) => `link: ${name}`);
}

function netnsLeaks(pattern: string): string[] {
  return command(["ip", "netns", "list"])
    .split("\n")
    .filter((l) => l.toLowerCase().includes(pattern))
    .map((l) => `netns: ${l.trim()}`);
}

function ruleLeaks(pattern: string): string[] {
  const out: string[] = [];
  for (const tool of ["iptables-save", "ip6tables-save"]) {
    for (const line of command([tool]).split("\n")) {
      if (line.startsWith("#") || !line.toLowerCase().includes(pattern)) continue;
      out.push(`${tool === "iptables-save" ? "iptables" : "ip6tables"}: ${line}`);
    }
  }
  for (const line of command(["nft", "list", "tables"]).split("\n")) {
    if (line.toLowerCase().includes(pattern)) out.push(`nft: ${line.trim()}`);
  }
  return out;
}

/** Our own process and its ancestors (bun test, run.sh, make) may mention the pattern harmlessly. */
function selfAndAncestors(): Set<number> {
  const pids = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !pids.has(pid)) {
    pids.add(pid);
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  return pids;
}

/** What /proc says of a process, each field "" when it could not be read (exited, kernel thread). */
interface ProcView {
  pid: number;
  args: string;
  comm: string;
  exe: string;
  cwd: string;
  root: string;
  cgroup: string;
  environ: string[];
}

function readProc(pid: number): ProcView | undefined {
  const read = (f: string) => {
    try {
      return fs.readFileSync(`/proc/${pid}/${f}`, "utf8");
    } catch {
      return "";
    }
  };
  const link = (f: string) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/${f}`);
    } catch {
      return "";
    }
  };
  const args = read("cmdline").split("\0").filter(Boolean).join(" ");
  const comm = read("comm").trim();
  if (!args && !comm) return undefined; // exited
  return { pid, args, comm, exe: link("exe"), cwd: link("cwd"), root: link("root"), cgroup: read("cgroup"), environ: read("environ").split("\0") };
}

function allPids(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/**
 * Why a process is one the engine started, or undefined: its command line, name or executable says
 * so (a monitor, `tinydock-pause`, a CLI still running), or it lives in a cgroup named after the
 * pattern (a container's processes: their command line is the image's, e.g. `sleep 1000`).
 */
function engineMark(p: ProcView, pattern: string): string | undefined {
  if (p.args.toLowerCase().includes(pattern)) return "";
  if (p.comm.toLowerCase().includes(pattern)) return ` (name ${p.comm})`;
  if (p.exe.toLowerCase().includes(pattern)) return ` (exe ${p.exe})`;
  const cg = p.cgroup.split("\n").find((l) => l.toLowerCase().includes(pattern));
  if (cg) return ` (cgroup ${cg.slice(cg.indexOf(":", cg.indexOf(":") + 1) + 1)})`;
  return undefined;
}

function processLeaks(pattern: string): string[] {
  const skip = selfAndAncestors();
  const out: string[] = [];
  for (const pid of allPids()) {
    if (skip.has(pid)) continue;
    const p = readProc(pid);
    if (!p || p.args.includes("leakcheck")) continue;
    const mark = engineMark(p, pattern);
    if (mark !== undefined) out.push(`process: ${pid} ${p.args || `[${p.comm}]`}${mark}`);
  }
  return out;
}

const under = (file: string, dir: string) => file === dir || file.startsWith(`${dir}/`);

/**
 * The processes that hold `dir` (a test's temp directory, the parent of its TINYDOCK_ROOT): their
 * command line names a path in it (the pause's netns file, a monitor's container dir), or their
 * executable, working directory or root is in it, or their environment's TINYDOCK_ROOT is in it (the
 * CLI and the monitors it started), or their cgroup names one of the root's containers `ids` (a
 * container's processes: pivoted into a mount namespace of their own, their root reads "/" from
 * here). Other roots' processes are not.
 */
export function processesHolding(dir: string, ids: readonly string[] = []): { pid: number; args: string }[] {
  const d = path.resolve(dir);
  const out: { pid: number; args: string }[] = [];
  const skip = selfAndAncestors();
  for (const pid of allPids()) {
    if (skip.has(pid)) continue;
    const p = readProc(pid);
    if (!p) continue;
    const envRoot = p.environ.find((e) => e.startsWith("TINYDOCK_ROOT="))?.slice("TINYDOCK_ROOT=".length);
    const holds =
      p.args.includes(`${d}/`) ||
      [p.exe.replace(/ \(deleted\)$/, ""), p.cwd, p.root].some((f) => f && under(f, d)) ||
      (envRoot !== undefined && under(path.resolve(envRoot), d)) ||
      ids.some((id) => p.cgroup.includes(id));
    if (holds) out.push({ pid, args: p.args || `[${p.comm}]` });
  }
  return out;
}

/** One line per leftover ("mount: …", "cgroup: …", "link: …"); empty when the host is clean. */
export function findLeaks(pattern: string = DEFAULT_LEAK_PATTERN): string[] {
  const p = pattern.toLowerCase();
  return [
    ...mounts()
      .filter((m) => m.target.toLowerCase().includes(p))
      .map((m) => `mount: ${m.target} (${m.fstype})`),
    ...cgroupLeaks(p),
    ...linkLeaks(p),
    ...netnsLeaks(p),
    ...ruleLeaks(p),
    ...processLeaks(p),
  ];
}

/** Whether `pid` is `ancestor` or one of its descendants (walks the parent chain, bounded). */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let i = 0; i < 4096 && pid > 1; i++) {
    if (pid === ancestor) return true;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      return false; // exited while we looked
    }
  }
  return pid === ancestor;
}

/**
 * Keeps the "process:" lines of processes under `ancestor` (other kinds untouched). Meaningful when
 * `ancestor` is a child subreaper (PR_SET_CHILD_SUBREAPER): what its descendants daemonized is
 * reparented to it, so a leaked monitor is still "under" it while other programs' processes are not.
 */
export function onlyUnder(lines: string[], ancestor: number): string[] {
  return lines.filter((l) => {
    const m = /^process: (\d+) /.exec(l);
    return !m || descendsFrom(Number(m[1]), ancestor);
  });
}

/**
 * The leftovers that are not in `before` (a findLeaks() taken earlier): what was made since. A
 * user's containers, the default bridge and its chains that outlive them (as docker0 does) are in
 * `before` and so are not blamed on whatever ran in between.
 */
export function newLeaks(before: readonly string[], pattern: string = DEFAULT_LEAK_PATTERN): string[] {
  const seen = new Set(before);
  return findLeaks(pattern).filter((l) => !seen.has(l));
}

// Usage: leakcheck.ts [--under PID] [PATTERN]                  lists every leftover (exit 1 when any)
//        leakcheck.ts [--under PID] --snapshot FILE [PATTERN]  writes today's leftovers to FILE (exit 0)
//        leakcheck.ts [--under PID] --since FILE [PATTERN]     lists only leftovers not in FILE (exit 1 when any)
// --under PID: processes only if they descend from PID (a child subreaper, as test/run.sh makes itself).
if (import.meta.main) {
  const args = process.argv.slice(2);
  const under = args[0] === "--under" ? Number(args.splice(0, 2)[1]) : undefined;
  if (under !== undefined && !(under > 1)) {
    console.log("leakcheck: --under needs a process id");
    process.exit(2);
  }
  const scope = (lines: string[]) => (under === undefined ? lines : onlyUnder(lines, under));
  const mode = args[0] === "--snapshot" || args[0] === "--since" ? args.shift() : undefined;
  const file = mode ? args.shift() : undefined;
  if (mode && !file) {
    console.log(`leakcheck: ${mode} needs a file`);
    process.exit(2);
  }
  const pattern = args[0] || DEFAULT_LEAK_PATTERN;
  if (mode === "--snapshot") {
    const now = scope(findLeaks(pattern));
    fs.writeFileSync(file!, now.map((l) => `${l}\n`).join(""));
    console.log(`leakcheck: ${now.length} object(s) present before, not counted as leaks`);
    process.exit(0);
  }
  const leaks = scope(
    mode === "--since" ? newLeaks(fs.readFileSync(file!, "utf8").split("\n").filter(Boolean), pattern) : findLeaks(pattern),
  );
  for (const l of leaks) console.log(l);
  if (leaks.length === 0) console.log("leakcheck: nothing left");
  process.exit(leaks.length ? 1 : 0);
}
