// Scratch entries under <root>/tmp (an export's read-only overlay, a load's spool, a build's upper
// dir, a layer being gzipped) are named <kind>-<pid>-<random>: a process killed while it used one
// leaves it behind, and reconcile removes every entry whose process is gone, its mounts first.
import fs from "node:fs";
import path from "node:path";

/** The name prefix of this process's scratch entries of `kind`. */
export function scratchPrefix(kind: string): string {
  return `${kind}-${process.pid}-`;
}

/** A new private directory `<tmpDir>/<kind>-<pid>-XXXXXX`. */
export function scratchDir(tmpDir: string, kind: string): string {
  fs.mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  return fs.mkdtempSync(path.join(tmpDir, scratchPrefix(kind)));
}

export function pidAlive(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0 && fs.existsSync(`/proc/${pid}`);
}

/** Paths of the entries of `tmpDir` whose process is gone. Entries not named by a pid are left alone. */
export function staleScratch(tmpDir: string, alive: (pid: number) => boolean = pidAlive): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(tmpDir);
  } catch {}
  const out: string[] = [];
  for (const n of names) {
    const m = /^[a-z]+-(\d+)-./.exec(n);
    if (m && !alive(Number(m[1]))) out.push(path.join(tmpDir, n));
  }
  return out.sort();
}
