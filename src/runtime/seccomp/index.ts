// The seccomp filter a container gets: Docker's default profile compiled for this host. The only
// place here that looks at the host (its architecture and kernel release); the rest is pure.
import os from "node:os";
import { FailedPreconditionError } from "../../errors.ts";
import { compileSeccomp, parseKernelRelease } from "./compile.ts";
import { DEFAULT_PROFILE } from "./profile.ts";
import type { SeccompArch } from "./syscalls.ts";

export { compileInstructions, compileSeccomp, parseKernelRelease, resolveProfile, type CompileOptions } from "./compile.ts";
export { DEFAULT_PROFILE, type SeccompAction, type SeccompProfile, type SyscallRule } from "./profile.ts";
export type { SeccompArch } from "./syscalls.ts";

/** Node's process.arch → the seccomp architecture, or a precondition error on any other host. */
export function seccompArch(nodeArch: string = process.arch): SeccompArch {
  if (nodeArch === "x64") return "x86_64";
  if (nodeArch === "arm64") return "aarch64";
  throw new FailedPreconditionError(`Cannot build a seccomp filter for architecture "${nodeArch}": only x86_64 and aarch64 are supported`);
}

/**
 * Docker's default profile for a container whose bounding set is `caps` (CAP_* names), on this
 * host unless told otherwise. --privileged and seccomp=unconfined mean no filter: the caller
 * simply does not call this.
 */
export function compileDefaultSeccomp(
  caps: Iterable<string>,
  host: { arch?: SeccompArch; kernel?: readonly [number, number] } = {},
): Uint8Array {
  return compileSeccomp(DEFAULT_PROFILE, {
    arch: host.arch ?? seccompArch(),
    caps,
    kernel: host.kernel ?? parseKernelRelease(os.release()),
  });
}
