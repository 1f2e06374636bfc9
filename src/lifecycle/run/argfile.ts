// The files a run reads on the host because its command line names them (--env-file, --label-file):
// read in bounded time and memory. A regular file up to MAX_ARG_FILE bytes; a pipe or FIFO
// (`--env-file <(vault …)`) until its writer closes it, as many bytes, and at once when it has no
// writer; anything else (/dev/zero, a directory, a tty) refused unread.
import fs from "node:fs";
import { InvalidArgumentError } from "../../errors.ts";

export const MAX_ARG_FILE = 16 << 20;

const { O_RDONLY, O_NONBLOCK, O_NOCTTY } = fs.constants;

/** The text of `file`; `what` names it in the one-line refusal ("env file"). */
export function readArgFile(file: string, what: string): string {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`Cannot read ${what} "${file}": ${why}`);
  };
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO does not wait for a writer.
    fd = fs.openSync(file, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  } catch (err) {
    return fail((err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() && !st.isFIFO()) fail(st.isDirectory() ? "is a directory" : "not a regular file");
    if (st.size > MAX_ARG_FILE) fail(`larger than ${MAX_ARG_FILE} bytes`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(Math.max(st.size + 1, 4096), MAX_ARG_FILE + 1 - total));
      let got: number;
      try {
        got = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        // A pipe whose writer has not written yet.
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
        Bun.sleepSync(5);
        continue;
      }
      if (got <= 0) break;
      chunks.push(buf.subarray(0, got));
      total += got;
      if (total > MAX_ARG_FILE) fail(`larger than ${MAX_ARG_FILE} bytes`);
    }
    return Buffer.concat(chunks, total).toString("utf8");
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    return fail((err as NodeJS.ErrnoException).code ?? (err as Error).message);
  } finally {
    fs.closeSync(fd);
  }
}
