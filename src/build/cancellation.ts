// A build stops on SIGINT/SIGTERM, or when one of its stages fails: the RUN containers of the
// others are killed and their stages end at their next step.
import { BuildCancelled } from "./request.ts";

export class Cancellation {
  signal: NodeJS.Signals | undefined;
  /** A stage failed: stages running beside it stop at their next step. */
  failed = false;
  readonly kills = new Set<(s: NodeJS.Signals) => void>();
  private handlers: [NodeJS.Signals, () => void][] = (["SIGINT", "SIGTERM"] as const).map((s) => [
    s,
    () => {
      this.signal = s;
      this.killAll();
    },
  ]);

  listen(): void {
    for (const [s, fn] of this.handlers) process.on(s, fn);
  }
  unlisten(): void {
    for (const [s, fn] of this.handlers) process.off(s, fn);
  }
  get stopped(): boolean {
    return this.signal !== undefined || this.failed;
  }
  fail(): void {
    this.failed = true;
    this.killAll();
  }
  check(): void {
    if (this.signal) throw new BuildCancelled(this.signal);
    if (this.failed) throw new BuildCancelled("SIGTERM");
  }
  private killAll(): void {
    for (const k of this.kills) k("SIGKILL");
  }
}
