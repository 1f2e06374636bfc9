// isatty without loading node:tty at start-up (~3.5 ms for a compiled binary): loaded on first use.

export function isTerminal(fd: number): boolean {
  return (require("node:tty") as typeof import("node:tty")).isatty(fd);
}
