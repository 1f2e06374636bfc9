// Host objects the adversarial tests watch: a loop device over a file of the test's own (what a
// write through a planted device node would change), and the mounts left under a directory.
import fs from "node:fs";

/** `file` written with `content`, then attached to a free loop device; its path (/dev/loopN). */
export function attachLoop(file: string, content: Uint8Array = Buffer.alloc(1 << 20)): string {
  fs.writeFileSync(file, content);
  const lo = Bun.spawnSync(["losetup", "-f", "--show", file], { stdout: "pipe", stderr: "pipe" });
  if (lo.exitCode !== 0) throw new Error(`losetup ${file}: ${lo.stderr.toString().trim()}`);
  return lo.stdout.toString().trim();
}

export function detachLoop(dev: string): void {
  if (dev) Bun.spawnSync(["losetup", "-d", dev]);
}

/** This host's mountinfo lines naming `dir` (none once a test cleaned up). */
export function mountsUnder(dir: string): string[] {
  return dir ? fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(dir)) : [];
}
