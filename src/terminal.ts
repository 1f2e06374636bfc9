// isatty without loading node:tty at start-up (~3.5 ms for a compiled binary): loaded on first use.
import { NotATerminalError } from "./errors.ts";

export function isTerminal(fd: number): boolean {
  return (require("node:tty") as typeof import("node:tty")).isatty(fd);
}

/** Docker's CheckTty (attach, run -it, exec -it): a terminal container's stdin comes only from a terminal. */
export function checkAttachTty(stdin: boolean, tty: boolean, stdinIsTerminal: boolean): void {
  if (stdin && tty && !stdinIsTerminal) throw new NotATerminalError("the input device is not a TTY");
}
