// --sysctl: net.* keys written in the container's network namespace before its process starts
// (the namespace is a file tinydock made: bridge and user networks). The IPC and UTS keys would
// need the init to write them between its unshare and its exec; they are refused at parse time.
import type { Ctx } from "../../context.ts";
import { errnoCode, FailedPreconditionError, InvalidArgumentError } from "../../errors.ts";
import type { NetworkSettingsRecord } from "../../network/local.ts";
import { sysctlPath, type Sysctl } from "../../runtime/sysctl.ts";

/** What can be applied: refused before anything is made. */
export function checkApplicableSysctls(sysctls: Sysctl[]): void {
  for (const s of sysctls) {
    if (s.ns !== "net") throw new InvalidArgumentError(`Cannot set sysctl "${s.key}": only net.* sysctls are supported`);
  }
}

export function applySysctls(ctx: Ctx, sysctls: Sysctl[], network: NetworkSettingsRecord): void {
  const netns = network.netnsPath;
  if (!netns) throw new FailedPreconditionError(`Cannot set sysctl "${sysctls[0]!.key}": the network mode "${network.mode}" has no network namespace of the container's own`);
  for (const s of sysctls) {
    try {
      ctx.sys.writeInNetns(netns, sysctlPath(s.key), s.value);
    } catch (err) {
      const code = errnoCode(err) ?? (err as Error).message;
      throw new InvalidArgumentError(`Cannot set sysctl "${s.key}=${s.value}": ${code === "ENOENT" ? "no such sysctl" : code}`, { cause: err });
    }
  }
}
