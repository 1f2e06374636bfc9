// --ipc shareable: /dev/shm is a tmpfs on the host, in the container's directory, bind-mounted into
// it and into the containers run with --ipc container:<it>, as Docker mounts its ShmPath. It goes
// with the container's other mounts (remove.ts unmountContainer) and start mounts it again.
import fs from "node:fs";
import type { Ctx } from "../../context.ts";
import { isMountPoint, unmount } from "../../rootfs/mount.ts";
import type { RunPlan } from "../../runtime/plan.ts";
import { containerPaths } from "../../store/containers.ts";
import { MS } from "../../sys/sys.ts";
import { DEFAULT_SHM_SIZE } from "../docker-config.ts";
import { bindShm, donorShm, shareableShm, type ResolveShm } from "./namespaces.ts";

/** The tmpfs at containers/<id>/shm, unless it is there already; `bytes` its size (--shm-size). */
export function mountShareableShm(ctx: Ctx, dir: string, bytes = DEFAULT_SHM_SIZE): string {
  const target = shareableShm(dir);
  if (isMountPoint(target)) return target;
  fs.mkdirSync(target, { recursive: true });
  ctx.sys.mount("shm", target, "tmpfs", MS.NOSUID | MS.NODEV | MS.NOEXEC, `mode=1777,size=${bytes}`);
  return target;
}

/** A new container's shareable /dev/shm, mounted and put in its plan; the undo unmounts it. */
export function shareShm(ctx: Ctx, plan: RunPlan, dir: string, bytes: number | undefined, undo: (() => void)[]): void {
  const target = mountShareableShm(ctx, dir, bytes);
  undo.push(() => unmount(ctx.sys, target));
  bindShm(plan, target);
}

/** --ipc container:NAME: what that container shares as /dev/shm (run/namespaces.ts donorShm). */
export async function shmResolver(ctx: Ctx): Promise<ResolveShm> {
  const { findLive } = await import("../live.ts");
  const resolve = (ref: string, depth: number): string | null => {
    const c = findLive(ctx, ref);
    return donorShm(ref, c.record, containerPaths(ctx.root, c.record.id).dir, (next) => (depth < 8 ? resolve(next, depth + 1) : null));
  };
  return (ref) => resolve(ref, 0);
}
