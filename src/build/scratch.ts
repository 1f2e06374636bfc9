// Everything a build made that must go whatever happens: temp dirs, records, containers, mounts.
export class Scratch {
  private undo: (() => void | Promise<void>)[] = [];
  add(fn: () => void | Promise<void>): void {
    this.undo.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.undo.reverse()) {
      try {
        await fn();
      } catch {}
    }
    this.undo = [];
  }
}
