// podman's `run/create --replace`: a container already holding --name is removed (forcibly, as
// podman does) before the new one is made. Here, ahead of the run, so the run path is untouched.
import type { Ctx } from "../../context.ts";

export async function replaceNamed(ctx: Ctx, argv: Record<string, unknown>): Promise<void> {
  if (argv.replace !== true) return;
  if (typeof argv.name !== "string" || argv.name === "") {
    const { UsageError } = await import("../usage.ts");
    throw new UsageError("cannot replace container without --name being set");
  }
  const { listContainers } = await import("../../store/containers.ts");
  const old = listContainers(ctx.root).find((c) => c.name === argv.name);
  if (!old) return;
  const { readLive } = await import("../../lifecycle/live.ts");
  const { removeContainer } = await import("../../lifecycle/remove.ts");
  const { isKind } = await import("../../errors.ts");
  try {
    await removeContainer(ctx, readLive(ctx, old), { force: true });
  } catch (err) {
    if (!isKind(err, "NotFound")) throw err; // gone meanwhile: the name is free
  }
}
