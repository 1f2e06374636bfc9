// Reads `strace -f -ttt -T` output into one record per syscall, an interrupted call
// ("<unfinished ...>" … "<... write resumed>") joined into one, and a "+++exit" record per process end.

export interface Syscall {
  pid: number;
  /** When the call started, ms since the epoch. */
  ts: number;
  /** The syscall's name, or "+++exit" when the process ended. */
  name: string;
  /** The rest of the line after "name(", as strace printed it (with -y, fds carry their path: `12</…/cgroup.procs>`). */
  args: string;
  /** The return value as printed ("18175", "-1", "?"); "" for "+++exit". */
  ret: string;
  /** Time spent in the call (-T), ms; 0 when strace printed none. */
  durMs: number;
}

const LINE = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/;
// The return value, an optional errno with its text, then -T's duration.
const TAIL = /\)\s+=\s+(\S+)(?:\s+[A-Z][A-Z0-9_]*\s+\([^)]*\))?(?:\s+\([^)]*\))?\s*(?:<([\d.]+)>)?\s*$/;

export function parseStrace(text: string): Syscall[] {
  const out: Syscall[] = [];
  const pending = new Map<number, { name: string; ts: number; args: string }>();
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const ts = Number(m[2]) * 1000;
    const rest = m[3]!;
    if (rest.startsWith("+++ exited") || rest.startsWith("+++ killed")) {
      out.push({ pid, ts, name: "+++exit", args: rest, ret: "", durMs: 0 });
      continue;
    }
    const unfinished = /^(\w+)\((.*?)\s*<unfinished \.\.\.>$/.exec(rest);
    if (unfinished) {
      pending.set(pid, { name: unfinished[1]!, ts, args: unfinished[2]! });
      continue;
    }
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    if (resumed) {
      const start = pending.get(pid);
      pending.delete(pid);
      if (start && start.name === resumed[1]) out.push(record(pid, start.ts, start.name, start.args + resumed[2]!));
      continue;
    }
    const call = /^(\w+)\((.*)$/.exec(rest);
    if (call) out.push(record(pid, ts, call[1]!, call[2]!)); // else a signal, or "???"
  }
  return out.sort((a, b) => a.ts - b.ts);
}

/** `args` runs to the end of the line: the return value and -T's duration are read from its tail. */
function record(pid: number, ts: number, name: string, args: string): Syscall {
  const tail = TAIL.exec(args);
  // exit_group never returns: "exit_group(0) = ?" has no duration.
  return { pid, ts, name, args, ret: tail?.[1] ?? "?", durMs: tail?.[2] ? Number(tail[2]) * 1000 : 0 };
}
