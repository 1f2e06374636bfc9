// The build's own input files, the Dockerfile and .dockerignore: regular files only, read bounded
// (a FIFO or a device named by -f neither blocks nor streams for ever), and those of the context
// resolved inside it, so one that is a link to a host file is not read (as BuildKit sends only the
// context's own files).
import fs from "node:fs";
import path from "node:path";
import { InvalidArgumentError } from "../errors.ts";
import { FileTooLargeError, IN_ROOT, NotRegularFileError, O_CLOEXEC, readFileAt } from "../rootfs/beneath.ts";
import type { Sys } from "../sys/sys.ts";

/** The largest Dockerfile or .dockerignore read: far above any real one. */
export const MAX_BUILD_FILE = 16 << 20;

function readBounded(sys: Sys, dir: string, rel: string, resolve: number, what: string): string | undefined {
  const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
  try {
    return readFileAt(sys, dirFd, rel, MAX_BUILD_FILE, resolve);
  } catch (err) {
    if (err instanceof NotRegularFileError) throw new InvalidArgumentError(`Cannot build: ${what} is ${err.what}, not a regular file`, { cause: err });
    if (err instanceof FileTooLargeError) throw new InvalidArgumentError(`Cannot build: ${what} is over ${MAX_BUILD_FILE} bytes`, { cause: err });
    if ((err as NodeJS.ErrnoException).code === "ELOOP") return undefined;
    throw err;
  } finally {
    fs.closeSync(dirFd);
  }
}

/** File `rel` of the context (links followed inside it only); undefined when it has none. */
export function readContextFile(sys: Sys, contextDir: string, rel: string): string | undefined {
  return readBounded(sys, contextDir, rel, IN_ROOT, `the context's ${rel}`);
}

/** The file -f names, wherever it is (as Docker reads it); undefined when there is none. */
export function readFileArg(sys: Sys, file: string): string | undefined {
  const abs = path.resolve(file);
  let dir: string;
  try {
    dir = fs.realpathSync(path.dirname(abs));
  } catch {
    return undefined;
  }
  return readBounded(sys, dir, path.basename(abs), 0, `"${file}"`);
}
