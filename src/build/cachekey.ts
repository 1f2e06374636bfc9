// Build cache keys: a chain, each step's key the hash of its parent's key, the instruction as it
// ran (expanded arguments, build args in effect) and the content hash of the files it copies. A
// change to any of them changes every key after it. Pure.
import { sha256Digest } from "../image/digest.ts";

export function stepKey(parent: string, createdBy: string, extra: Record<string, string> = {}): string {
  const keys = Object.keys(extra).sort();
  return sha256Digest(JSON.stringify([parent, createdBy, keys.map((k) => [k, extra[k]])]));
}
