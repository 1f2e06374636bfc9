// Docker's default profile compiled once per host and capability set, then read back: compiling
// (with loading the profile and syscall tables) costs 4-6 ms a run, reading an entry back ~0.5 ms.
// The key covers everything the program depends on: the compiler's sources (profile, syscall
// tables and compiler, hashed at build time), the architecture, the kernel release and the
// bounding set. A file that fails any check is ignored and rewritten; the cache never decides what
// a container gets, only skips recomputing it.
import fs from "node:fs";
import path from "node:path";
import { randomHex } from "../../random.ts";
import { BPF_MAXINSNS } from "./bpf.ts";
import type { SeccompArch } from "./syscalls.ts";
import { sourceFingerprint } from "./fingerprint.ts" with { type: "macro" };

const COMPILER: string = sourceFingerprint("profile.ts", "syscalls.ts", "bpf.ts", "compile.ts");
const MAGIC = "tinydock-seccomp-v1";

export interface SeccompHost {
  arch: SeccompArch;
  /** uname -r, whole: a different kernel build gets its own entry. */
  kernelRelease: string;
}

/** Where the compiled programs live, under the storage root. */
export function seccompCacheDir(root: string): string {
  return path.join(root, "cache", "seccomp");
}

export function seccompCacheKey(caps: Iterable<string>, host: SeccompHost): string {
  const names = [...new Set([...caps].map((c) => c.toUpperCase().replace(/^(?!CAP_)/, "CAP_")))].sort();
  return sha256(JSON.stringify([MAGIC, COMPILER, host.arch, host.kernelRelease, names]));
}

/**
 * The default profile's program for a container whose bounding set is `caps`: from the cache under
 * `dir` when a valid entry is there, else compiled and stored (atomically, 0600) for the next run.
 */
export function cachedDefaultSeccomp(dir: string, caps: readonly string[], host: SeccompHost): Uint8Array {
  const key = seccompCacheKey(caps, host);
  const file = path.join(dir, `${key}.bpf`);
  const hit = readEntry(file, key);
  if (hit) return hit;
  const { compileSeccomp, parseKernelRelease } = require("./compile.ts") as typeof import("./compile.ts");
  const { DEFAULT_PROFILE } = require("./profile.ts") as typeof import("./profile.ts");
  const program = compileSeccomp(DEFAULT_PROFILE, { arch: host.arch, caps, kernel: parseKernelRelease(host.kernelRelease) });
  writeEntry(dir, file, key, program);
  return program;
}

function sha256(data: string | Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

function header(key: string, program: Uint8Array): string {
  return `${MAGIC} ${key} ${program.length} ${sha256(program)}\n`;
}

/** The entry's program, or null when it is missing, foreign, truncated or altered. */
function readEntry(file: string, key: string): Uint8Array | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd);
    // Ours alone: a regular file of this user that nobody else may write.
    if (!st.isFile() || st.uid !== process.geteuid?.() || st.mode & 0o022 || st.size > 64 + 2 * 128 + BPF_MAXINSNS * 8) return null;
    const bytes = new Uint8Array(fs.readFileSync(fd));
    const nl = bytes.indexOf(10);
    if (nl < 0) return null;
    const [magic, k, len, digest] = new TextDecoder().decode(bytes.subarray(0, nl)).split(" ");
    const program = bytes.slice(nl + 1);
    const ok =
      magic === MAGIC &&
      k === key &&
      Number(len) === program.length &&
      program.length > 0 &&
      program.length % 8 === 0 &&
      program.length <= BPF_MAXINSNS * 8 &&
      digest === sha256(program);
    return ok ? program : null;
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** temp file + rename, so a reader sees a whole entry or none; a failure only costs the next run. */
function writeEntry(dir: string, file: string, key: string, program: Uint8Array): void {
  const tmp = `${file}.${randomHex(6)}.tmp`;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const head = new TextEncoder().encode(header(key, program));
    const data = new Uint8Array(head.length + program.length);
    data.set(head);
    data.set(program, head.length);
    fs.writeFileSync(tmp, data, { flag: "wx", mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    try {
      fs.unlinkSync(tmp);
    } catch {}
  }
}
