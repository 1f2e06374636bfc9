// --sysctl: net.* keys written in the container's network namespace before its process starts when
// that namespace is a file tinydock made (bridge and user networks); the others (IPC and UTS keys,
// net.* with --network none, whose namespace the clone makes) go into the plan, for the init to
// write between its namespaces' making and the rootfs (init/child.c write_sysctls).
import type { Ctx } from "../../context.ts";
import { errnoCode, FailedPreconditionError, InvalidArgumentError } from "../../errors.ts";
import type { NetworkSettingsRecord } from "../../network/local.ts";
import type { RunPlan } from "../../runtime/plan.ts";
import { sysctlPath, type Sysctl } from "../../runtime/sysctl.ts";

/** Which keys the init writes (the plan's) and which are written now, in the network's namespace file. */
export function splitSysctls(sysctls: Sysctl[], network: { mode: string; netnsPath?: string | null }): { now: Sysctl[]; init: Sysctl[] } {
  const now = sysctls.filter((s) => s.ns === "net" && network.mode !== "none");
  return { now, init: sysctls.filter((s) => !now.includes(s)) };
}

export function applySysctls(ctx: Ctx, sysctls: Sysctl[], network: NetworkSettingsRecord, plan: RunPlan): void {
  const { now, init } = splitSysctls(sysctls, network);
  if (init.length) plan.sysctls = init.map((s) => ({ path: sysctlPath(s.key), value: s.value }));
  if (!now.length) return;
  const netns = network.netnsPath;
  if (!netns) throw new FailedPreconditionError(`Cannot set sysctl "${now[0]!.key}": the network mode "${network.mode}" has no network namespace of the container's own`);
  for (const s of now) {
    try {
      ctx.sys.writeInNetns(netns, sysctlPath(s.key), s.value);
    } catch (err) {
      const code = errnoCode(err) ?? (err as Error).message;
      throw new InvalidArgumentError(`Cannot set sysctl "${s.key}=${s.value}": ${code === "ENOENT" ? "no such sysctl" : code}`, { cause: err });
    }
  }
}
