// The cgroupfs operations v1.ts and v2.ts share: apply a plan of writes, read control files,
// create and remove cgroup directories (kill.ts kills what is inside). Only node:fs, so unit tests run them
// on a plain temp directory laid out like a kernel's cgroupfs.
import fs from "node:fs";
import path from "node:path";
import { errnoCode, FailedPreconditionError, SyscallError } from "../../errors.ts";
import { DEFAULT_SETTLE_MS, type CgroupWrite } from "./cgroup.ts";
import { parsePidList } from "./files.ts";

function syscallError(operation: string, err: unknown): Error {
  const code = errnoCode(err);
  if (!code) return err as Error;
  const errno = Math.abs(Number((err as { errno?: number }).errno) || 0);
  return new SyscallError(operation, errno, code);
}

/** Write one value the way `echo -n value > file` does, never creating the file (cgroupfs can't). */
export function writeControl(file: string, value: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
  } catch (err) {
    throw syscallError(`open ${file} to write "${value}"`, err);
  }
  try {
    fs.writeSync(fd, value);
  } catch (err) {
    throw syscallError(`write "${value}" to ${file}`, err);
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's text, or undefined when it does not exist (a controller not mounted or enabled). */
export function readControl(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ENODEV") return undefined;
    throw syscallError(`read ${file}`, err);
  }
}

/**
 * Makes a coming cgroup migration cheap; best effort, returns at once. The kernel's first migration
 * after an idle spell (a write to any cgroup.procs, v1 or v2) waits out an RCU grace period (6-14 ms
 * here) before it moves anything, and the migrations within about one grace period after it do not.
 * So this process moves itself into the cgroup it is already in (`ownProcs`, a no-op) from Bun's
 * thread pool, as soon as the container's cgroup directories exist (the wait holds the cgroup mutex
 * that mkdir needs): it then passes while the limits, the container's directory, network and plan
 * are made, and the init's join, a few ms later, takes the fast path.
 */
export function primeJoin(ownProcs: string | null): void {
  if (ownProcs) fs.writeFile(ownProcs, String(process.pid), { flag: "r+" }, () => {});
}

export function exists(p: string): boolean {
  return fs.existsSync(p);
}

/** Applies a plan in order; writes marked ifMissing are skipped (with their warning) when absent. */
export function applyWrites(writes: CgroupWrite[]): string[] {
  const warnings: string[] = [];
  // A control file takes each write(2) as one value (kernfs), so the rules of devices.allow share one open.
  const open = new Map<string, number>();
  try {
    for (const w of writes) {
      if (w.ifMissing !== undefined && !fs.existsSync(w.file)) {
        if (!warnings.includes(w.ifMissing)) warnings.push(w.ifMissing);
        continue;
      }
      let fd = open.get(w.file);
      if (fd === undefined) {
        try {
          fd = fs.openSync(w.file, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
        } catch (err) {
          throw syscallError(`open ${w.file} to write "${w.value}"`, err);
        }
        open.set(w.file, fd);
      }
      try {
        fs.writeSync(fd, w.value, 0);
      } catch (err) {
        throw syscallError(`write "${w.value}" to ${w.file}`, err);
      }
    }
  } finally {
    for (const fd of open.values()) fs.closeSync(fd);
  }
  return warnings;
}

/** mkdir -p, retrying when a concurrent destroy() removes the empty parent between the two mkdirs. */
export function makeCgroupDir(dir: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      return;
    } catch (err) {
      if (errnoCode(err) === "ENOENT" && attempt < 5) continue;
      throw syscallError(`mkdir ${dir}`, err);
    }
  }
}

function subdirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => path.join(dir, d.name));
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return [];
    throw syscallError(`readdir ${dir}`, err);
  }
}

/** Names of the cgroups directly below dir (none when dir does not exist). */
export function childCgroups(dir: string): string[] {
  return subdirs(dir).map((d) => path.basename(d));
}

/** Every pid in dir/cgroup.procs and in the cgroups below it. */
export function pidsBelow(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    const text = readControl(path.join(d, "cgroup.procs"));
    if (text !== undefined) out.push(...parsePidList(text, path.join(d, "cgroup.procs")));
    for (const s of subdirs(d)) walk(s);
  };
  walk(dir);
  return out;
}

/** Waits (briefly) until read() returns want: a v1 freezer settling in FROZEN, a v2 cgroup.events. */
export function waitFor(read: () => string | undefined, want: (v: string | undefined) => boolean, budgetMs = 1_000): boolean {
  const deadline = Date.now() + budgetMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (want(read())) return true;
    if (Date.now() >= deadline) return false;
    Bun.sleepSync(delay);
  }
}

/**
 * rmdir a cgroup and the cgroups below it, deepest first, retrying EBUSY (tasks still exiting)
 * until the time is up. cgroupfs never answers ENOTEMPTY (its control files go with the directory);
 * a plain directory standing in for it in tests does, and then its files are removed first.
 */
export function removeCgroupDir(dir: string, budgetMs = DEFAULT_SETTLE_MS): void {
  for (const s of subdirs(dir)) removeCgroupDir(s, budgetMs);
  const deadline = Date.now() + budgetMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === "ENOENT") return;
      if (code === "ENOTEMPTY" && subdirs(dir).length === 0) {
        removePlainFiles(dir);
        fs.rmdirSync(dir);
        return;
      }
      if (code === "EBUSY" && Date.now() < deadline) {
        Bun.sleepSync(delay);
        continue;
      }
      if (code === "EBUSY") {
        const left = pidsBelow(dir);
        throw new FailedPreconditionError(
          `Cannot remove cgroup ${dir}: still busy${left.length ? ` with pids ${left.join(" ")}` : ""}`,
          { cause: syscallError(`rmdir ${dir}`, err) },
        );
      }
      throw syscallError(`rmdir ${dir}`, err);
    }
  }
}

/** rmdir tinydock/ once the last container's cgroup is gone; another container's keeps it (EBUSY). */
export function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOTEMPTY" && subdirs(dir).length === 0) {
      removePlainFiles(dir);
      try {
        fs.rmdirSync(dir);
      } catch {}
      return;
    }
    if (code === "ENOENT" || code === "EBUSY" || code === "ENOTEMPTY") return;
    throw syscallError(`rmdir ${dir}`, err);
  }
}

/** Only ever reached on a plain directory standing in for cgroupfs: its "control files" go first. */
function removePlainFiles(dir: string): void {
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!d.isDirectory()) fs.unlinkSync(path.join(dir, d.name));
  }
}
