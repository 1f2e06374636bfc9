// The cgroups the bench's containers live in: finding the hierarchies, and removing what a runtime
// left (podman never removes its --cgroup-parent, nor conmon's cgroup below it; an interrupted
// `runc run` leaves its own).
import fs from "node:fs";
import path from "node:path";

/** Mount points of every cgroup hierarchy, v1 and v2. */
export function cgroupMounts(): string[] {
  return fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" "))
    .filter((f) => f[2] === "cgroup" || f[2] === "cgroup2")
    .map((f) => f[1]!.replace(/\\(\d{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}

/** A cgroup v1 host with a cgroup2 mount beside it at …/unified: crun 1.8 refuses to run on it. */
export function hybridUnified(): boolean {
  const mounts = fs.readFileSync("/proc/self/mounts", "utf8").split("\n").map((l) => l.split(" "));
  return mounts.some((f) => f[2] === "cgroup") && mounts.some((f) => f[2] === "cgroup2" && f[1] === "/sys/fs/cgroup/unified");
}

/**
 * Removes `names` (paths relative to each hierarchy's root) and everything below them, deepest
 * first, in every hierarchy. A process still inside is one of the bench's containers: it is killed
 * by its PID first. A "tinydock/<id>" name also removes tinydock/ when that leaves it empty, unless
 * `keepParents` (a parent the bench did not make, as podman's libpod_parent).
 */
export async function removeCgroups(names: string[], keepParents = false): Promise<string[]> {
  const failures: string[] = [];
  for (const mount of cgroupMounts()) {
    const parents = new Set<string>();
    for (const name of names) {
      const top = path.join(mount, name);
      if (!fs.existsSync(top)) continue;
      for (const dir of subtree(top)) {
        const err = await removeCgroup(dir);
        if (err) failures.push(err);
      }
      if (name.includes("/") && !keepParents) parents.add(path.join(mount, path.dirname(name)));
    }
    for (const dir of parents) {
      try {
        fs.rmdirSync(dir);
      } catch {
        // another container of another root still uses it
      }
    }
  }
  return failures;
}

/** `top` and the cgroups below it, deepest first. */
function subtree(top: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) if (d.isDirectory()) walk(path.join(dir, d.name));
    out.push(dir);
  };
  walk(top);
  return out;
}

async function removeCgroup(dir: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const pid of pidsIn(dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    try {
      fs.rmdirSync(dir);
      return undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return undefined;
      if (code !== "EBUSY") return `Cannot remove cgroup "${dir}": ${code}`;
    }
    await Bun.sleep(20); // killed tasks take a moment to leave
  }
  return `Cannot remove cgroup "${dir}": EBUSY`;
}

function pidsIn(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
