// Runs at build time only, as a Bun macro (`with { type: "macro" }`): a hash of the seccomp
// compiler's own sources, so that a cached program never outlives the code that compiled it.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** sha256 (hex, 32 digits) of the named files beside this one, in order. */
export function sourceFingerprint(...files: string[]): string {
  const hash = createHash("sha256");
  for (const f of files) {
    hash.update(`${f}\0`);
    hash.update(fs.readFileSync(path.join(import.meta.dir, f)));
  }
  return hash.digest("hex").slice(0, 32);
}
