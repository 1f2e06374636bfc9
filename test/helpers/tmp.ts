// A temp directory for each test: made (its real path) before the test, removed after it.
import { afterEach, beforeEach } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Before each test of the file (or of the describe block it is called in) a fresh directory under
 * the system temp dir, named from `prefix`, with `subdirs` made in it; `ready` gets its path and the
 * subdirectories' paths in order. Removed after each test.
 */
export function tempDirEach(prefix: string, subdirs: string[], ready: (dir: string, ...subs: string[]) => void): void {
  let dir = "";
  beforeEach(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
    const subs = subdirs.map((s) => path.join(dir, s));
    for (const s of subs) fs.mkdirSync(s);
    ready(dir, ...subs);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
}
