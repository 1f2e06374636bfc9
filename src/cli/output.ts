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
