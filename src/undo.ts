// What a multi-step setup has done, to be undone in reverse if a later step fails: run, start,
// network attach and connect each push one function per step they complete.

/** Runs every step (newest first) and empties the list; a failing step is logged, not thrown. */
export function runUndo(undo: (() => void)[], warn: (message: string) => void, what: string): void {
  for (const fn of undo.reverse()) {
    try {
      fn();
    } catch (err) {
      warn(`${what}: ${(err as Error).message}`);
    }
  }
  undo.length = 0;
}
