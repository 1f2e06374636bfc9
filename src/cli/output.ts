// stdout/stderr writes without Node's stream objects: building process.stdout costs ~9 ms of a
// compiled binary's start, more than most commands' own work. Writes go straight to the fd; only
// when it is non-blocking and full (EAGAIN) does the rest go through the stream, which queues it —
// from then on everything does, so the order stays. A closed reader (EPIPE) ends the output quietly,
// as `tinydock ps | head -1` expects.
import fs from "node:fs";

export function fdWriter(fd: 1 | 2): (text: string) => void {
  let viaStream = false;
  let closed = false;
  return (text) => {
    if (closed || text === "") return;
    if (viaStream) {
      (fd === 1 ? process.stdout : process.stderr).write(text);
      return;
    }
    const buf = Buffer.from(text);
    let off = 0;
    try {
      while (off < buf.length) off += fs.writeSync(fd, buf, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EPIPE") {
        closed = true;
        return;
      }
      if (code !== "EAGAIN") throw err;
      viaStream = true;
      (fd === 1 ? process.stdout : process.stderr).write(buf.subarray(off));
    }
  };
}

/** How long the reader of a binary STDOUT may take nothing before the write gives up. */
const BINARY_STALL_MS = 10 * 60 * 1000;

/**
 * Binary output (an archive) to `fd`, awaited piece by piece: STDOUT may be a non-blocking pipe,
 * so a full one is waited for, but not forever.
 */
export function binaryWriter(fd: number): (bytes: Uint8Array) => Promise<void> {
  return async (bytes) => {
    let off = 0;
    let waitedMs = 0;
    while (off < bytes.length) {
      try {
        off += fs.writeSync(fd, bytes, off, bytes.length - off);
        waitedMs = 0;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN" || waitedMs > BINARY_STALL_MS) throw err;
        await Bun.sleep(2);
        waitedMs += 2;
      }
    }
  };
}

/**
 * An archive to `output` (written beside it, then renamed: a failure leaves no half file) or to
 * STDOUT, never to a terminal.
 */
export async function writeArchive(output: string | undefined, stdoutTty: boolean, produce: (write: (bytes: Uint8Array) => Promise<void>) => Promise<void>): Promise<void> {
  if (output === undefined && stdoutTty) {
    const { InvalidArgumentError } = await import("../errors.ts");
    throw new InvalidArgumentError("Cannot write to a terminal: the archive is binary (use -o FILE or redirect STDOUT)");
  }
  const tmp = output === undefined ? undefined : `${output}.tmp-${process.pid}`;
  const fd = tmp === undefined ? 1 : fs.openSync(tmp, "w", 0o644);
  try {
    await produce(binaryWriter(fd));
    if (tmp !== undefined) fs.renameSync(tmp, output!);
  } finally {
    if (tmp !== undefined) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
    }
  }
}
