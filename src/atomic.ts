// Atomic file writes: temp file in the same directory, fsync, rename. A reader sees the old file
// or the new one, never a torn one — also after SIGKILL or power loss.
import fs from "node:fs";
import path from "node:path";

/**
 * `durable: false` skips both fsyncs: still never torn for a reader (temp file + rename), but after a
 * power loss the file may be missing or empty — for records that matter only while this process lives.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600, durable = true): void {
  const { fd, tmp } = writeTemp(file, data, mode);
  try {
    if (durable) fs.fsyncSync(fd);
  } catch (err) {
    dropTemp(fd, tmp);
    throw err;
  }
  publish(fd, tmp, file);
  if (durable) fsyncDir(path.dirname(file));
}

/** writeFileAtomic, durable, with its fsyncs on the thread pool: this thread goes on meanwhile. */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const { fd, tmp } = writeTemp(file, data, mode);
  try {
    await fsyncOnPool(fd);
  } catch (err) {
    dropTemp(fd, tmp);
    throw err;
  }
  publish(fd, tmp, file);
  await fsyncDirAsync(path.dirname(file));
}

/** `data` in a new temp file beside `file`, still open. */
function writeTemp(file: string, data: string | Uint8Array, mode: number): { fd: number; tmp: string } {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
  try {
    fs.writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
  } catch (err) {
    dropTemp(fd, tmp);
    throw err;
  }
  return { fd, tmp };
}

function dropTemp(fd: number, tmp: string): void {
  fs.closeSync(fd);
  fs.rmSync(tmp, { force: true });
}

/** Closes the temp file and renames it over `file`. */
function publish(fd: number, tmp: string, file: string): void {
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsyncDir on the thread pool, for callers with other work to do on this thread meanwhile. */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    await fsyncOnPool(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsync(2) on Bun's thread pool (node:fs's callback form). */
export function fsyncOnPool(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** pwrite(2) on Bun's thread pool (node:fs's callback form); the bytes it wrote. */
export function writeOnPool(fd: number, bytes: Uint8Array, off: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, bytes, off, bytes.length - off, position, (err, n) => (err ? reject(err) : resolve(n))));
}

/** The names in a directory; none when it is missing or cannot be read. */
export function dirNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
