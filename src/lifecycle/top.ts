// `docker top`: the processes in the container's cgroups, as the host's `ps -ef` shows them
// (UID PID PPID C STIME TTY TIME CMD), read from /proc instead of running ps.
import fs from "node:fs";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import { pidsBelow } from "../runtime/cgroups/cgroupfs.ts";
import { cgroupLocator } from "./cgroupdirs.ts";
import type { LiveContainer } from "./live.ts";
import { fdPath, openProcess, parseProcStat } from "./liveness.ts";
import { checkTransition } from "./state.ts";

const CLK_TCK = 100;

export interface ProcessRow {
  uid: number;
  pid: number;
  ppid: number;
  /** Lifetime CPU use, percent (ps's C). */
  c: number;
  /** Start, ms since the epoch. */
  startMs: number;
  tty: number;
  /** utime + stime, seconds. */
  cpuS: number;
  cmd: string;
}

export const TOP_TITLES = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];

function bootTimeMs(): number {
  const m = /^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"));
  return m ? Number(m[1]) * 1000 : 0;
}

function uptimeS(): number {
  return Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]);
}

/**
 * One process as ps sees it; undefined when it exited meanwhile, or when `inCgroup` says that the
 * process now holding the pid is not the container's (it took the pid of one that exited after the
 * listing). Its files are read through one fd on its /proc directory, bound to that one process.
 */
export function readProcess(pid: number, boot = bootTimeMs(), up = uptimeS(), inCgroup: (cgroupFile: string) => boolean = () => true): ProcessRow | undefined {
  const fd = openProcess(pid, undefined);
  if (fd === undefined) return undefined;
  const dir = fdPath(fd);
  try {
    if (!inCgroup(fs.readFileSync(`${dir}/cgroup`, "utf8"))) return undefined;
    const statText = fs.readFileSync(`${dir}/stat`, "utf8");
    const st = parseProcStat(statText);
    if (!st) return undefined;
    const fields = statText.slice(statText.lastIndexOf(")") + 2).split(" ");
    const uid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(fs.readFileSync(`${dir}/status`, "utf8"))?.[1] ?? 0);
    const argv = fs.readFileSync(`${dir}/cmdline`, "utf8").split("\0").filter((a, i, all) => a !== "" || i < all.length - 1);
    const comm = statText.slice(statText.indexOf("(") + 1, statText.lastIndexOf(")"));
    const cpuS = (st.utime + st.stime) / CLK_TCK;
    const elapsed = up - st.startTime / CLK_TCK;
    return {
      uid,
      pid,
      ppid: st.ppid,
      c: elapsed > 0 ? Math.floor((cpuS / elapsed) * 100) : 0,
      startMs: boot + (st.startTime / CLK_TCK) * 1000,
      tty: Number(fields[4]),
      cpuS,
      cmd: argv.length > 0 ? argv.join(" ") : `[${comm}]`,
    };
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Whether /proc/<pid>/cgroup (`text`) puts the process in one of `dirs` (the container's cgroup
 * directories, absolute) or below one. Pure.
 */
export function inCgroupDirs(text: string, dirs: string[]): boolean {
  for (const line of text.split("\n")) {
    let p = line.slice(line.indexOf(":", line.indexOf(":") + 1) + 1);
    if (!line || !p.startsWith("/")) continue;
    for (; p.length > 1; p = p.slice(0, p.lastIndexOf("/"))) if (dirs.some((d) => d.endsWith(p))) return true;
  }
  return false;
}

function userNames(): Map<number, string> {
  const out = new Map<number, string>();
  try {
    for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length > 2 && !out.has(Number(f[2]))) out.set(Number(f[2]), f[0]!);
    }
  } catch {}
  return out;
}

const two = (n: number) => String(n).padStart(2, "0");
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** ps's columns: STIME "22:04" today else "Nov23"; TIME "[DD-]HH:MM:SS"; TTY "pts/N" or "?". */
export function formatProcess(p: ProcessRow, names: Map<number, string>, now: number): string[] {
  const start = new Date(p.startMs);
  const today = new Date(now).toDateString() === start.toDateString();
  const stime = today ? `${two(start.getHours())}:${two(start.getMinutes())}` : `${MONTHS[start.getMonth()]}${two(start.getDate())}`;
  const t = Math.floor(p.cpuS);
  const days = Math.floor(t / 86400);
  const time = `${days > 0 ? `${days}-` : ""}${two(Math.floor((t % 86400) / 3600))}:${two(Math.floor((t % 3600) / 60))}:${two(t % 60)}`;
  const major = (p.tty >> 8) & 0xfff;
  const minor = (p.tty & 0xff) | ((p.tty >> 12) & 0xfff00);
  const tty = p.tty === 0 ? "?" : major === 136 ? `pts/${minor}` : `tty${minor}`;
  const name = names.get(p.uid);
  const user = name !== undefined && name.length <= 8 ? name : String(p.uid);
  return [user, String(p.pid), String(p.ppid), String(p.c), stime, tty, time, p.cmd];
}

/**
 * Docker's way with `top C [ps OPTIONS]`: the host's ps with those options, keeping the lines whose
 * PID column names a process of the container. Pure over ps's output.
 */
export function filterPsOutput(output: string, pids: Set<number>, options: string): { titles: string[]; processes: string[][] } {
  const lines = output.split("\n").filter((l) => l.trim() !== "");
  const titles = (lines[0] ?? "").trim().split(/\s+/);
  const pidIndex = titles.indexOf("PID");
  if (pidIndex < 0) throw new InvalidArgumentError(`Cannot use ps options "${options}": ps printed no PID column`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!pids.has(Number(fields[pidIndex]))) continue;
    // The last column (the command) keeps its spaces.
    processes.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(" ")]);
  }
  return { titles, processes };
}

export function topContainer(ctx: Ctx, c: LiveContainer, psArgs: string[] = []): { titles: string[]; processes: string[][] } {
  checkTransition(c.state.Status, "top", c.record.id);
  const dirs = cgroupLocator(ctx.cgroupRoot).dirs(c.record.id, c.record.cgroupPath);
  const pids = [...new Set(dirs.flatMap((d) => pidsBelow(d)))].sort((a, b) => a - b);
  if (psArgs.length > 0) {
    const r = Bun.spawnSync(["ps", ...psArgs], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new InvalidArgumentError(`Cannot run ps ${psArgs.join(" ")}: ${r.stderr.toString().trim() || `exit status ${r.exitCode}`}`);
    return filterPsOutput(r.stdout.toString(), new Set(pids), psArgs.join(" "));
  }
  const boot = bootTimeMs();
  const up = uptimeS();
  const names = userNames();
  const now = ctx.clock();
  const processes = pids.map((p) => readProcess(p, boot, up, (text) => inCgroupDirs(text, dirs))).filter((p): p is ProcessRow => p !== undefined).map((p) => formatProcess(p, names, now));
  return { titles: TOP_TITLES, processes };
}
