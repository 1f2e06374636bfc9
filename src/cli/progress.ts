// Pull progress: Docker-style bars redrawn in place on a terminal, one plain line per phase when
// stderr/stdout is piped (CI logs stay readable).
import { humanSize } from "./format.ts";

/** A pull's LayerProgress or a push's PushProgress: "Downloading" and "Pushing" carry a bar. */
export interface ProgressEvent {
  id: string;
  phase: string;
  current?: number;
  total?: number;
}

export interface ProgressView {
  layers(ids: string[]): void;
  update(p: ProgressEvent): void;
  done(): void;
}

/** `first`: each layer's line before anything happens to it ("Preparing" for a push). */
export function progressView(out: NodeJS.WriteStream, tty: boolean, quiet: boolean, first = "Pulling fs layer"): ProgressView {
  if (quiet) return { layers() {}, update() {}, done() {} };
  if (!tty) {
    const last = new Map<string, string>();
    return {
      layers(ids) {
        for (const id of ids) out.write(`${id}: ${first}\n`);
      },
      update(p) {
        if (p.phase === "Downloading" || p.phase === "Pushing" || p.phase === "Waiting" || last.get(p.id) === p.phase) return;
        last.set(p.id, p.phase);
        out.write(`${p.id}: ${p.phase === "Verifying" ? "Verifying Checksum" : p.phase}\n`);
      },
      done() {},
    };
  }
  const order: string[] = [];
  const lines = new Map<string, string>();
  let drawn = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const draw = () => {
    timer = undefined;
    let s = drawn ? `\x1b[${drawn}A` : "";
    for (const id of order) s += `\x1b[2K${id}: ${lines.get(id) ?? ""}\n`;
    drawn = order.length;
    out.write(s);
  };
  const schedule = () => {
    timer ??= setTimeout(draw, 50);
  };
  return {
    layers(ids) {
      for (const id of ids) {
        if (!lines.has(id)) order.push(id);
        lines.set(id, first);
      }
      draw();
    },
    update(p) {
      if (!lines.has(p.id)) order.push(p.id);
      if ((p.phase === "Downloading" || p.phase === "Pushing") && p.total) {
        const width = 50;
        const filled = Math.min(width, Math.floor(((p.current ?? 0) / p.total) * width));
        const bar = `[${"=".repeat(Math.max(0, filled - 1))}${filled ? ">" : ""}${" ".repeat(width - filled)}]`;
        lines.set(p.id, `${p.phase} ${bar} ${humanSize(p.current ?? 0)}/${humanSize(p.total)}`);
      } else {
        lines.set(p.id, p.phase === "Verifying" ? "Verifying Checksum" : p.phase);
      }
      schedule();
    },
    done() {
      if (timer) clearTimeout(timer);
      draw();
    },
  };
}
