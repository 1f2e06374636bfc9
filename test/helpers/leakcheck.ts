// Lists what tinydock or its tests left in the kernel: mounts, cgroups, links, netns, firewall
// rules, processes. Tests call findLeaks(); test/leakcheck.sh runs this file as a command.
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

function cgroupLeaks(pattern: string): string[] {
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
  return [...found].sort().map((p) => `cgroup: ${p}`);
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

function processLeaks(pattern: string): string[] {
  const skip = selfAndAncestors();
  const out: string[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || skip.has(Number(name))) continue;
    let args: string;
    try {
      args = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    } catch {
      continue; // exited
    }
    if (!args || !args.toLowerCase().includes(pattern) || args.includes("leakcheck")) continue;
    out.push(`process: ${name} ${args}`);
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
